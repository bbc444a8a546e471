"""Golden values for the CBPE and realized-performance parity tests (test/stats/cbpe.test.ts).

Runs NannyML 0.13.1 (tools/nannyml/requirements.txt) on its own shipped datasets, the binary
synthetic car loan and the multiclass synthetic credit-card data, and writes for each:
  test/fixtures/nannyml/<name>.csv.gz  the model outputs and targets the estimator sees (file order)
  test/fixtures/nannyml/<name>.json    every chunk's values, with the exact call beside them
  test/fixtures/nannyml/<name>-stable-sort.json  the same with numpy's argsort made stable where
      NannyML sorts probabilities (see stable_sorts below): NannyML sorts with the default unstable
      argsort, whose order among tied probabilities is unspecified (SIMD sort on x86), so exact
      parity is only possible against this variant wherever ties matter

  python tools/nannyml/generate.py
"""

import gzip
import json
import os

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")  # NannyML phones home otherwise
import sys

import numpy as np
import nannyml as nml
import pandas as pd
import sklearn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "test", "fixtures", "nannyml")
METRICS = ["roc_auc", "f1", "accuracy"]
REALIZED = ["roc_auc", "f1", "precision", "recall", "accuracy"]


STABLE_SORT_PATCH = (
    "numpy argsort made stable (kind='stable') in nannyml.calibration._calculate_expected_calibration_error, "
    "nannyml.sampling_error.{binary,multiclass}_classification.auroc_sampling_error_components and "
    "nannyml.performance_estimation.confidence_based.metrics.estimate_roc_auc (tools/nannyml/generate.py stable_sorts)"
)


class _StableNumpy:
    """numpy, except that argsort defaults to a stable sort."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def argsort(a, *args, **kwargs):
        kwargs.setdefault("kind", "stable")
        return np.argsort(a, *args, **kwargs)


def stable_sorts():
    import nannyml.calibration as calibration
    import nannyml.performance_estimation.confidence_based.metrics as metrics
    import nannyml.sampling_error.binary_classification as bse
    import nannyml.sampling_error.multiclass_classification as mse

    for module in (bse, mse, metrics):
        module.np = _StableNumpy()

    def ece(y_true, y_pred_proba, bin_index_edges):  # calibration._calculate_expected_calibration_error, stable sort
        terms = []
        y_pred_proba, y_true = np.asarray(y_pred_proba), np.asarray(y_true)
        sort_index = y_pred_proba.argsort(kind="stable")
        y_pred_proba = y_pred_proba[sort_index]
        y_true = y_true[sort_index]
        for left_edge, right_edge in bin_index_edges:
            bin_proba = y_pred_proba[left_edge:right_edge]
            bin_true = y_true[left_edge:right_edge]
            terms.append(len(bin_proba) / len(y_pred_proba) * abs(np.mean(bin_proba) - np.mean(bin_true)))
        return np.sum(terms)

    calibration._calculate_expected_calibration_error = ece


def chunks_of(result, metric, period):
    df = result.filter(period=period).to_df()
    rows = []
    for _, r in df.iterrows():
        rec = {"start": int(r[("chunk", "start_index")]), "end": int(r[("chunk", "end_index")])}
        for field in ["value", "sampling_error", "realized", "upper_confidence_boundary", "lower_confidence_boundary", "upper_threshold", "lower_threshold", "alert"]:
            key = (metric, field)
            if key in df.columns:
                v = r[key]
                rec[field] = None if v is None or (isinstance(v, float) and np.isnan(v)) else (bool(v) if field == "alert" else float(v))
        rows.append(rec)
    return rows


def realized_chunks(result, metric):
    df = result.filter(period="analysis").to_df()
    return [{"start": int(r[("chunk", "start_index")]), "end": int(r[("chunk", "end_index")]), "value": float(r[(metric, "value")])} for _, r in df.iterrows()]


def run(name, reference, analysis, y_true, y_pred_proba, y_pred, problem_type, chunk_size, classes=None, patch=None):
    cbpe_call = f"nml.CBPE(y_pred_proba={y_pred_proba!r}, y_pred={y_pred!r}, y_true={y_true!r}, problem_type={problem_type!r}, metrics={METRICS!r}, chunk_size={chunk_size}).fit(reference).estimate(analysis)"
    estimator = nml.CBPE(y_pred_proba=y_pred_proba, y_pred=y_pred, y_true=y_true, problem_type=problem_type, metrics=METRICS, chunk_size=chunk_size)
    estimator.fit(reference.copy())
    estimated = estimator.estimate(analysis.copy())
    calc_call = f"nml.PerformanceCalculator(y_pred_proba={y_pred_proba!r}, y_pred={y_pred!r}, y_true={y_true!r}, problem_type={problem_type!r}, metrics={REALIZED!r}, chunk_size={chunk_size}).fit(reference).calculate(analysis)"
    calc = nml.PerformanceCalculator(y_pred_proba=y_pred_proba, y_pred=y_pred, y_true=y_true, problem_type=problem_type, metrics=REALIZED, chunk_size=chunk_size)
    calc.fit(reference.copy())
    realized = calc.calculate(analysis.copy())

    if classes is None:
        calibrated = [bool(estimator.needs_calibration)]
        calibration_call = "estimator.needs_calibration"
    else:
        calibrated = [not isinstance(estimator._calibrators[c], nml.calibration.NoopCalibrator) for c in classes]
        calibration_call = "[not isinstance(estimator._calibrators[c], NoopCalibrator) for c in sorted(classes)]"

    golden = {
        "nannyml": nml.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "data": f"{name}.csv.gz: the columns below of NannyML's shipped dataset, reference rows then analysis rows (analysis targets merged by id), in file order",
        "patch": patch,
        "chunk_size": chunk_size,
        "reference_rows": len(reference),
        "analysis_rows": len(analysis),
        "classes": classes,
        "calibrated": {"call": calibration_call, "value": calibrated},
        "cbpe": {
            "call": cbpe_call,
            "metrics": {m: {"reference": chunks_of(estimated, m, "reference"), "analysis": chunks_of(estimated, m, "analysis")} for m in METRICS},
        },
        "realized": {"call": calc_call + ".filter(period='analysis')", "metrics": {m: realized_chunks(realized, m) for m in REALIZED}},
    }
    # scikit-learn on the whole labelled analysis set (what stats/classification.ts reproduces).
    from sklearn import metrics as skm

    if classes is None:
        yt, yp, proba = analysis[y_true].to_numpy(), analysis[y_pred].to_numpy(), np.column_stack([1 - analysis[y_pred_proba], analysis[y_pred_proba]])
        labels = [0, 1]
    else:
        yt, yp, proba = analysis[y_true].to_numpy(), analysis[y_pred].to_numpy(), analysis[[y_pred_proba[c] for c in classes]].to_numpy()
        labels = classes
    p, r, f, support = skm.precision_recall_fscore_support(yt, yp, labels=labels, average=None, zero_division=0)
    golden["sklearn"] = {
        "call": "y = analysis targets, proba = class probabilities in `labels` order (binary: [1 - y_pred_proba, y_pred_proba]); sklearn.metrics.<name>(...) as listed",
        "labels": [str(x) for x in labels],
        "accuracy_score(y, y_pred)": float(skm.accuracy_score(yt, yp)),
        "precision_recall_fscore_support(y, y_pred, labels, average=None, zero_division=0)": {"precision": p.tolist(), "recall": r.tolist(), "f1": f.tolist(), "support": support.tolist()},
        "f1_score(y, y_pred, labels, average='macro')": float(skm.f1_score(yt, yp, labels=labels, average="macro")),
        "roc_auc_score(y, proba, multi_class='ovr', average='macro', labels)": float(skm.roc_auc_score(yt, proba[:, 1]) if classes is None else skm.roc_auc_score(yt, proba, multi_class="ovr", average="macro", labels=labels)),
        "log_loss(y, proba, labels)": float(skm.log_loss(yt, proba, labels=labels)),
        "confusion_matrix(y, y_pred, labels)": skm.confusion_matrix(yt, yp, labels=labels).tolist(),
    }
    with open(os.path.join(OUT, f"{name}{'-stable-sort' if patch else ''}.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


def write_split_golden():
    """sklearn StratifiedShuffleSplit, which needs_calibration uses: indices of a seeded small case."""
    from sklearn.model_selection import StratifiedShuffleSplit

    y = (np.random.RandomState(7).rand(97) < 0.3).astype(int)
    splits = [[tr.tolist(), te.tolist()] for tr, te in StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42).split(y, y)]
    with open(os.path.join(OUT, "stratified-shuffle-split.json"), "w") as f:
        json.dump({"call": "y = (np.random.RandomState(7).rand(97) < 0.3).astype(int); [(train, test) for train, test in StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42).split(y, y)]", "y": y.tolist(), "splits": splits}, f)
        f.write("\n")


def write_data(name, frames, columns):
    data = pd.concat([f[columns] for f in frames], ignore_index=True)
    # mtime=0: a re-run writes the same bytes.
    with gzip.GzipFile(os.path.join(OUT, f"{name}.csv.gz"), "wb", mtime=0) as f:
        f.write(data.to_csv(index=False).encode("utf-8"))


def main():
    os.makedirs(OUT, exist_ok=True)
    patch = None
    if "--stable-sort" in sys.argv:
        stable_sorts()
        patch = STABLE_SORT_PATCH
    if patch is None:
        write_split_golden()
    # Binary: synthetic car loan. y_true = repaid (0/1), y_pred_proba = P(repaid), y_pred.
    ref, ana, gt = nml.load_synthetic_car_loan_dataset()
    ana = ana.merge(gt, on="id")
    ref["repaid"] = ref["repaid"].astype(int)
    ana["repaid"] = ana["repaid"].astype(int)
    write_data("car_loan", [ref, ana], ["repaid", "y_pred_proba", "y_pred"])
    run("car_loan", ref, ana, "repaid", "y_pred_proba", "y_pred", "classification_binary", 6000, patch=patch)

    # Multiclass: synthetic credit cards, three classes.
    ref, ana, gt = nml.load_synthetic_multiclass_classification_dataset()
    ana = ana.merge(gt, on="id")
    classes = ["highstreet_card", "prepaid_card", "upmarket_card"]
    proba = {c: f"y_pred_proba_{c}" for c in classes}
    write_data("multiclass", [ref, ana], ["y_true", "y_pred"] + [proba[c] for c in classes])
    run("multiclass", ref, ana, "y_true", proba, "y_pred", "classification_multiclass", 7000, classes, patch=patch)
    if "--stable-sort" not in sys.argv:
        # The patched variant runs in a fresh interpreter, so the patch cannot leak into the goldens above.
        import subprocess

        subprocess.run([sys.executable, __file__, "--stable-sort"], check=True)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()

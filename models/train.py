"""Trains the bundled model and exports it to ONNX with its model card and parity fixture.

A scikit-learn Pipeline (ColumnTransformer: OneHotEncoder on the categorical columns, passthrough
for the numerical ones -> RandomForestClassifier) trained on the demo REFERENCE split
(data/reference.csv, 80 % train / 20 % held out, fixed seed), target `class`.

Writes
  models/model.onnx                    preprocessing inside the graph, one input per feature
  models/model.json                    the model card (see models/README.md)
  test/fixtures/model/holdout.json     raw rows + scikit-learn's probabilities, for the ONNX parity test
  .cache/models/adult-rf.joblib        the fitted Pipeline (git-ignored) for bench/serve/python

Before writing anything it checks that onnxruntime's probabilities equal scikit-learn's within
1e-5 on every fixture row and that the labels agree; it exits non-zero otherwise.

Usage: python models/train.py [--root REPO_ROOT] [--no-write]
"""

import argparse
import datetime
import hashlib
import json
import pathlib
import re
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

ROOT = pathlib.Path(__file__).resolve().parent.parent

NAME = "adult-income-random-forest"
VERSION = "adult-rf-1.0.0"
# Fixed, so a re-run with the pinned requirements reproduces model.json byte for byte.
CREATED = "2026-11-26T00:00:00Z"
SEED = 42
HOLDOUT_FRACTION = 0.2
TARGET = "class"
CLASSES = ["<=50K", ">50K"]
# The value a missing categorical becomes before encoding (the ONNX graph sees strings only).
MISSING_CATEGORY = ""
PARITY_TOLERANCE = 1e-5
# Rows of data/current.csv added to the fixture: they carry education values the model never saw
# (OneHotEncoder(handle_unknown='ignore') encodes them as all zeros), which the parity test must cover.
CURRENT_FIXTURE_ROWS = 500

RF_PARAMS = dict(n_estimators=100, max_depth=12, min_samples_leaf=2, random_state=SEED, n_jobs=-1)

# Model-card order. fnlwgt (a census sampling weight) is not a feature.
# Numerical domains are the values the API accepts: they cover the whole 48,842-row dataset with a
# margin a human would call plausible (observed: age 17..90, education-num 1..16, capital-gain
# 0..99999, capital-loss 0..4356, hours-per-week 1..99).
FEATURES = [
    {"name": "age", "type": "numerical", "min": 0, "max": 120},
    {"name": "workclass", "type": "categorical"},
    {"name": "education", "type": "categorical"},
    {"name": "education-num", "type": "numerical", "min": 1, "max": 16},
    {"name": "marital-status", "type": "categorical"},
    {"name": "occupation", "type": "categorical"},
    {"name": "relationship", "type": "categorical"},
    {"name": "race", "type": "categorical"},
    {"name": "sex", "type": "categorical"},
    {"name": "capital-gain", "type": "numerical", "min": 0, "max": 100000},
    {"name": "capital-loss", "type": "numerical", "min": 0, "max": 100000},
    {"name": "hours-per-week", "type": "numerical", "min": 0, "max": 168},
    {"name": "native-country", "type": "categorical"},
]
FEATURE_NAMES = [f["name"] for f in FEATURES]
CATEGORICAL = [f["name"] for f in FEATURES if f["type"] == "categorical"]
NUMERICAL = [f["name"] for f in FEATURES if f["type"] == "numerical"]


def onnx_input_name(feature: str) -> str:
    """ONNX input (and internal column) name: feature names contain hyphens."""
    return re.sub(r"[^A-Za-z0-9_]", "_", feature)


def read_adult_csv(path: pathlib.Path) -> pd.DataFrame:
    """Reads an Adult-format CSV: categoricals as str with missing as None, numericals as float64."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    for c in NUMERICAL:
        df[c] = df[c].astype(np.float64)
    for c in CATEGORICAL + [TARGET]:
        df[c] = df[c].where(df[c] != "", None)
    return df


def to_model_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Raw feature columns -> the Pipeline's input: sanitised names, missing category -> "",
    numericals as float32 (what the ONNX graph receives, so both sides see the same values)."""
    out = pd.DataFrame(index=df.index)
    for c in FEATURE_NAMES:
        if c in CATEGORICAL:
            out[onnx_input_name(c)] = df[c].fillna(MISSING_CATEGORY).astype(str)
        else:
            out[onnx_input_name(c)] = df[c].astype(np.float32)
    return out


def build_pipeline() -> Pipeline:
    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32),
             [onnx_input_name(c) for c in CATEGORICAL]),
            ("num", "passthrough", [onnx_input_name(c) for c in NUMERICAL]),
        ]
    )
    return Pipeline([("preprocess", pre), ("forest", RandomForestClassifier(**RF_PARAMS))])


def load_reference_split(root: pathlib.Path = ROOT):
    """The reference split as (X_train, X_holdout, y_train, y_holdout, raw_holdout)."""
    ref = read_adult_csv(root / "data" / "reference.csv")
    train_idx, hold_idx = train_test_split(
        ref.index, test_size=HOLDOUT_FRACTION, random_state=SEED, stratify=ref[TARGET]
    )
    X = to_model_frame(ref)
    y = ref[TARGET].astype(str)
    return X.loc[train_idx], X.loc[hold_idx], y.loc[train_idx], y.loc[hold_idx], ref.loc[hold_idx]


def train(root: pathlib.Path = ROOT):
    X_train, X_hold, y_train, y_hold, raw_hold = load_reference_split(root)
    pipe = build_pipeline().fit(X_train, y_train)
    # predict_proba with n_jobs > 1 sums the trees in thread-completion order, which changes the
    # last bits of the probabilities from run to run; predict single-threaded so the fixture is stable.
    pipe.set_params(forest__n_jobs=1)
    if list(pipe.classes_) != CLASSES:
        raise SystemExit(f"train: unexpected class order {list(pipe.classes_)}")
    return pipe, X_train, X_hold, y_hold, raw_hold


def export_onnx(pipe: Pipeline) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    initial_types = [
        (onnx_input_name(c), StringTensorType([None, 1]) if c in CATEGORICAL else FloatTensorType([None, 1]))
        for c in FEATURE_NAMES
    ]
    onx = convert_sklearn(
        pipe,
        name=NAME,
        initial_types=initial_types,
        final_types=[("label", StringTensorType([None])), ("probabilities", FloatTensorType([None, len(CLASSES)]))],
        options={RandomForestClassifier: {"zipmap": False}},
        # Opset 17 / ai.onnx.ml 3 (IR 8): loads in any onnxruntime since 1.13.
        target_opset={"": 17, "ai.onnx.ml": 3},
        doc_string=f"{NAME} {VERSION}: UCI Adult income classifier (see models/model.json)",
    )
    onx.model_version = 1
    # skl2onnx emits opset_import in set order (varies with PYTHONHASHSEED): sort it so the file,
    # and so its sha256, is reproducible.
    opsets = sorted(((o.domain, o.version) for o in onx.opset_import))
    del onx.opset_import[:]
    for domain, version in opsets:
        o = onx.opset_import.add()
        o.domain, o.version = domain, version
    for k, v in (("name", NAME), ("version", VERSION), ("classes", json.dumps(CLASSES))):
        p = onx.metadata_props.add()
        p.key, p.value = k, v
    return onx.SerializeToString()


def onnx_feeds(model_frame: pd.DataFrame) -> dict:
    feeds = {}
    for c in FEATURE_NAMES:
        col = model_frame[onnx_input_name(c)].to_numpy()
        if c in CATEGORICAL:
            feeds[onnx_input_name(c)] = col.astype(object).reshape(-1, 1)
        else:
            feeds[onnx_input_name(c)] = col.astype(np.float32).reshape(-1, 1)
    return feeds


def json_value(feature: str, v):
    """A raw feature value as the API receives it: JSON number, string, or null when missing."""
    if feature in CATEGORICAL:
        return None if v is None else str(v)
    f = float(v)
    return int(f) if f.is_integer() else f


def dump_fixture(fixture: dict) -> str:
    """JSON with one fixture row per line (readable diffs, ~half the size of indented JSON)."""
    head = {k: v for k, v in fixture.items() if k != "rows"}
    lines = [json.dumps(head, indent=2)[:-2] + ',\n  "rows": [']
    lines += ["    " + json.dumps(r, separators=(",", ":")) + "," for r in fixture["rows"]]
    lines[-1] = lines[-1][:-1]
    return "\n".join(lines) + "\n  ]\n}\n"


def card_features(full: pd.DataFrame) -> list:
    out = []
    for spec in FEATURES:
        name = spec["name"]
        col = full[name]
        entry = {"name": name, "onnx_input": onnx_input_name(name), "type": spec["type"]}
        if spec["type"] == "categorical":
            entry["dtype"] = "string"
            entry["nullable"] = bool(col.isna().any())
            entry["categories"] = sorted(col.dropna().unique().tolist())
        else:
            entry["dtype"] = "float32"
            entry["nullable"] = bool(col.isna().any())
            lo, hi = float(col.min()), float(col.max())
            if not (spec["min"] <= lo and hi <= spec["max"]):
                raise SystemExit(f"train: domain of {name} [{spec['min']}, {spec['max']}] misses data [{lo}, {hi}]")
            entry["min"], entry["max"] = spec["min"], spec["max"]
            entry["integer"] = bool((col.dropna() % 1 == 0).all())
        out.append(entry)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(ROOT))
    ap.add_argument("--no-write", action="store_true", help="train, export and check, write nothing")
    args = ap.parse_args()
    root = pathlib.Path(args.root)

    import joblib
    import onnxruntime as ort
    import skl2onnx

    pipe, X_train, X_hold, y_hold, raw_hold = train(root)
    hold_pred = pipe.predict(X_hold)
    accuracy = float((hold_pred == y_hold.to_numpy()).mean())
    print(f"train: {len(X_train)} training rows, holdout accuracy {accuracy:.4f} on {len(X_hold)} rows", file=sys.stderr)

    onnx_bytes = export_onnx(pipe)

    # Fixture rows: every held-out row, then a seeded sample of the current split (unseen categories).
    current = read_adult_csv(root / "data" / "current.csv")
    cur_raw = current.sample(n=CURRENT_FIXTURE_ROWS, random_state=SEED)
    raw = pd.concat([raw_hold, cur_raw])
    sources = ["reference-holdout"] * len(raw_hold) + ["current"] * len(cur_raw)
    X_fix = to_model_frame(raw)
    skl_proba = pipe.predict_proba(X_fix)
    skl_label = pipe.predict(X_fix)

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    ort_label, ort_proba = sess.run(["label", "probabilities"], onnx_feeds(X_fix))
    max_diff = float(np.max(np.abs(ort_proba.astype(np.float64) - skl_proba)))
    label_mismatch = int(np.sum(np.asarray(ort_label, dtype=str) != skl_label.astype(str)))
    print(f"train: onnxruntime vs scikit-learn on {len(raw)} rows: max |dp| = {max_diff:.3g}, "
          f"label mismatches = {label_mismatch}", file=sys.stderr)
    if max_diff > PARITY_TOLERANCE or label_mismatch:
        raise SystemExit("train: ONNX export does not match scikit-learn; nothing written")

    full = read_adult_csv(root / "data" / "adult" / "adult.csv")
    card = {
        "name": NAME,
        "version": VERSION,
        "created": CREATED,
        "framework": f"scikit-learn {sklearn.__version__} RandomForestClassifier, exported with skl2onnx {skl2onnx.__version__}",
        "description": "Predicts whether income exceeds 50K/yr from UCI Adult census attributes. Bundled demo model.",
        "onnx_file": "model.onnx",
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "missing_category": MISSING_CATEGORY,
        "features": card_features(full),
        "classes": CLASSES,
        # The ONNX output names the server reads: `label` is a string tensor [N] (the predicted
        # class), `probabilities` a float32 tensor [N, 2] in `classes` order (see models/README.md).
        "outputs": {"label": "label", "probabilities": "probabilities"},
        "training": {
            "data": "data/reference.csv",
            "target": TARGET,
            "rows": int(len(X_train)),
            "seed": SEED,
            "holdout_fraction": HOLDOUT_FRACTION,
            "holdout_rows": int(len(X_hold)),
            "holdout_accuracy": round(accuracy, 6),
            "params": {k: v for k, v in RF_PARAMS.items() if k != "n_jobs"},
            "sklearn_version": sklearn.__version__,
            "skl2onnx_version": skl2onnx.__version__,
            "onnxruntime_parity_max_abs_diff": max_diff,
        },
    }
    fixture = {
        "description": "Raw feature values as POST /predict receives them, with scikit-learn's predict_proba "
                       "and predict for each row; onnxruntime must reproduce `probabilities` within `tolerance`.",
        "model_version": VERSION,
        "onnx_sha256": card["sha256"],
        "sklearn_version": sklearn.__version__,
        "onnxruntime_version": ort.__version__,
        "classes": CLASSES,
        "tolerance": PARITY_TOLERANCE,
        "holdout_rows": int(len(raw_hold)),
        "rows": [
            {
                "source": src,
                "features": {c: json_value(c, r[c]) for c in FEATURE_NAMES},
                "actual": r[TARGET],
                "label": str(lbl),
                "probabilities": [float(p) for p in proba],
            }
            for src, (_, r), lbl, proba in zip(sources, raw.iterrows(), skl_label, skl_proba)
        ],
    }
    if args.no_write:
        return

    (root / "models" / "model.onnx").write_bytes(onnx_bytes)
    (root / "models" / "model.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    fix_dir = root / "test" / "fixtures" / "model"
    fix_dir.mkdir(parents=True, exist_ok=True)
    (fix_dir / "holdout.json").write_text(dump_fixture(fixture), encoding="utf-8")
    cache = root / ".cache" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    joblib.dump({"version": VERSION, "sklearn_version": sklearn.__version__, "pipeline": pipe}, cache / "adult-rf.joblib")
    print(f"train: wrote models/model.onnx ({len(onnx_bytes) / 1e6:.2f} MB), models/model.json, "
          f"test/fixtures/model/holdout.json ({len(raw)} rows), .cache/models/adult-rf.joblib", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Trains and exports the second, "bring your own model" example: a logistic regression on the
UCI Wine recognition data (178 wines, 13 chemical measurements, 3 cultivars), which scikit-learn
ships inside its package (sklearn.datasets.load_wine: nothing is downloaded).

Writes, beside this script:
  model.onnx      StandardScaler + LogisticRegression, one float32 [N, 1] input per column,
                  outputs `label` (string [N]) and `probabilities` (float32 [N, 3], no ZipMap)
  reference.csv   the training rows (60 %, stratified, seed 7) with the target column `cultivar`
  current.csv     the held-out rows (40 %), the same columns
The model card (model.json) is not written here: `sentinel card init` makes it (see
docs/bring-your-own-model.md). Before writing anything the script checks that onnxruntime's
probabilities equal scikit-learn's within 1e-5 on every row and that the labels agree.

Usage: python models/wine/train.py [--no-write]     (pinned stack: models/requirements.txt)
"""

import argparse
import pathlib
import re
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = pathlib.Path(__file__).resolve().parent
NAME = "wine-cultivar-logreg"
SEED = 7
TEST_SIZE = 0.4
TARGET = "cultivar"
PARITY_TOLERANCE = 1e-5


def onnx_input_name(column: str) -> str:
    """ONNX names cannot hold '/' (od280/od315_of_diluted_wines); `sentinel card` maps them back."""
    return re.sub(r"[^A-Za-z0-9_]", "_", column)


def load():
    wine = load_wine(as_frame=True)
    X = wine.data
    y = pd.Series(np.asarray(wine.target_names)[wine.target], name=TARGET, index=X.index)
    return X, y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    import onnxruntime as ort
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    X, y = load()
    columns = list(X.columns)
    inputs = [onnx_input_name(c) for c in columns]
    # What the ONNX graph receives: float32 columns under their ONNX names.
    Xm = X.astype(np.float32).set_axis(inputs, axis=1)
    X_train, X_test, y_train, y_test = train_test_split(Xm, y, test_size=TEST_SIZE, random_state=SEED, stratify=y)
    pipe = Pipeline([
        ("scale", ColumnTransformer([("scale", StandardScaler(), inputs)])),
        ("logreg", LogisticRegression(max_iter=1000, random_state=SEED)),
    ]).fit(X_train, y_train)
    classes = list(pipe.classes_)
    accuracy = float((pipe.predict(X_test) == y_test.to_numpy()).mean())
    print(f"wine: {len(X_train)} training rows, holdout accuracy {accuracy:.4f} on {len(X_test)} rows, classes {classes}", file=sys.stderr)

    onx = convert_sklearn(
        pipe,
        name=NAME,
        initial_types=[(i, FloatTensorType([None, 1])) for i in inputs],
        final_types=[("label", StringTensorType([None])), ("probabilities", FloatTensorType([None, len(classes)]))],
        options={LogisticRegression: {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
        doc_string=f"{NAME}: UCI Wine cultivar classifier (SentinelML bring-your-own-model example)",
    )
    # Sorted opset imports: skl2onnx emits them in set order, which would change the sha256 per run.
    opsets = sorted((o.domain, o.version) for o in onx.opset_import)
    del onx.opset_import[:]
    for domain, version in opsets:
        o = onx.opset_import.add()
        o.domain, o.version = domain, version
    onnx_bytes = onx.SerializeToString()

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    feeds = {i: Xm[[i]].to_numpy() for i in inputs}
    ort_label, ort_proba = sess.run(["label", "probabilities"], feeds)
    skl_proba = pipe.predict_proba(Xm)
    max_diff = float(np.max(np.abs(ort_proba.astype(np.float64) - skl_proba)))
    mismatches = int(np.sum(np.asarray(ort_label, dtype=str) != pipe.predict(Xm).astype(str)))
    print(f"wine: onnxruntime vs scikit-learn on {len(Xm)} rows: max |dp| = {max_diff:.3g}, label mismatches = {mismatches}", file=sys.stderr)
    if max_diff > PARITY_TOLERANCE or mismatches:
        raise SystemExit("wine: ONNX export does not match scikit-learn; nothing written")
    if args.no_write:
        return

    (HERE / "model.onnx").write_bytes(onnx_bytes)
    # Raw values as load_wine gives them (float64, shortest round-trip repr), original column names.
    for path, idx in ((HERE / "reference.csv", X_train.index), (HERE / "current.csv", X_test.index)):
        out = X.loc[idx].copy()
        out[TARGET] = y.loc[idx]
        out.to_csv(path, index=False, lineterminator="\n")
    print(f"wine: wrote model.onnx ({len(onnx_bytes)} bytes), reference.csv ({len(X_train)} rows), current.csv ({len(X_test)} rows)", file=sys.stderr)


if __name__ == "__main__":
    main()

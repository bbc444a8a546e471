"""The seed's design, kept as the benchmark baseline: Flask + scikit-learn RandomForest + CSV append.

Same model as models/model.onnx (the fitted Pipeline that models/train.py caches in
.cache/models/adult-rf.joblib; trained at startup with the same code when that file is missing or
from another scikit-learn), same request and response JSON as `sentinel serve`. Each prediction
appends one row to a CSV log with a plain open(..., 'a') -- no fsync, no single writer: that is the
seed's design and the point of the comparison, not something to copy.

  python app.py --port 8090 [--log PATH]                    Flask's development server
  gunicorn -w 2 -b 127.0.0.1:8090 app:app                   (log path from BENCH_LOG_PATH)
"""

import argparse
import csv
import datetime
import os
import pathlib
import sys
import uuid

import joblib
import numpy as np
import pandas as pd
import sklearn
from flask import Flask, jsonify, request

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "models"))
import train  # noqa: E402  (models/train.py: the feature list and the training code)

MODEL_CACHE = pathlib.Path(os.environ.get("BENCH_MODEL_JOBLIB", ROOT / ".cache" / "models" / "adult-rf.joblib"))
LOG_PATH = pathlib.Path(os.environ.get("BENCH_LOG_PATH", ROOT / ".cache" / "bench-python" / "live_predictions.csv"))


def load_model():
    if MODEL_CACHE.exists():
        saved = joblib.load(MODEL_CACHE)
        if saved.get("sklearn_version") == sklearn.__version__ and saved.get("version") == train.VERSION:
            return saved["pipeline"], saved["version"]
    pipe = train.train(ROOT)[0]
    return pipe, train.VERSION


PIPELINE, MODEL_VERSION = load_model()
CLASSES = [str(c) for c in PIPELINE.classes_]
LOG_HEADER = ["request_id", "timestamp", "model_version", *train.FEATURE_NAMES, "prediction", "confidence"]

app = Flask(__name__)


def bad_request(message, details):
    return jsonify({"error": {"code": "invalid_request", "message": message, "details": details}}), 400


def check_instance(features):
    if not isinstance(features, dict):
        return [{"field": "features", "message": "must be an object"}]
    problems = [{"field": k, "message": "unknown feature"} for k in features if k not in train.FEATURE_NAMES]
    for name in train.FEATURE_NAMES:
        v = features.get(name)
        if name not in features:
            problems.append({"field": name, "message": "missing"})
        elif name in train.CATEGORICAL:
            if not (isinstance(v, str) or v is None):
                problems.append({"field": name, "message": "must be a string or null"})
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            problems.append({"field": name, "message": "must be a number"})
    return problems


def append_log(rows):
    new = not LOG_PATH.exists()
    with open(LOG_PATH, "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if new:
            w.writerow(LOG_HEADER)
        w.writerows(rows)


@app.post("/predict")
def predict():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or ("features" in body) == ("instances" in body):
        return bad_request("body must be {\"features\": {...}} or {\"instances\": [...]}", [])
    instances = [body["features"]] if "features" in body else body["instances"]
    if not isinstance(instances, list) or not instances:
        return bad_request("instances must be a non-empty array", [])
    for i, inst in enumerate(instances):
        problems = check_instance(inst)
        if problems:
            return bad_request(f"invalid instance {i}", problems)

    raw = pd.DataFrame([{n: inst[n] for n in train.FEATURE_NAMES} for inst in instances])
    for c in train.CATEGORICAL:
        raw[c] = raw[c].astype(object)
    proba = PIPELINE.predict_proba(train.to_model_frame(raw))
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    results, rows = [], []
    for inst, p in zip(instances, proba):
        k = int(np.argmax(p))
        rid = str(uuid.uuid4())
        results.append({
            "id": rid,
            "timestamp": now,
            "prediction": CLASSES[k],
            "confidence": float(p[k]),
            "probabilities": {c: float(x) for c, x in zip(CLASSES, p)},
            "model_version": MODEL_VERSION,
        })
        rows.append([rid, now, MODEL_VERSION, *("" if inst[n] is None else inst[n] for n in train.FEATURE_NAMES),
                     CLASSES[k], float(p[k])])
    append_log(rows)
    return jsonify(results[0] if "features" in body else {"predictions": results})


@app.get("/healthz")
def healthz():
    return jsonify({"status": "ok", "model_version": MODEL_VERSION})


LOG_PATH.parent.mkdir(parents=True, exist_ok=True)

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="seed-design baseline (Flask development server)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8090)
    ap.add_argument("--log", help=f"prediction log CSV (default {LOG_PATH})")
    args = ap.parse_args()
    if args.log:
        LOG_PATH = pathlib.Path(args.log)
        LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
    app.run(host=args.host, port=args.port)

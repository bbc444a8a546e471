"""The peer a Python team would pick for bench/serve: FastAPI + uvicorn + onnxruntime, same model
(models/model.onnx and its card), same POST /predict {"features": {...}} body and answer shape.

    BENCH_LOG=none|fsync BENCH_LOG_DIR=DIR uvicorn app:app --workers N   (from this directory)

Validation is a pydantic model built from the card (types, ranges, whole numbers, categories).
With BENCH_LOG=fsync every request appends its CSV row to this process's own file (pid in the
name, so workers never share one) and fdatasyncs it before answering, as `sentinel serve` does;
`none` logs nothing. The handler is `async def` and calls onnxruntime inline: the fastest shape
for a single-row model (a plain `def` handler adds a thread-pool hop per request).
"""

import csv
import io
import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Literal, Optional

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, create_model

REPO = Path(__file__).resolve().parents[3]
CARD = json.loads((REPO / "models/model.json").read_text())
opts = ort.SessionOptions()
opts.intra_op_num_threads = 1
opts.inter_op_num_threads = 1
opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
session = ort.InferenceSession(str(REPO / "models" / CARD["onnx_file"]), opts, providers=["CPUExecutionProvider"])
PROBS = CARD["outputs"]["probabilities"]
CLASSES = CARD["classes"]


def field_type(f):
    if f["type"] == "categorical":
        t = Literal[tuple(f["categories"])]
    else:
        t = Annotated[int if f.get("integer") else float, Field(ge=f["min"], le=f["max"])]
    return (Optional[t], None) if f["nullable"] else (t, ...)


Features = create_model(
    "Features",
    __config__=ConfigDict(extra="forbid", populate_by_name=True),
    **{f["onnx_input"]: (field_type(f)[0], Field(field_type(f)[1], alias=f["name"])) for f in CARD["features"]},
)


class PredictRequest(BaseModel):
    features: Features  # type: ignore[valid-type]


LOG_MODE = os.environ.get("BENCH_LOG", "none")
log_fd = None
if LOG_MODE == "fsync":
    log_dir = Path(os.environ["BENCH_LOG_DIR"])
    path = log_dir / f"live_predictions-fastapi-{os.getpid()}.csv"
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
    header = ["request_id", "timestamp", "model_version", *[f["name"] for f in CARD["features"]], "prediction", "confidence"]
    os.write(log_fd, (",".join(header) + "\r\n").encode())
    os.fsync(log_fd)
elif LOG_MODE != "none":
    raise SystemExit(f"BENCH_LOG must be none or fsync (got {LOG_MODE!r})")

app = FastAPI()


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.post("/predict")
async def predict(req: PredictRequest):
    x = req.features
    feeds = {}
    for f in CARD["features"]:
        v = getattr(x, f["onnx_input"])
        if f["dtype"] == "string":
            feeds[f["onnx_input"]] = np.array([[v if v is not None else ""]], dtype=object)
        else:
            feeds[f["onnx_input"]] = np.array([[np.nan if v is None else v]], dtype=np.float32)
    p = session.run([PROBS], feeds)[0][0]
    best = int(np.argmax(p))
    rid = str(uuid.uuid4())
    ts = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if log_fd is not None:
        buf = io.StringIO()
        csv.writer(buf).writerow([rid, ts, CARD["version"], *[("" if getattr(x, f["onnx_input"]) is None else getattr(x, f["onnx_input"])) for f in CARD["features"]], CLASSES[best], float(p[best])])
        os.write(log_fd, buf.getvalue().encode())
        os.fdatasync(log_fd)
    return {
        "id": rid,
        "timestamp": ts,
        "prediction": CLASSES[best],
        "confidence": float(p[best]),
        "probabilities": {c: float(p[k]) for k, c in enumerate(CLASSES)},
        "model_version": CARD["version"],
    }

"""NannyML's side of the quality benchmark (run by bench/quality/run.ts under /usr/bin/time).

The same work as bench/quality/sentinel_side.ts with pandas + NannyML 0.13.1: read the prediction
log files and the label files, keep each id's last-received label, join by request id, realized
metrics per chunk (PerformanceCalculator) and CBPE (fit on the labelled reference, estimate per
chunk). Prints one JSON line.

    python bench/quality/nannyml_side.py DATA_DIR CHUNK_SIZE
"""

import glob
import json
import os
import resource
import sys
import time

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")
t = time.perf_counter()
c = time.process_time()
phases = {}
cpu_phases = {}


def lap(name):
    global t, c
    now, cpu = time.perf_counter(), time.process_time()
    phases[name] = round(now - t, 3)
    cpu_phases[name] = round(cpu - c, 3)
    t, c = now, cpu


import nannyml as nml  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

lap("import")
data_dir, chunk_size = sys.argv[1], int(sys.argv[2])
files = sorted(glob.glob(os.path.join(data_dir, "live", "*.csv")))
log = pd.concat([pd.read_csv(f, usecols=["request_id", "prediction", "confidence"], dtype={"prediction": str}) for f in files], ignore_index=True)
lap("read_predictions")
label_files = sorted(glob.glob(os.path.join(data_dir, "live", "labels", "*.csv")))
labels = pd.concat([pd.read_csv(f, dtype={"label": str}) for f in label_files], ignore_index=True)
label_rows = len(labels)
# Last received wins (stable sort keeps file/row order among equal timestamps).
labels = labels.sort_values("timestamp", kind="stable").drop_duplicates("request_id", keep="last")
lap("read_labels")
log["y_pred"] = log["prediction"].astype(int)
log["y_pred_proba"] = np.where(log["y_pred"] == 1, log["confidence"], 1 - log["confidence"])
analysis = log.merge(labels[["request_id", "label"]], on="request_id", how="left", sort=False)
analysis["y_true"] = pd.to_numeric(analysis["label"])
labelled = int(analysis["y_true"].notna().sum())
unmatched = int((~labels["request_id"].isin(log["request_id"])).sum())
lap("join")
ref = pd.read_csv(os.path.join(data_dir, "reference.csv"), dtype={"prediction": str, "class": str})
ref["y_pred"] = ref["prediction"].astype(int)
ref["y_true"] = ref["class"].astype(int)
ref["y_pred_proba"] = np.where(ref["y_pred"] == 1, ref["confidence"], 1 - ref["confidence"])
calc = nml.PerformanceCalculator(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="y_true", problem_type="classification_binary", metrics=["accuracy", "f1", "roc_auc"], chunk_size=chunk_size)
calc.fit(ref)
realized = calc.calculate(analysis).filter(period="analysis").to_df()
lap("realized_metrics")
cbpe = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="y_true", problem_type="classification_binary", metrics=["accuracy", "f1", "roc_auc"], chunk_size=chunk_size)
cbpe.fit(ref)
lap("cbpe_fit")
est = cbpe.estimate(analysis[["y_pred_proba", "y_pred"]]).filter(period="analysis").to_df()
lap("cbpe_estimate")
print(
    json.dumps(
        {
            "phases": phases,
            "cpu_phases": cpu_phases,
            "rows": len(log),
            "label_rows": label_rows,
            "labelled": labelled,
            "unmatched_labels": unmatched,
            "calibrated": [bool(cbpe.needs_calibration)],
            "realized": [{m: float(r[(m, "value")]) for m in ["accuracy", "f1", "roc_auc"]} for _, r in realized.iterrows()],
            "estimated": [{m: float(r[(m, "value")]) for m in ["accuracy", "f1", "roc_auc"]} for _, r in est.iterrows()],
            "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    )
)

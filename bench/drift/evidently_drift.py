"""Evidently side of the drift benchmark: DataDriftPreset report on two CSVs.

usage: evidently_drift.py REFERENCE.csv CURRENT.csv OUT.json [HTML_OUT]

Loads both CSVs with pandas (default read_csv), runs Evidently's DataDriftPreset, renders the HTML
report when HTML_OUT is given (what a user of the report pays for), and writes per-column results
(method, drift score, verdict) plus timings to OUT.json.
"""
import json
import sys
import time

t0 = time.perf_counter()
c0 = time.process_time()
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
import evidently

t_import = time.perf_counter()
c_import = time.process_time()
ref_path, cur_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
html_path = sys.argv[4] if len(sys.argv) > 4 else None
reference = pd.read_csv(ref_path)
current = pd.read_csv(cur_path)
t_read = time.perf_counter()
# include_tests: the per-column ValueDrift tests carry Evidently's own verdict (FAIL = drift).
report = Report([DataDriftPreset()], include_tests=True)
snapshot = report.run(current_data=current, reference_data=reference)
t_run = time.perf_counter()
if html_path:
    snapshot.save_html(html_path)
t_html = time.perf_counter()
c_html = time.process_time()

columns = {}
share = None
for m in snapshot.dict()["metrics"]:  # noqa
    cfg = m.get("config", {})
    t = cfg.get("type", "")
    if t.endswith("ValueDrift"):
        columns[cfg["column"]] = {"method": cfg.get("method"), "threshold": cfg.get("threshold"), "score": m["value"]}
    elif t.endswith("DriftedColumnsCount"):
        share = m["value"]
d = snapshot.dict()
for t in d.get("tests", []):
    params = t.get("metric_config", {}).get("params", {})
    if params.get("type", "").endswith("ValueDrift") and params.get("column") in columns:
        columns[params["column"]]["drift"] = str(t["status"]).endswith("FAIL")
json.dump(
    {
        "evidently": evidently.__version__,
        "columns": columns,
        "drifted_columns": share,
        "timings": {"import": t_import - t0, "read_csv": t_read - t_import, "run": t_run - t_read, "html": t_html - t_run, "total": t_html - t0},
        # CPU seconds of this process (time.process_time): the import, and the computation after it
        # (read_csv + report + html), which is what a long-running service would pay per run.
        "cpu": {"import": c_import - c0, "compute": c_html - c_import},
    },
    open(out_path, "w"),
    indent=1,
    default=str,
)

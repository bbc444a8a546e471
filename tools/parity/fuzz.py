"""Differential fuzzer, Evidently side: random CSV pairs shaped like real files, and what Evidently
0.7.23's DataDriftPreset (new API) says about each. `tools/parity/fuzz.ts` runs sentinel drift on the
same pairs and compares.

Usage (the parity venv, pinned in tools/parity/requirements.txt):
    PYTHONHASHSEED=0 $VENV/bin/python tools/parity/fuzz.py --cases 1000 --seed 1 --out /tmp/fuzz

Writes OUT/<case>/reference.csv, OUT/<case>/current.csv and OUT/<case>/evidently.json. The call, for
every case, is recorded in evidently.json:
    reference = pd.read_csv(reference.csv); current = pd.read_csv(current.csv)
    Report([DataDriftPreset()], include_tests=True).run(current_data=current, reference_data=reference)
Columns cover what real files contain: constant and near-constant columns, numbers mixed with text,
integers that look categorical, booleans in several spellings, empty cells, NaN/inf spellings,
dates, unicode, columns named prediction/target, sizes on both sides of Evidently's 1000-row switch.
Where Evidently fails the whole report because of one column, that column is recorded in `dropped`
and the same call is repeated without it (sentinel marks such a column's error and goes on).
"""
import argparse
import csv
import json
import os
import random
import re
import signal
import sys
import traceback
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import evidently  # noqa: E402
from evidently import Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402
import evidently.legacy.calculations.data_drift as legacy_data_drift  # noqa: E402

CALL = (
    "reference = pd.read_csv(reference.csv); current = pd.read_csv(current.csv); "
    "Report([DataDriftPreset()], include_tests=True).run(current_data=current, reference_data=reference)"
)
# DriftedColumnsCount's count comes from the legacy DatasetDriftMetric, which tests every column
# again through evidently.legacy.calculations.data_drift.get_one_column_drift (its own ±inf
# cleaning). Its per-column results are not in the snapshot, so they are captured from that call
# during the same Report run and recorded as `share_columns` (the verdicts the share counts).
SHARE_CALL = (
    "during the same Report run: evidently.legacy.calculations.data_drift.get_one_column_drift(...) -> "
    "ColumnDataDriftMetrics (stattest_name, drift_score, drift_detected), as called by DatasetDriftMetric"
)
_share_columns = {}
_legacy_one_column_drift = legacy_data_drift.get_one_column_drift


def _capture_one_column_drift(**kwargs):
    r = _legacy_one_column_drift(**kwargs)
    _share_columns[kwargs["column_name"]] = {"method": r.stattest_name, "score": num(r.drift_score), "drift": bool(r.drift_detected)}
    return r


legacy_data_drift.get_one_column_drift = _capture_one_column_drift

SIZES = [1, 2, 5, 20, 60, 200, 999, 1000, 1001, 1500, 4000]
NA_SPELLINGS = ["", "NaN", "nan", "NA", "N/A", "null", "NULL", "#N/A", "<NA>", "None"]
INF_SPELLINGS = ["inf", "-inf", "Infinity", "-Infinity", "INF"]
BOOL_SPELLINGS = [("True", "False"), ("true", "false"), ("TRUE", "FALSE"), ("0", "1"), ("yes", "no"), ("Y", "N")]
WORDS = ["alpha", "beta", "gamma", "delta", "épsilon", "ζeta", "日本", "naïve", "Ölçü", "x y", "a,b", 'say "hi"']


def gen_column(p, rng, kind, n, shifted):
    """One column's cells as strings (what a CSV holds). `p` draws the column's parameters (seeded
    the same for both sides), `rng` the cells; `shifted`: the current side, maybe moved."""
    s = p.random() < 0.5 and shifted  # draw first: both sides' parameter streams stay aligned
    if kind == "float":
        mu, sd = (0.3 if s else 0.0), (1.5 if s and p.random() < 0.5 else 1.0)
        digits = p.choice([1, 2, 4, 8])
        return [repr(round(rng.gauss(mu, sd), digits)) for _ in range(n)]
    if kind == "int_few":
        k = p.randint(2, 12)
        w = [p.random() + (1.0 if s and i == 0 else 0) for i in range(k)]
        return [str(v) for v in rng.choices(range(k), weights=w, k=n)]
    if kind == "int_many":
        hi = p.choice([30, 100, 5000])
        return [str(rng.randint(0, hi + (hi // 5 if s else 0))) for _ in range(n)]
    if kind == "const_num":
        v = p.choice(["7", "0", "3.5", "1e3"])
        other = p.random() < 0.5
        return ["7"] * n if s and other else [v] * n
    if kind == "const_str":
        return ["same"] * n
    if kind == "near_const":
        odd = p.choice(["6", "5.5", "x"])
        out = ["5"] * n
        if n > 0 and rng.random() < 0.7:
            out[rng.randrange(n)] = odd
        return out
    if kind == "cat":
        k = p.randint(2, 8)
        cats = p.sample(WORDS, k)
        w = [p.random() + (1.0 if s and i == 0 else 0) for i in range(k)]
        return rng.choices(cats, weights=w, k=n)
    if kind == "mixed":
        texts = ("UNK", "n/a?", "x")
        pool = [p.choice(["1.0", "2.0", "9.0", "1.50", "01", "3", "1e3"]) for _ in range(3)] + [p.choice(texts)]
        w = [1, 1, 1, p.choice([0.02, 0.3])]
        cells = rng.choices(pool, weights=w, k=n)
        # Sometimes the text only shows late in the file (after many number cells).
        if p.random() < 0.5 and n > 4:
            cells.sort(key=lambda c: c in texts)
        return cells
    if kind == "bool":
        t, f = p.choice(BOOL_SPELLINGS)
        q = 0.5 + (0.2 if s else 0)
        return [t if rng.random() < q else f for _ in range(n)]
    if kind == "missing":
        base_kind = p.choice(["float", "int_few", "cat"])
        na = p.choice(NA_SPELLINGS)
        rate = p.choice([0.01, 0.2, 0.9])
        base = gen_column(p, rng, base_kind, n, shifted)
        return [na if rng.random() < rate else v for v in base]
    if kind == "all_missing":
        return [p.choice(NA_SPELLINGS[:2])] * n
    if kind == "inf":
        sp = p.choice(INF_SPELLINGS)
        return [sp if rng.random() < 0.05 else repr(round(rng.random(), 3)) for _ in range(n)]
    if kind == "date":
        return [f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(n)]
    if kind == "id":
        return [f"id-{rng.getrandbits(40):x}" for _ in range(n)]
    raise ValueError(kind)


KINDS = ["float", "int_few", "int_many", "const_num", "const_str", "near_const", "cat", "mixed", "bool", "missing", "all_missing", "inf", "date", "id"]
WEIGHTS = [5, 4, 3, 2, 1, 2, 4, 3, 2, 3, 1, 2, 1, 0.5]


def make_case(rng):
    n_ref = rng.choice(SIZES)
    n_cur = rng.choice(SIZES)
    # SciPy's exact two-sample KS (Evidently's ks below 1000 reference rows, exact up to 10,000 rows)
    # takes minutes for a small reference against a large current side: keep such pairs small.
    if n_ref <= 1000 and n_cur > 1001:
        n_cur = rng.choice(SIZES[:9])
    ncols = rng.randint(1, 7)
    kinds = rng.choices(KINDS, weights=WEIGHTS, k=ncols)
    names = [f"c{i}_{k}" for i, k in enumerate(kinds)]
    if rng.random() < 0.2:
        names[rng.randrange(ncols)] = rng.choice(["prediction", "target"])
    if rng.random() < 0.05 and ncols > 1:
        names[0] = "naïve ünïcode, \"col\""
    seeds = [rng.getrandbits(32) for _ in kinds]
    cols_ref = [gen_column(random.Random(sd), rng, k, n_ref, False) for sd, k in zip(seeds, kinds)]
    cols_cur = [gen_column(random.Random(sd), rng, k, n_cur, True) for sd, k in zip(seeds, kinds)]
    return names, kinds, cols_ref, cols_cur


def write_csv(path, names, cols):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        n = len(cols[0]) if cols else 0
        for i in range(n):
            w.writerow([c[i] for c in cols])


def num(v):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "Infinity" if f > 0 else "-Infinity"
    return f


def evidently_report(reference, current):
    _share_columns.clear()
    snapshot = Report([DataDriftPreset()], include_tests=True).run(current_data=current, reference_data=reference)
    share_columns = dict(_share_columns)
    d = snapshot.dict()
    columns = {}
    drifted = None
    for m in d["metrics"]:
        cfg = m.get("config", {})
        t = cfg.get("type", "")
        if t.endswith("ValueDrift"):
            columns[cfg["column"]] = {"method": cfg.get("method"), "threshold": num(cfg.get("threshold")), "score": num(m["value"])}
        elif t.endswith("DriftedColumnsCount"):
            drifted = {"count": num(m["value"]["count"]), "share": num(m["value"]["share"]), "drift_share": num(cfg.get("drift_share"))}
    dataset_drift = None
    for t in d.get("tests", []):
        params = t.get("metric_config", {}).get("params", {})
        ptype = params.get("type", "")
        status = str(t["status"])
        if ptype.endswith("ValueDrift") and params.get("column") in columns:
            columns[params["column"]]["drift"] = status.endswith("FAIL")
        elif ptype.endswith("DriftedColumnsCount"):
            dataset_drift = status.endswith("FAIL")
    if dataset_drift is None and drifted is not None:
        dataset_drift = drifted["share"] >= drifted["drift_share"]
    return {"columns": columns, "drifted_columns": drifted, "dataset_drift": dataset_drift, "share_columns": share_columns}


def message(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def failing_column(e, reference, current):
    """The column an Evidently error is about: named in the message, else found by running each
    column alone. None when no single column explains it."""
    m = re.search(r"[Cc]olumn '([^']*)'", str(e))
    if m and m.group(1) in reference.columns:
        return m.group(1)
    for c in reference.columns:
        try:
            evidently_report(reference[[c]], current[[c]])
        except Exception:  # noqa: BLE001
            return c
    return None


def run_evidently(ref_path, cur_path):
    """Evidently's report on the pair. Evidently fails the whole report for one untestable column
    (all missing, mixed types, ...), where sentinel marks that column's error and goes on: such a
    column is recorded in `dropped` with Evidently's message, and the report is re-run without it
    (the same call on the remaining columns), so every other column still gets compared."""
    reference = pd.read_csv(ref_path)
    current = pd.read_csv(cur_path)
    # Evidently's DriftedColumnsCount (the legacy DatasetDriftMetric) drops +-inf from a column only
    # when that column has a NaN on that side (is_contains_nans); ValueDrift always drops them. Such
    # columns can get a different verdict in the count than the one ValueDrift reports.
    legacy_inf = sorted(
        c for c in reference.columns
        if any(pd.api.types.is_numeric_dtype(df[c]) and np.isinf(df[c].to_numpy(dtype=float, na_value=np.nan)).any() and not df[c].isna().any() for df in (reference, current) if c in df)
    )
    dropped = {}
    while True:
        try:
            rec = evidently_report(reference, current)
            rec["dropped"] = dropped
            rec["legacy_inf_columns"] = legacy_inf
            return rec
        except Exception as e:  # noqa: BLE001
            c = failing_column(e, reference, current)
            if c is None or len(reference.columns) <= 1 or c not in current.columns:
                if c is not None:
                    dropped[c] = message(e)
                    return {"columns": {}, "drifted_columns": None, "dataset_drift": None, "dropped": dropped, "legacy_inf_columns": legacy_inf}
                raise
            dropped[c] = message(e)
            reference = reference.drop(columns=[c])
            current = current.drop(columns=[c])


class CaseTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so Evidently's own `except Exception` cannot swallow it."""


def on_alarm(signum, frame):
    raise CaseTimeout()


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--first", type=int, default=0, help="index of the first case (to resume or shard)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=int, default=60, help="seconds per case; a slower Evidently run is recorded as timed out")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.first, a.first + a.cases):
        rng = random.Random(a.seed * 1_000_003 + i)
        names, kinds, cr, cc = make_case(rng)
        d = os.path.join(a.out, f"case-{a.seed}-{i:05d}")
        os.makedirs(d, exist_ok=True)
        write_csv(os.path.join(d, "reference.csv"), names, cr)
        write_csv(os.path.join(d, "current.csv"), names, cc)
        rec = {"evidently": evidently.__version__, "pandas": pd.__version__, "numpy": np.__version__, "call": CALL, "share_call": SHARE_CALL, "seed": a.seed, "case": i, "kinds": dict(zip(names, kinds))}
        signal.alarm(a.timeout)
        try:
            rec.update(run_evidently(os.path.join(d, "reference.csv"), os.path.join(d, "current.csv")))
            rec["error"] = None
        except CaseTimeout:
            rec["timeout"] = a.timeout
            rec["error"] = None
        except Exception as e:  # noqa: BLE001 - Evidently refusing the data is a result too
            rec["error"] = message(e)
            rec["traceback"] = traceback.format_exc().splitlines()[-3:]
        finally:
            signal.alarm(0)
        with open(os.path.join(d, "evidently.json"), "w") as f:
            json.dump(rec, f, indent=1, ensure_ascii=False)
        if (i - a.first + 1) % 50 == 0:
            print(f"fuzz.py: {i - a.first + 1}/{a.cases} cases", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

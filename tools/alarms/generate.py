"""Golden values for the alarm modes (test/stats/alarms.test.ts), from SciPy, statsmodels and NannyML.

Usage:
    python3.11 -m venv ~/.cache/sentinelml/venv-alarms
    ~/.cache/sentinelml/venv-alarms/bin/pip install -r tools/alarms/requirements.txt
    ~/.cache/sentinelml/venv-alarms/bin/python tools/alarms/generate.py   # writes test/fixtures/alarms/golden.json

Each case records the exact call beside its values.
"""
import json
import os

# NannyML sends usage analytics unless told not to (and this machine has no network for it).
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import numpy as np
import pandas as pd
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.multitest import multipletests

import nannyml as nml
from nannyml.datasets import load_synthetic_car_loan_dataset

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "alarms", "golden.json")

P_VECTORS = {
    "mixed": [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.9, 0.045, 0.0001, 0.06],
    "ties": [0.02, 0.02, 0.02, 0.5, 0.5, 1.0],
    "single": [0.03],
    "all_large": [0.3, 0.8, 0.6, 0.99],
    "tiny": [1e-12, 3e-8, 0.0004, 0.0049, 0.051, 0.7],
    "uniform_seeded": [float(x) for x in np.random.default_rng(7).uniform(size=15)],
    "near_cutoffs": [0.05 / 14 * k for k in (0.99, 1.0, 1.01, 2.0, 3.0, 5.0)] + [0.5] * 8,
}


def multitest_cases():
    cases = []
    for name, p in P_VECTORS.items():
        arr = np.array(p)
        case = {"name": name, "p": p, "alpha": 0.05}
        case["scipy_bh"] = [float(x) for x in stats.false_discovery_control(arr, method="bh")]
        case["scipy_bh_call"] = f"scipy.stats.false_discovery_control(np.array({p!r}), method='bh')"
        for method in ("bonferroni", "fdr_bh"):
            reject, corrected, _, _ = multipletests(arr, alpha=0.05, method=method)
            case[f"statsmodels_{method}"] = {"reject": [bool(x) for x in reject], "corrected": [float(x) for x in corrected]}
            case[f"statsmodels_{method}_call"] = f"statsmodels.stats.multitest.multipletests(np.array({p!r}), alpha=0.05, method='{method}')"
        cases.append(case)
    return cases


def nannyml_ks_case(name, reference, column, method="kolmogorov_smirnov", **chunking):
    calc = nml.UnivariateDriftCalculator(column_names=[column], continuous_methods=[method], **chunking)
    calc.fit(reference)
    df = calc.result.filter(period="reference").to_df()
    values = df[(column, method, "value")].tolist()
    upper = df[(column, method, "upper_threshold")].tolist()
    lower = df[(column, method, "lower_threshold")].tolist()
    starts = df[("chunk", "chunk", "start_index")].tolist()
    ends = df[("chunk", "chunk", "end_index")].tolist()
    args = ", ".join(f"{k}={v!r}" for k, v in chunking.items())
    return {
        "name": name,
        "method": method,
        "call": f"nml.UnivariateDriftCalculator(column_names=[{column!r}], continuous_methods=[{method!r}], {args}).fit(reference); "
        f"calc.result.filter(period='reference').to_df()[({column!r}, {method!r}, 'value'|'upper_threshold'|'lower_threshold')]",
        "column": column,
        "values": [float(x) for x in reference[column]],
        "chunk_start": [int(x) for x in starts],
        # NannyML's end_index is inclusive
        "chunk_end_inclusive": [int(x) for x in ends],
        "statistic": [float(x) for x in values],
        "upper_threshold": float(upper[0]),
        "lower_threshold": None if lower[0] is None or (isinstance(lower[0], float) and np.isnan(lower[0])) else float(lower[0]),
    }


def main():
    reference, _, _ = load_synthetic_car_loan_dataset()
    # < 10 000 rows: NannyML's KS uses the exact scipy.stats.ks_2samp statistic (not its binned estimate)
    small = reference.iloc[:6000].reset_index(drop=True)
    nanny = [
        nannyml_ks_case("car_value_size_500", small, "car_value", chunk_size=500),
        nannyml_ks_case("car_value_size_700_incomplete_kept", small, "car_value", chunk_size=700),
        nannyml_ks_case("debt_to_income_count_7", small, "debt_to_income_ratio", chunk_number=7),
        # NannyML's Wasserstein is scipy.stats.wasserstein_distance (not normed; exact below 10 000 rows)
        nannyml_ks_case("car_value_wasserstein_size_500", small, "car_value", method="wasserstein", chunk_size=500),
    ]
    # NannyML's PeriodBasedChunker groups by pandas Period ('D' here): compare the chunk bounds
    chunker = nml.chunk.PeriodBasedChunker(offset="D", timestamp_column_name="timestamp")
    chunks = chunker.split(small)
    ts = pd.to_datetime(small["timestamp"])
    period = {
        "name": "car_loan_daily_periods",
        "call": "nml.chunk.PeriodBasedChunker(offset='D', timestamp_column_name='timestamp').split(reference.iloc[:6000])",
        "timestamps_ms": [int(t.value // 10**6) for t in ts],
        "chunk_start": [int(c.start_index) for c in chunks],
        "chunk_end_inclusive": [int(c.end_index) for c in chunks],
    }
    golden = {
        "versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__, "nannyml": nml.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        "multitest": multitest_cases(),
        "nannyml_ks": nanny,
        "nannyml_period": period,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

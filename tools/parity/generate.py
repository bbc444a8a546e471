"""Generate golden values for the stattest parity suite from the pinned Evidently.

Usage:
    python3.11 -m venv .venv/parity && .venv/parity/bin/pip install -r tools/parity/requirements.txt
    PYTHONHASHSEED=0 .venv/parity/bin/python tools/parity/generate.py   # writes test/fixtures/evidently/golden.json

Every case runs Evidently's own column-drift path (legacy Report + ColumnDriftMetric, which applies
the missing-value rule, the default test selection and the test), and records the exact call, the
input data, the selected test, threshold, drift score and verdict. Where a test has a statistic that
Evidently computes but does not report (KS D, chi2, U, A2, T, W, ...), it is recomputed with the same
SciPy/Evidently function on the cleaned data and recorded as `statistic`.
"""
import hashlib
import json
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
import scipy
from scipy import stats

import evidently
from evidently.legacy.calculations.stattests import registry as ev_registry
from evidently.legacy.calculations.stattests.cramer_von_mises_stattest import _cvm_2samp
from evidently.legacy.calculations.stattests.mmd_stattest import kernel_matrix, mmd_2samp
from evidently.legacy.calculations.stattests.tvd_stattest import _total_variation_distance
from evidently.legacy.calculations.stattests.utils import generate_fisher2x2_contingency_table
from evidently.legacy.calculations.stattests.utils import get_unique_not_nan_values_list_from_series
from evidently.legacy.calculations.stattests.z_stattest import proportions_diff_z_stat_ind
from evidently.legacy.core import ColumnType
from evidently.legacy.metrics import ColumnDriftMetric
from evidently.legacy.pipeline.column_mapping import ColumnMapping
from evidently.legacy.report import Report

warnings.filterwarnings("ignore")
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "evidently", "golden.json")

DISPLAY_TO_NAME = {}
for name, by_type in ev_registry._registered_stat_tests.items():
    for st in by_type.values():
        DISPLAY_TO_NAME[st.display_name] = name


def enc(v):
    """JSON has no NaN/Infinity: encode them as strings, numbers otherwise; None stays null."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    f = float(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    return f


DATA = {}


def intern(values):
    """Store each distinct data array once (cases share the large samples); cases hold its key."""
    blob = json.dumps(values, separators=(",", ":"))
    key = hashlib.sha1(blob.encode()).hexdigest()[:12]
    DATA[key] = values
    return key


def clean(s):
    return s.replace([-np.inf, np.inf], np.nan).dropna()


def statistic_of(name, ref, cur):
    """The test's own statistic, recomputed with the function Evidently calls (None for distances)."""
    try:
        if name == "ks":
            return stats.ks_2samp(ref, cur)[0]
        if name == "chisquare":
            keys = get_unique_not_nan_values_list_from_series(current_data=cur, reference_data=ref)
            rd = {**dict.fromkeys(keys, 0), **dict(ref.value_counts())}
            cd = {**dict.fromkeys(keys, 0), **dict(cur.value_counts())}
            k = cur.shape[0] / ref.shape[0]
            return stats.chisquare([cd[x] for x in keys], [rd[x] * k for x in keys])[0]
        if name == "g_test":
            keys = get_unique_not_nan_values_list_from_series(current_data=cur, reference_data=ref)
            rd = {**dict.fromkeys(keys, 0), **dict(ref.value_counts())}
            cd = {**dict.fromkeys(keys, 0), **dict(cur.value_counts())}
            return stats.power_divergence([cd[x] for x in keys], [rd[x] for x in keys], lambda_="log-likelihood")[0]
        if name == "z":
            if ref.nunique() == 1 and cur.nunique() == 1 and ref.unique()[0] == cur.unique()[0]:
                return 0.0
            keys = sorted(get_unique_not_nan_values_list_from_series(current_data=cur, reference_data=ref))
            return proportions_diff_z_stat_ind(ref.apply(lambda x: 0 if x == keys[0] else 1), cur.apply(lambda x: 0 if x == keys[0] else 1))
        if name == "t_test":
            return stats.ttest_ind(ref, cur)[0]
        if name == "mannw":
            return stats.mannwhitneyu(x=ref, y=cur, alternative="less")[0]
        if name == "anderson":
            return stats.anderson_ksamp([ref.values, cur.values])[0]
        if name == "cramer_von_mises":
            return _cvm_2samp(ref.to_numpy(), cur.to_numpy()).statistic
        if name == "es":
            return stats.epps_singleton_2samp(ref, cur)[0]
        if name == "fisher_exact":
            return stats.fisher_exact(generate_fisher2x2_contingency_table(ref, cur))[0]
        if name == "TVD":
            return _total_variation_distance(ref, cur)
        if name == "empirical_mmd":
            x = ref.to_numpy().reshape(-1, 1)
            y = cur.to_numpy().reshape(-1, 1)
            km = kernel_matrix(x, y)
            km = km - np.diag(np.diagonal(km))
            return mmd_2samp(km, y.shape[0], permute=False)
    except Exception as e:  # noqa: BLE001
        return None
    return None


def run_case(case):
    kind = case["kind"]
    ref = pd.Series(case["ref"], dtype=case.get("dtype"), name="x")
    cur = pd.Series(case["cur"], dtype=case.get("dtype"), name="x")
    if kind == "cat":
        ref = ref.astype(object).where(ref.notna(), None)
        cur = cur.astype(object).where(cur.notna(), None)
    mapping = ColumnMapping(
        numerical_features=["x"] if kind == "num" else [],
        categorical_features=["x"] if kind == "cat" else [],
        target=None,
        prediction=None,
    )
    kwargs = {"column_name": "x"}
    if case.get("stattest"):
        kwargs["stattest"] = case["stattest"]
    if case.get("threshold") is not None:
        kwargs["stattest_threshold"] = case["threshold"]
    call = (
        f"Report(metrics=[ColumnDriftMetric({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})])"
        f".run(reference_data=pd.DataFrame({{'x': ref}}), current_data=pd.DataFrame({{'x': cur}}), "
        f"column_mapping=ColumnMapping({'numerical' if kind == 'num' else 'categorical'}_features=['x'], target=None, prediction=None))"
    )
    out = {
        "name": case["name"],
        "note": case.get("note", ""),
        "kind": kind,
        "dtype": str(ref.dtype),
        "stattest_requested": case.get("stattest"),
        "threshold_requested": case.get("threshold"),
        "call": call,
        "reference": intern([enc(v) for v in case["ref"]]),
        "current": intern([enc(v) for v in case["cur"]]),
    }
    try:
        report = Report(metrics=[ColumnDriftMetric(**kwargs)])
        report.run(reference_data=pd.DataFrame({"x": ref}), current_data=pd.DataFrame({"x": cur}), column_mapping=mapping)
        res = report.as_dict()["metrics"][0]["result"]
        if "drift_score" not in res:
            raise RuntimeError(repr(res))
    except Exception as e:  # noqa: BLE001
        out["error"] = f"{type(e).__name__}: {e}"
        return out
    name = DISPLAY_TO_NAME[res["stattest_name"]]
    rc, cc = clean(ref), clean(cur)
    # cross-check the selection through the registry entry point too
    selected = ev_registry.get_stattest(rc, cc, ColumnType.Numerical if kind == "num" else ColumnType.Categorical, case.get("stattest"))
    assert selected.name == name, (selected.name, name)
    st = statistic_of(name, rc.copy(), cc.copy())
    out.update(
        {
            "stattest": name,
            "stattest_display_name": res["stattest_name"],
            "threshold": enc(res["stattest_threshold"]),
            "drift_score": enc(res["drift_score"]),
            "drift_detected": bool(res["drift_detected"]),
            "statistic": enc(st) if st is not None else None,
        }
    )
    return out


def r4(a):
    return [float(v) for v in np.round(np.asarray(a, dtype=float), 4)]


def build_cases():
    g = np.random.default_rng(20261126)
    C = []

    def add(name, kind, ref, cur, stattest=None, threshold=None, note="", dtype=None):
        if cur is None:
            cur = list(ref)
        C.append(dict(name=name, kind=kind, ref=list(ref), cur=list(cur), stattest=stattest, threshold=threshold, note=note, dtype=dtype))

    def cats(n, labels, p):
        return [str(x) for x in g.choice(labels, size=n, p=p)]

    # --- default selection, reference ≤ 1000 ---
    add("default_num_small_ks_drift", "num", r4(g.normal(size=200)), r4(g.normal(0.3, 1, size=150)), note="ref ≤ 1000, > 5 values → ks (exact, unequal sizes)")
    add("default_num_small_ks_nodrift", "num", r4(g.normal(size=300)), r4(g.normal(size=300)), note="→ ks exact, n1 == n2")
    add("default_num_tiny_ks", "num", [1.5, 2.25, 3.0, 4.75, 5.0, 6.5, 7.5], [2.5, 3.5, 8.0, 9.0, 10.0, 11.0], note="tiny sample → exact KS")
    add("default_num_binary_z", "num", [float(x) for x in g.integers(0, 2, 500)], [float(x) for x in (g.random(400) < 0.6)], note="numerical, 2 values → z", dtype="int64")
    add("default_num_3to5_chisquare", "num", [float(x) for x in g.integers(1, 5, 600)], [float(x) for x in g.choice([1, 2, 3, 4], 450, p=[0.4, 0.2, 0.2, 0.2])], note="numerical, 3–5 values → chisquare", dtype="int64")
    add("default_num_exactly_1000_ks", "num", r4(g.normal(size=1000)), r4(g.normal(0.05, 1, size=800)), note="1000-row boundary: ≤ 1000 → ks")
    add("default_num_1001_wasserstein", "num", r4(g.normal(size=1001)), r4(g.normal(0.05, 1, size=800)), note="1001 rows → wasserstein")
    add("default_cat_small_binary_z", "cat", cats(800, ["a", "b"], [0.5, 0.5]), cats(600, ["a", "b"], [0.4, 0.6]), note="categorical, 2 values → z")
    add("default_cat_small_multi_chisquare", "cat", cats(900, list("abcde"), [0.3, 0.3, 0.2, 0.1, 0.1]), cats(700, list("abcde"), [0.25, 0.3, 0.2, 0.15, 0.1]), note="categorical, > 2 values → chisquare")
    add("default_cat_only_in_current_chisquare", "cat", cats(400, list("abc"), [0.5, 0.3, 0.2]), cats(300, list("abcd"), [0.4, 0.3, 0.2, 0.1]), note="category only in current → E = 0, p = 0")
    add("default_cat_only_in_reference_chisquare", "cat", cats(400, list("abcd"), [0.4, 0.3, 0.2, 0.1]), cats(300, list("abc"), [0.5, 0.3, 0.2]), note="category only in reference")
    add("default_num_nan_inf_ks", "num", r4(g.normal(size=120)) + [float("nan"), float("inf"), float("-inf"), float("nan")], r4(g.normal(0.5, 1, size=90)) + [float("inf"), float("nan")], note="NaN and ±Inf dropped per side")
    add("default_num_constant_same_z", "num", [5.0] * 50, [5.0] * 40, note="constant, same value → z, p = 1")
    add("default_num_constant_diff_z", "num", [1.0] * 50, [2.0] * 40, note="two constants → z")
    add("default_cat_missing_chisquare", "cat", cats(300, list("xyz"), [0.5, 0.3, 0.2]) + [None, None], cats(250, list("xyz"), [0.3, 0.3, 0.4]) + [None], note="missing labels dropped")
    # --- default selection, reference > 1000 ---
    add("default_num_large_wasserstein", "num", r4(g.normal(size=5000)), r4(g.normal(0.2, 1.1, size=4000)), note="ref > 1000, > 5 values → wasserstein")
    add("default_num_large_few_values_js", "num", [float(x) for x in g.integers(0, 5, 3000)], [float(x) for x in g.choice(5, 3000, p=[0.3, 0.2, 0.2, 0.2, 0.1])], note="ref > 1000, ≤ 5 values → jensenshannon (per-value bins)", dtype="int64")
    add("default_cat_large_js", "cat", cats(2000, list("pqrstu"), [0.2, 0.2, 0.2, 0.2, 0.1, 0.1]), cats(2500, list("pqrstu"), [0.1, 0.2, 0.2, 0.2, 0.2, 0.1]), note="categorical, ref > 1000 → jensenshannon")
    add("default_cat_large_only_in_current_js", "cat", cats(1500, list("abc"), [0.5, 0.3, 0.2]), cats(1200, list("abcd"), [0.4, 0.3, 0.2, 0.1]), note="jensenshannon with a category only in current")
    add("default_num_large_nan_inf_wasserstein", "num", r4(g.normal(size=3000)) + [float("nan")] * 5 + [float("inf")], r4(g.normal(size=2000)) + [float("-inf")] * 3, note="wasserstein after dropping NaN/±Inf")
    big_r = r4(g.normal(size=50000))
    big_c = r4(g.normal(0.02, 1.0, size=50000))
    add("default_num_50k_wasserstein", "num", big_r, big_c, note="large sample, 50k vs 50k")
    # --- every test explicitly ---
    add("ks_50k_asymptotic", "num", big_r, big_c, stattest="ks", note="max(n) > 10000 → asymptotic (kstwo, n = 25000)")
    add("ks_12k_vs_11k_asymptotic", "num", r4(g.normal(size=12000)), r4(g.normal(0.03, 1, size=11000)), stattest="ks")
    add("ks_ties_ints", "num", [float(x) for x in g.integers(0, 30, 400)], [float(x) for x in g.integers(2, 32, 350)], stattest="ks", note="heavy ties")
    add("ks_constant_vs_constant", "num", [3.0] * 30, [3.0] * 20, stattest="ks", note="D = 0 → p = 1")
    add("chisquare_numeric_explicit", "num", [float(x) for x in g.integers(0, 6, 700)], [float(x) for x in g.integers(0, 7, 500)], stattest="chisquare", note="value 6 only in current")
    add("z_cat_explicit_threshold", "cat", cats(200, ["yes", "no"], [0.7, 0.3]), cats(180, ["yes", "no"], [0.6, 0.4]), stattest="z", threshold=0.2)
    add("wasserstein_small", "num", r4(g.exponential(size=300)), r4(g.exponential(1.3, size=250)), stattest="wasserstein")
    add("wasserstein_constant_ref", "num", [2.0] * 100, r4(g.normal(2, 0.01, size=80)), stattest="wasserstein", note="std(ref) = 0 → norm 0.001")
    add("jensenshannon_num_sturges", "num", r4(g.normal(size=800)), r4(g.normal(0.3, 1, size=600)), stattest="jensenshannon", note="> 20 values → Sturges bins over pooled data")
    add("jensenshannon_int_dtype", "num", [float(x) for x in g.integers(0, 40, 2000)], [float(x) for x in g.integers(0, 45, 2500)], stattest="jensenshannon", note="int64 column: numpy bin width ≥ 1", dtype="int64")
    add("psi_num_sturges", "num", r4(g.normal(size=2000)), r4(g.normal(0.1, 1.2, size=1500)), stattest="psi")
    add("psi_num_empty_bins", "num", r4(g.uniform(0, 1, size=500)), r4(g.uniform(0.5, 2, size=500)), stattest="psi", note="empty bins → epsilon fill")
    add("psi_cat", "cat", cats(1000, list("abcd"), [0.4, 0.3, 0.2, 0.1]), cats(900, list("abcde"), [0.35, 0.3, 0.2, 0.1, 0.05]), stattest="psi")
    add("psi_num_few_values", "num", [float(x) for x in g.integers(0, 10, 1500)], [float(x) for x in g.integers(0, 12, 1500)], stattest="psi", note="≤ 20 reference values → per-value bins")
    add("kl_div_num", "num", r4(g.normal(size=1500)), r4(g.normal(0.2, 1, size=1200)), stattest="kl_div")
    add("kl_div_cat", "cat", cats(600, list("abc"), [0.5, 0.3, 0.2]), cats(500, list("abc"), [0.3, 0.3, 0.4]), stattest="kl_div")
    add("hellinger_num", "num", r4(g.normal(size=700)), r4(g.normal(0.4, 1, size=650)), stattest="hellinger")
    add("hellinger_cat", "cat", cats(600, list("abcd"), [0.4, 0.3, 0.2, 0.1]), cats(500, list("abce"), [0.3, 0.3, 0.3, 0.1]), stattest="hellinger")
    add("anderson_shift", "num", r4(g.normal(size=300)), r4(g.normal(0.15, 1, size=250)), stattest="anderson", note="interpolated p")
    add("anderson_nodrift_capped", "num", r4(g.normal(size=300)), r4(g.normal(size=300)), stattest="anderson", note="p capped at 0.25")
    add("anderson_strong_floored", "num", r4(g.normal(size=200)), r4(g.normal(1, 1, size=200)), stattest="anderson", note="p floored at 0.001")
    add("anderson_ties", "num", [float(x) for x in g.integers(0, 8, 300)], [float(x) for x in g.integers(0, 9, 300)], stattest="anderson")
    add("cvm_exact_tiny", "num", [0.1, 0.4, 0.7, 1.3, 2.2, 2.9, 3.1, 4.0, 4.4, 5.6], [1.0, 1.5, 3.3, 3.9, 4.8, 5.0, 6.2, 7.1, 7.3, 8.8, 9.1, 9.9], stattest="cramer_von_mises", note="max(n) ≤ 20 → exact")
    add("cvm_asymptotic", "num", r4(g.normal(size=300)), r4(g.normal(0.1, 1, size=200)), stattest="cramer_von_mises")
    add("ed_small", "num", r4(g.normal(size=300)), r4(g.normal(0.2, 1, size=250)), stattest="ed")
    add("ed_large", "num", r4(g.gamma(2.0, size=20000)), r4(g.gamma(2.1, size=15000)), stattest="ed")
    add("es_moderate", "num", r4(g.normal(size=150)), r4(g.normal(0.3, 1.2, size=120)), stattest="es")
    add("es_small_corrected", "num", r4(g.normal(size=15)), r4(g.normal(0.5, 1, size=12)), stattest="es", note="max(n) < 25 → small-sample correction")
    add("fisher_exact_binary", "cat", cats(60, ["0", "1"], [0.5, 0.5]), cats(60, ["0", "1"], [0.3, 0.7]), stattest="fisher_exact")
    add("g_test_equal_sizes", "cat", cats(500, list("abcd"), [0.3, 0.3, 0.2, 0.2]), cats(500, list("abcd"), [0.25, 0.25, 0.25, 0.25]), stattest="g_test")
    add("g_test_unequal_sizes_error", "cat", cats(500, list("abc"), [0.3, 0.4, 0.3]), cats(400, list("abc"), [0.3, 0.4, 0.3]), stattest="g_test", note="SciPy refuses unequal totals → Evidently raises")
    add("t_test_shift", "num", r4(g.normal(size=300)), r4(g.normal(0.1, 1, size=250)), stattest="t_test")
    add("t_test_constant_nan", "num", [1.0] * 20, [1.0] * 30, stattest="t_test", note="zero variance → NaN, no drift")
    add("mannw_tiny_exact", "num", [1.1, 2.3, 3.8, 4.2, 5.9, 6.1], [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0], stattest="mannw", note="n ≤ 8, no ties → exact")
    add("mannw_tiny_exact_other_side", "num", [10.5, 11.0, 12.5, 13.0, 14.5], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], stattest="mannw", note="current smaller: one-sided test cannot detect it")
    add("mannw_asymptotic_ties", "num", [float(x) for x in g.integers(0, 20, 400)], [float(x) for x in g.integers(1, 21, 300)], stattest="mannw")
    add("empirical_mmd_strong", "num", r4(g.normal(size=150)), r4(g.normal(1.5, 1, size=120)), stattest="empirical_mmd", note="Evidently permutes with the unseeded global RNG: p reproducible only at 0")
    add("tvd_binary", "cat", cats(300, ["a", "b"], [0.5, 0.5]), cats(200, ["a", "b"], [0.42, 0.58]), stattest="TVD")
    add("tvd_multi", "cat", cats(250, list("abcd"), [0.25, 0.25, 0.25, 0.25]), cats(200, list("abcd"), [0.3, 0.2, 0.3, 0.2]), stattest="TVD")
    # --- edge cases of the p-value machinery ---
    add("cvm_exact_float16_tables", "num", [0.3, 1.1, 2.4, 3.3, 5.2], [0.9, 1.7, 2.0, 4.1, 4.4, 6.3], stattest="cramer_von_mises", note="Evidently's exact tables in float16 (combinations = 462)")
    add("cvm_exact_20_vs_15", "num", r4(g.normal(size=20)), r4(g.normal(0.4, 1, size=15)), stattest="cramer_von_mises", note="exact, float32 tables beyond 2^24")
    add("anderson_moderate", "num", r4(g.normal(size=400)), r4(g.normal(0.2, 1, size=400)), stattest="anderson")
    add("ks_tiny_equal_sizes", "num", [0.5, 1.2, 1.9, 2.2, 3.7, 4.1, 4.4, 5.0], [1.0, 2.5, 3.0, 5.5, 6.0, 6.1, 7.2, 8.4], note="exact KS, n1 == n2 = 8")
    small7 = [0.1, 0.5, 0.9, 1.4, 2.0, 2.6, 3.1]
    add("ks_10001_vs_7_asymptotic_small_n", "num", r4(g.normal(size=10001)), small7, stattest="ks", note="max(n) > 10000 but round(en) = 7 → kstwo small-n branch")
    base = r4(g.normal(size=20000))
    near = list(base)
    for i in range(10):
        near[i] = near[i] + 3.0
    add("ks_20k_nearly_identical_dmtw", "num", base, near, stattest="ks", note="asymptotic, tiny D → Durbin matrix branch")
    add("ks_30k_same_distribution_pelzgood", "num", r4(g.normal(size=30000)), r4(g.normal(size=30000)), stattest="ks", note="asymptotic, Pelz-Good branch")
    add("mannw_small_ties_asymptotic", "num", [1.0, 2.0, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0, 5.0], stattest="mannw", note="small but tied → normal approximation")
    add("fisher_exact_identical", "cat", ["a"] * 20 + ["b"] * 30, ["b"] * 30 + ["a"] * 20, stattest="fisher_exact", note="same counts → p = 1")
    add("fisher_exact_single_category", "cat", ["a"] * 25, ["a"] * 20 + ["b"] * 5, stattest="fisher_exact", note="reference has one category (placeholder column)")
    add("psi_int_dtype", "num", [float(x) for x in g.integers(0, 60, 3000)], [float(x) for x in g.integers(5, 65, 3000)], stattest="psi", dtype="int64")
    add("hellinger_int_dtype", "num", [float(x) for x in g.integers(0, 30, 1000)], [float(x) for x in g.integers(0, 35, 900)], stattest="hellinger", dtype="int64")
    add("kl_div_num_few_values_fill", "num", [float(x) for x in g.integers(0, 6, 800)], [float(x) for x in g.integers(0, 8, 700)], stattest="kl_div", note="per-value bins, values only in current → epsilon fill")
    add("psi_50k", "num", big_r, big_c, stattest="psi", note="large sample")
    add("jensenshannon_50k", "num", big_r, big_c, stattest="jensenshannon", note="large sample")
    add("z_string_keys_sorting", "cat", cats(300, ["10", "9"], [0.5, 0.5]), cats(300, ["10", "9"], [0.6, 0.4]), note="keys sorted as strings: '10' < '9'")
    add("chisquare_single_category_nan", "cat", ["k"] * 40, ["k"] * 30, stattest="chisquare", note="df = 0 → p = NaN, no drift")
    add("ed_identical", "num", r4(g.normal(size=500)), None, stattest="ed", note="same sample → 0")
    add("wasserstein_identical", "num", r4(g.normal(size=2000)), None, stattest="wasserstein", note="same sample → 0")
    add("t_test_50k", "num", big_r, big_c, stattest="t_test")
    add("es_discrete", "num", [float(x) for x in g.integers(0, 10, 200)], [float(x) for x in g.integers(0, 10, 180)], stattest="es", note="discrete data")
    add("tvd_three_unequal", "cat", cats(150, list("abc"), [0.5, 0.3, 0.2]), cats(120, list("abc"), [0.4, 0.3, 0.3]), stattest="TVD")
    add("mannw_50k_vs_50k", "num", big_r, big_c, stattest="mannw")
    add("anderson_50k", "num", big_r, big_c, stattest="anderson")
    add("cvm_50k", "num", big_r, big_c, stattest="cramer_von_mises")
    add("chisquare_single_category_rounding", "cat", ["a"] * 190, ["a"] * 197, stattest="chisquare", note="df = 0 and chi2 = 4e-30 from rounding → p = 0, drift")
    add("es_tiny_nan", "num", [0.5, 1.5, 2.5, 3.0], [1.0, 2.0, 3.5, 4.0, 5.0, 6.0], stattest="es", note="< 5 values → SciPy returns NaN, no drift")
    add("t_test_single_observation", "num", [1.7], [0.2, 0.9, 1.1, 1.4, 2.2], stattest="t_test", note="n = 1 contributes 0 to the pooled variance")
    add("anderson_two_values_error", "num", [1.0], [2.0], stattest="anderson", note="N = 2 → IndexError inside SciPy")
    return C


def corrected_cases():
    """Reference values for the documented `compat: false` variants, straight from SciPy."""
    from evidently.legacy.calculations.stattests.utils import get_binned_data

    g = np.random.default_rng(7)
    out = []

    def num(name, test, ref, cur, value, call):
        out.append({"name": name, "stattest": test, "kind": "num", "reference": intern([enc(v) for v in ref]), "current": intern([enc(v) for v in cur]), "score": enc(value), "call": call})

    def cat(name, test, ref, cur, value, call):
        out.append({"name": name, "stattest": test, "kind": "cat", "reference": intern(list(ref)), "current": intern(list(cur)), "score": enc(value), "call": call})

    a, b = r4(g.normal(size=60)), r4(g.normal(-0.5, 1, size=50))
    num("mannw_two_sided", "mannw", a, b, stats.mannwhitneyu(a, b, alternative="two-sided").pvalue, "scipy.stats.mannwhitneyu(ref, cur, alternative='two-sided').pvalue")
    a, b = [1.2, 3.4, 5.1, 6.0, 7.7], [0.5, 0.9, 2.2, 2.8, 4.0, 4.4]
    num("mannw_two_sided_exact", "mannw", a, b, stats.mannwhitneyu(a, b, alternative="two-sided").pvalue, "scipy.stats.mannwhitneyu(ref, cur, alternative='two-sided').pvalue (exact)")
    for name, (ra, ca) in {"cvm_exact_float64": ([0.3, 1.1, 2.4, 3.3, 5.2], [0.9, 1.7, 2.0, 4.1, 4.4, 6.3]), "cvm_exact_float64_10_12": ([0.1, 0.4, 0.7, 1.3, 2.2, 2.9, 3.1, 4.0, 4.4, 5.6], [1.0, 1.5, 3.3, 3.9, 4.8, 5.0, 6.2, 7.1, 7.3, 8.8, 9.1, 9.9])}.items():
        num(name, "cramer_von_mises", ra, ca, stats.cramervonmises_2samp(ra, ca, method="exact").pvalue, "scipy.stats.cramervonmises_2samp(ref, cur, method='exact').pvalue")
    a, b = r4(g.normal(size=900)), r4(g.normal(0.2, 1, size=700))
    rp, cp = get_binned_data(pd.Series(a), pd.Series(b), ColumnType.Numerical, 30, False)
    from scipy.spatial import distance
    num("jensenshannon_base2", "jensenshannon", a, b, distance.jensenshannon(rp, cp, 2), "scipy.spatial.distance.jensenshannon(*get_binned_data(ref, cur, num, 30, False), base=2)")
    ra = [str(x) for x in g.choice(list("abcd"), 500, p=[0.4, 0.3, 0.2, 0.1])]
    ca = [str(x) for x in g.choice(list("abcde"), 350, p=[0.3, 0.3, 0.2, 0.1, 0.1])]
    keys = sorted(set(ra) | set(ca))
    table = np.array([[ra.count(x) for x in keys], [ca.count(x) for x in keys]])
    cat("chisquare_homogeneity", "chisquare", ra, ca, stats.chi2_contingency(table, correction=False).pvalue, "scipy.stats.chi2_contingency([[ref counts], [cur counts]], correction=False).pvalue")
    cat("g_test_homogeneity", "g_test", ra, ca, stats.chi2_contingency(table, correction=False, lambda_="log-likelihood").pvalue, "scipy.stats.chi2_contingency(table, correction=False, lambda_='log-likelihood').pvalue")
    return out


TEXT_WORDS_A = ("apple banana cherry grape lemon mango melon orange peach pear plum berry kiwi lime fig date "
                "guava papaya apricot coconut").split()
TEXT_WORDS_B = ("engine piston turbo clutch gearbox brake wheel tyre axle chassis radiator exhaust spark valve "
                "throttle camshaft crank sensor battery fuse").split()
TEXT_FILLER = "the and of with is it in to for this very was".split()  # English stop words (dropped by the vectorizer)


def text_cases():
    """Text-column cases for perc_text_content_drift / abs_text_content_drift, run through Evidently's registry.

    Documents are short bags of words drawn with their own seeded generator (the numerical/categorical
    cases above are untouched). Both tests are run on every data pair.
    """
    from evidently.legacy.calculations.stattests import abs_text_content_drift_stat_test, perc_text_content_drift_stat_test
    from evidently.legacy.utils.data_drift_utils import roc_auc_random_classifier_percentile
    from sklearn.model_selection import train_test_split

    def random_percentile(ref, cur, threshold):
        # the bootstrap threshold Evidently compares the AUC with (same split as calculate_text_drift_score)
        dd = pd.concat([pd.DataFrame({"text": pd.Series(ref), "target": 0}), pd.DataFrame({"text": pd.Series(cur), "target": 1})])
        _, _, _, y_test = train_test_split(dd["text"], dd["target"], test_size=0.5, random_state=42, shuffle=True)
        return roc_auc_random_classifier_percentile(y_test, p_value=1 - threshold)

    g = np.random.default_rng(424242)

    def docs(n, words, p=None, lo=3, hi=9, filler=0.3):
        out = []
        for _ in range(n):
            k = int(g.integers(lo, hi + 1))
            toks = []
            for _ in range(k):
                if g.random() < filler:
                    toks.append(str(g.choice(TEXT_FILLER)))
                else:
                    toks.append(str(g.choice(words, p=p)))
            if g.random() < 0.3:
                toks[0] = toks[0].capitalize()
            out.append(" ".join(toks) + ("." if g.random() < 0.5 else ""))
        return out

    pairs = []
    shared = docs(60, TEXT_WORDS_A)
    pairs.append(("text_identical", shared, list(shared), "identical corpora"))
    pairs.append(("text_different_vocab", docs(50, TEXT_WORDS_A), docs(50, TEXT_WORDS_B), "disjoint vocabularies"))
    n = len(TEXT_WORDS_A)
    p1 = np.ones(n) / n
    p2 = np.linspace(1.0, 2.0, n)
    p2 = p2 / p2.sum()
    pairs.append(("text_subtle_shift", docs(150, TEXT_WORDS_A, p1), docs(130, TEXT_WORDS_A, p2), "same vocabulary, shifted word frequencies"))
    pairs.append(("text_tiny", docs(5, TEXT_WORDS_A + TEXT_WORDS_B), docs(4, TEXT_WORDS_A + TEXT_WORDS_B), "5 vs 4 documents"))
    templates_r = ["apple banana", "cherry grape lemon", "mango", "Banana apple!", "pear plum"]
    templates_c = ["apple banana", "engine piston", "mango melon", "cherry grape lemon", "turbo"]
    pairs.append(("text_ties", [templates_r[int(i)] for i in g.integers(0, 5, 40)], [templates_c[int(i)] for i in g.integers(0, 5, 36)], "many duplicate documents: tied probabilities"))
    mixed_b = TEXT_WORDS_A[:10] + TEXT_WORDS_B[:4]
    pairs.append(("text_partial_overlap", docs(200, TEXT_WORDS_A[:14], lo=5, hi=15), docs(180, mixed_b, lo=5, hi=15), "overlapping vocabularies, longer documents"))
    pairs.append(("text_stopwords_only", ["the and of", "it is the", "this was very"], ["of the", "and it", "to the"], "only stop words: empty vocabulary (Evidently raises)"))
    pairs.append(("text_unicode_punct", ["Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e", "na\u00efve r\u00e9sum\u00e9 d\u00e9j\u00e0 vu", "x_y z2 a1b2 it's don't", "Stra\u00dfe gro\u00df"] * 3,
                  ["Caf\u00e9 latte", "r\u00e9sum\u00e9 cover letter", "foo-bar baz_qux 42 7", "gro\u00df klein"] * 3, "accented words, underscores, digits, apostrophes"))

    out = []
    for name, ref, cur, note in pairs:
        for test, thresholds in ((perc_text_content_drift_stat_test, [None, 0.8]), (abs_text_content_drift_stat_test, [None, 0.7])):
            for thr in thresholds:
                threshold = test.default_threshold if thr is None else thr
                rec = {
                    "name": f"{name}_{test.name}" + ("" if thr is None else f"_t{thr}"),
                    "note": note,
                    "kind": "text",
                    "stattest": test.name,
                    "threshold_requested": thr,
                    "threshold": threshold,
                    "call": f"evidently.legacy.calculations.stattests.{test.name}_stat_test(pd.Series(ref), pd.Series(cur), ColumnType.Text, {threshold!r})",
                    "reference": intern(list(ref)),
                    "current": intern(list(cur)),
                }
                try:
                    res = test(pd.Series(ref, name="x"), pd.Series(cur, name="x"), ColumnType.Text, threshold)
                    rec.update({"drift_score": enc(res.drift_score), "drift_detected": bool(res.drifted), "actual_threshold": enc(res.actual_threshold)})
                    if test.name == "perc_text_content_drift":
                        rec["random_percentile"] = enc(random_percentile(ref, cur, threshold))
                except Exception as e:  # noqa: BLE001
                    rec["error"] = f"{type(e).__name__}: {e}"
                out.append(rec)
                print(f"{rec['name']:55s} {rec.get('drift_score', rec.get('error'))} {rec.get('drift_detected', '')}", file=sys.stderr)
    return out


def main():
    cases = build_cases()
    results = []
    for c in cases:
        r = run_case(c)
        results.append(r)
        print(f"{r['name']:45s} {r.get('stattest', '-'):18s} {r.get('drift_score', r.get('error'))}", file=sys.stderr)
    doc = {
        "generator": "tools/parity/generate.py",
        "evidently_version": evidently.__version__,
        "scipy_version": scipy.__version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "python_hash_seed": os.environ.get("PYTHONHASHSEED"),
        "cases": results,
        "corrected": corrected_cases(),
        "text_cases": text_cases(),
        "data": DATA,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {len(results)} cases to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()

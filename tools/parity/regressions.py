"""Regression fixtures for the dataset-level parity fixes (issue 9), in the fuzz fixture format.

Usage (the parity venv):
    PYTHONHASHSEED=0 $VENV/bin/python tools/parity/regressions.py     # writes test/drift/fixtures/fuzz/issue9-*/

Each folder gets reference.csv, current.csv and evidently.json, recorded with the same call as the
fuzzer (tools/parity/fuzz.py run_evidently: pd.read_csv both files, then
Report([DataDriftPreset()], include_tests=True).run(current_data=current, reference_data=reference)).
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzz import CALL, np, pd, evidently, run_evidently, write_csv  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "drift", "fixtures", "fuzz")


def floats(rng, n, mu):
    return [repr(round(rng.gauss(mu, 1), 3)) for _ in range(n)]


def cases():
    rng = random.Random(9)
    # 1. A column with one single value in both datasets is tested (no drift) and counted in the share.
    for n in (1500, 300):
        yield f"issue9-constant-{n}", ["x", "const"], [floats(rng, n, 0), ["7"] * n], [floats(rng, n, 0.8), ["7"] * n]
    # 2. Numbers mixed with text: in the reference the text comes first, in the current data only at
    # the end (after the reader has stored hundreds of numbers). Same distribution, same text per cell.
    def mixed(n, text_first):
        nums = rng.choices(["1.0", "2.0", "9.0"], k=n - 5)
        return ["UNK"] * 5 + nums if text_first else nums + ["UNK"] * 5
    yield "issue9-mixed", ["x", "m"], [floats(rng, 1200, 0), mixed(1200, True)], [floats(rng, 1200, 0), mixed(1200, False)]
    # 3. A column named prediction in a plain two-CSV comparison counts like any column.
    yield "issue9-prediction", ["x", "y", "prediction"], [floats(rng, 1200, 0), floats(rng, 1200, 0), rng.choices(["a", "b"], k=1200)], [
        floats(rng, 1200, 0.5),
        floats(rng, 1200, 0),
        rng.choices(["a", "b"], weights=[3, 1], k=1200),
    ]


def main():
    for name, header, ref, cur in cases():
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        write_csv(os.path.join(d, "reference.csv"), header, ref)
        write_csv(os.path.join(d, "current.csv"), header, cur)
        rec = {"evidently": evidently.__version__, "pandas": pd.__version__, "numpy": np.__version__, "call": CALL, "case": name, "error": None}
        rec.update(run_evidently(os.path.join(d, "reference.csv"), os.path.join(d, "current.csv")))
        with open(os.path.join(d, "evidently.json"), "w") as f:
            json.dump(rec, f, indent=1, ensure_ascii=False)
        print(name, rec["drifted_columns"], rec["dataset_drift"], {k: (v["method"], v["score"], v["drift"]) for k, v in rec["columns"].items()})


if __name__ == "__main__":
    main()

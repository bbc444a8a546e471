"""Writes the demo drift split of UCI Adult: data/reference.csv and data/current.csv.

reference = rows whose `education` is NOT in {Some-college, HS-grad, Bachelors} (14,155 rows),
current   = the rows in that set (34,687) -- the split of Evidently's getting-started example.
Rows are copied verbatim from data/adult/adult.csv (same header, missing values stay empty cells),
so the split is byte-for-byte reproducible. Standard library only.

Usage: python models/split_data.py [--root REPO_ROOT]
"""

import argparse
import csv
import io
import pathlib
import sys

CURRENT_EDUCATION = frozenset({"Some-college", "HS-grad", "Bachelors"})
EXPECTED = {"reference": 14155, "current": 34687}


def split(root: pathlib.Path) -> dict:
    src = root / "data" / "adult" / "adult.csv"
    text = src.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    edu_idx = next(csv.reader([header])).index("education")
    out = {"reference": [header], "current": [header]}
    for line in rows:
        fields = next(csv.reader(io.StringIO(line)))
        key = "current" if fields[edu_idx] in CURRENT_EDUCATION else "reference"
        out[key].append(line)
    counts = {k: len(v) - 1 for k, v in out.items()}
    if counts != EXPECTED:
        raise SystemExit(f"split_data: unexpected row counts {counts}, expected {EXPECTED}")
    for key, content in out.items():
        (root / "data" / f"{key}.csv").write_text("".join(content), encoding="utf-8")
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parent.parent))
    args = ap.parse_args()
    counts = split(pathlib.Path(args.root))
    print(f"split_data: reference={counts['reference']} current={counts['current']}", file=sys.stderr)


if __name__ == "__main__":
    main()

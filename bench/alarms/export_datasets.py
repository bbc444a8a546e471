"""Writes the bench's second dataset from the copy that the nannyml wheel ships (no download).

    python bench/alarms/export_datasets.py OUT_DIR

California housing (Pace & Barry 1997, StatLib; the 1990 US census block groups), as NannyML 0.13.1
bundles it: its *reference* period only (5,832 rows, in file order), the 8 features.
"""
import os
import sys

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

from nannyml.datasets import load_modified_california_housing_dataset  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
reference, _, _ = load_modified_california_housing_dataset()
features = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
reference[features].to_csv(os.path.join(out, "california.csv"), index=False)
print(f"california.csv: {len(reference)} rows")

"""Writes the bench's other datasets from the copies that the nannyml wheel ships (no download).

    python bench/alarms/export_datasets.py OUT_DIR

- california.csv: California housing (Pace & Barry 1997, StatLib; the 1990 US census block groups),
  as NannyML 0.13.1 bundles it: its *reference* period only (5,832 rows, in file order, which is
  ordered by place), the 8 features and NannyML's synthetic hourly `timestamp`.
- carloan.csv: NannyML's synthetic car loan dataset, *reference* period (50,000 rows over 303 days,
  ~165 a day, in time order), its 7 features and `timestamp`.
"""
import os
import sys

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

from nannyml.datasets import load_modified_california_housing_dataset, load_synthetic_car_loan_dataset  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
reference, _, _ = load_modified_california_housing_dataset()
features = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
reference[features + ["timestamp"]].to_csv(os.path.join(out, "california.csv"), index=False)
print(f"california.csv: {len(reference)} rows")
reference, _, _ = load_synthetic_car_loan_dataset()
features = ["car_value", "salary_range", "debt_to_income_ratio", "loan_length", "repaid_loan_on_prev_car", "size_of_downpayment", "driver_tenure"]
reference[features + ["timestamp"]].to_csv(os.path.join(out, "carloan.csv"), index=False)
print(f"carloan.csv: {len(reference)} rows")

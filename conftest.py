"""Suite-wide test set-up: Beacon's test settings are chosen before Django loads."""

import os

os.environ.setdefault("BEACON_ENV", "test")

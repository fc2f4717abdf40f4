"""Shared fixtures: paths to the real data in ../shared/data and the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
ECOM_XLSX = SHARED_DATA / "ecommerce_churn" / "E Commerce Dataset.xlsx"
ONLINE_RETAIL = SHARED_DATA / "online_retail" / "online_retail.csv.gz"
SAMPLE_CSV = ROOT / "sample_data" / "customers.csv"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not available: {path} (../shared/data is absent outside CI)")
    return path


@pytest.fixture(scope="session")
def ecom_xlsx() -> Path:
    """The real E-commerce churn workbook, or skip when ../shared/data is absent."""
    return _need(ECOM_XLSX)


@pytest.fixture(scope="session")
def online_retail_csv() -> Path:
    """The real UCI Online Retail log, or skip when ../shared/data is absent."""
    return _need(ONLINE_RETAIL)


@pytest.fixture(scope="session")
def sample_csv() -> Path:
    """The bundled synthetic sample table."""
    assert SAMPLE_CSV.exists(), (
        "sample_data/customers.csv is missing: python -m churn_core simulate --out it")
    return SAMPLE_CSV

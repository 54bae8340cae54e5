"""Paths handed to dbt and the Dagster resources are absolute, whatever the caller's working directory."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_billing.settings import (
    LANDING_DIR_ENV,
    PRICING_DIR_ENV,
    WAREHOUSE_PATH_ENV,
    BillingPaths,
)


def test_relative_paths_are_exported_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in (LANDING_DIR_ENV, WAREHOUSE_PATH_ENV, PRICING_DIR_ENV):
        monkeypatch.delenv(name, raising=False)  # restored afterwards
    BillingPaths(Path("landing"), Path("data/warehouse.duckdb"), Path("pricing")).export_env()
    assert os.environ[WAREHOUSE_PATH_ENV] == str(tmp_path / "data" / "warehouse.duckdb")
    assert os.environ[LANDING_DIR_ENV] == str(tmp_path / "landing")
    assert os.environ[PRICING_DIR_ENV] == str(tmp_path / "pricing")

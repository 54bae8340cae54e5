"""Shared, expensive fixtures: one real pipeline run (Dagster + dbt on a DuckDB file) for the whole session."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_billing.generator import GeneratedLanding, generate_landing
from dagster_billing.pipeline_run import PipelineRun, run_pipeline
from dagster_billing.settings import (
    LANDING_DIR_ENV,
    PRICING_DIR_ENV,
    REPO_ROOT,
    WAREHOUSE_PATH_ENV,
    BillingPaths,
)

pytest_plugins = ["stripe_fixtures"]  # the local Stripe emulator and invoice-mart warehouses

E2E_AS_OF = "2026-10-01"


@dataclass
class PipelineScenario:
    paths: BillingPaths
    landing: GeneratedLanding
    first_run: PipelineRun

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.paths.warehouse_path), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str, params: list | None = None):
        return self.query(sql, params)[0][0]


@pytest.fixture(scope="session")
def pipeline_scenario(tmp_path_factory: pytest.TempPathFactory) -> PipelineScenario:
    """Generated sample data (every malformed kind, duplicates, plan changes) run once through every asset."""
    saved = {name: os.environ.get(name) for name in (LANDING_DIR_ENV, WAREHOUSE_PATH_ENV, PRICING_DIR_ENV)}
    root = tmp_path_factory.mktemp("pipeline")
    paths = BillingPaths(root / "landing", root / "warehouse.duckdb", REPO_ROOT / "pricing_configs")
    landing = generate_landing(
        paths.landing_dir, customers=60, events=6_000, seed=11, end=date.fromisoformat(E2E_AS_OF)
    )
    run = run_pipeline(paths, E2E_AS_OF)
    yield PipelineScenario(paths, landing, run)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def rerun_scenario(pipeline_scenario: PipelineScenario) -> tuple[PipelineScenario, dict, PipelineRun]:
    """The same pipeline run a second time on the same landing folder; returns counts from before the re-run."""
    tables = (
        "raw.ingested_files",
        "raw.usage_events",
        "raw.usage_duplicates",
        "raw.usage_quarantine",
        "raw.usage_event_keys",
        "intermediate.int_billing_windows",
    )
    before = {table: pipeline_scenario.scalar(f"select count(*) from {table}") for table in tables}
    second = run_pipeline(pipeline_scenario.paths, E2E_AS_OF)
    return pipeline_scenario, before, second


def pytest_configure(config: pytest.Config) -> None:
    # dbt writes its logs and target files under the project; keep tests from littering the working tree.
    os.environ.setdefault("DBT_LOG_PATH", str(Path(REPO_ROOT, "dbt_project", "logs")))

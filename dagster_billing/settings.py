"""Where the pipeline reads and writes, from environment variables with local defaults.

Every path has one environment variable so that the CLI, Dagster resources and dbt's `profiles.yml`
agree on the same files; the defaults put everything under `./data` of the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

LANDING_DIR_ENV = "BILLING_LANDING_DIR"
WAREHOUSE_PATH_ENV = "BILLING_WAREHOUSE_PATH"
PRICING_DIR_ENV = "BILLING_PRICING_DIR"
# DuckDB otherwise takes up to 80% of the machine's memory; past this limit it spills to disk beside the warehouse.
DUCKDB_MEMORY_LIMIT_ENV = "BILLING_DUCKDB_MEMORY_LIMIT"
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"


def duckdb_memory_limit() -> str:
    return os.environ.get(DUCKDB_MEMORY_LIMIT_ENV, DEFAULT_DUCKDB_MEMORY_LIMIT)


@dataclass(frozen=True)
class BillingPaths:
    landing_dir: Path
    warehouse_path: Path
    pricing_dir: Path

    @property
    def segments_dir(self) -> Path:
        """Immutable Parquet copies of ingested usage files; they belong to the warehouse file."""
        return self.warehouse_path.with_name(self.warehouse_path.stem + "_segments")

    def export_env(self) -> None:
        """Make dbt (a subprocess) and Dagster resources see the same paths. Absolute: dbt runs in the dbt
        project's folder, where a path relative to the caller's working directory would point elsewhere."""
        os.environ[LANDING_DIR_ENV] = str(self.landing_dir.resolve())
        os.environ[WAREHOUSE_PATH_ENV] = str(self.warehouse_path.resolve())
        os.environ[PRICING_DIR_ENV] = str(self.pricing_dir.resolve())


def billing_paths() -> BillingPaths:
    return BillingPaths(
        landing_dir=Path(os.environ.get(LANDING_DIR_ENV, REPO_ROOT / "data" / "landing")).resolve(),
        warehouse_path=Path(
            os.environ.get(WAREHOUSE_PATH_ENV, REPO_ROOT / "data" / "warehouse.duckdb")
        ).resolve(),
        pricing_dir=Path(os.environ.get(PRICING_DIR_ENV, REPO_ROOT / "pricing_configs")).resolve(),
    )

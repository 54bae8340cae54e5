"""Run what-if scenarios and read their result: the small Python API (notebooks, the CLI, the Dagster asset).

from dagster_billing.whatif import compare_scenarios
result = compare_scenarios(["tier1_price_rise", "starter_to_starter_plus"])
result.customers.sort_values("change_reporting_minor")   # a pandas DataFrame per table
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from dagster_billing.defs.dbt.project import dbt_executable
from dagster_billing.pricing import load_pricing_configs
from dagster_billing.settings import BillingPaths, billing_paths
from dagster_billing.sql_literals import sql_identifier
from dagster_billing.whatif.scenario_files import Scenario, load_scenarios
from dagster_billing.whatif.workspace import (
    DEFAULT_FLAG_PERCENT,
    WhatifRange,
    dbt_whatif_args,
    prepare_whatif_database,
    run_whatif_dbt,
)

OUTPUT_TABLES = ("whatif_invoices_compared", "whatif_customers_compared", "whatif_months_compared")


@dataclass
class WhatifComparison:
    """What a what-if run produced: the database holding the `whatif.*` tables and those tables as DataFrames."""

    database_path: Path
    range: WhatifRange
    scenarios: list[Scenario]
    invoices: pd.DataFrame
    customers: pd.DataFrame
    months: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def scenario_names(self) -> list[str]:
        return [scenario.name for scenario in self.scenarios]


def compare_scenarios(
    names: Sequence[str],
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    paths: BillingPaths | None = None,
    flag_percent: Decimal = DEFAULT_FLAG_PERCENT,
    log_path: Path | None = None,
) -> WhatifComparison:
    """Price the scenarios `names` (files of `<pricing>/scenarios/`, or paths) over [date_from, date_to) of
    billing dates (default: the 12 whole months up to the last issued invoice) and compare them with what was issued.
    Raises ScenarioError (a scenario is invalid), WarehouseNotReady or DbtFailed."""
    paths = paths or billing_paths()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    actual_configs = load_pricing_configs(paths.pricing_dir)
    scenarios = load_scenarios(paths.pricing_dir, names, actual_configs)
    database_path, whatif_range = prepare_whatif_database(
        paths.warehouse_path, scenarios, actual_configs, date_from, date_to
    )
    seconds["inputs"] = time.perf_counter() - started
    started = time.perf_counter()
    log_path = log_path or database_path.with_name(database_path.stem + "_dbt.log")
    run_whatif_dbt(database_path, dbt_whatif_args(whatif_range, flag_percent), dbt_executable(), log_path)
    seconds["dbt"] = time.perf_counter() - started
    comparison = read_comparison(database_path, whatif_range, scenarios)
    comparison.seconds = seconds
    return comparison


def _table_sql(table: str) -> str:
    return f"select * from whatif.{sql_identifier(table)} order by all"


def read_comparison(
    database_path: Path, whatif_range: WhatifRange, scenarios: list[Scenario]
) -> WhatifComparison:
    """The what-if tables of a what-if database as DataFrames (amounts stay integers of minor units)."""
    con = duckdb.connect(str(database_path), read_only=True)
    try:
        frames = {table: con.execute(_table_sql(table)).df() for table in OUTPUT_TABLES}
    finally:
        con.close()
    return WhatifComparison(
        database_path,
        whatif_range,
        scenarios,
        invoices=frames["whatif_invoices_compared"],
        customers=frames["whatif_customers_compared"],
        months=frames["whatif_months_compared"],
    )

"""Build the what-if database: the scenarios' inputs beside a read-only warehouse, then the same dbt pricing models.

The what-if database is its own DuckDB file beside the warehouse (`<warehouse>_whatif.duckdb`), rebuilt by every
what-if run. The warehouse is attached read-only, so a what-if can never write a ledger row, an `actual` row or
anything Stripe reads. Into the what-if database go, for `actual` and for every scenario, a copy of what pricing
reads, with each customer id prefixed by the scenario (`growth_plus/cus_0001`):

- the billing windows, subscriptions (a moved subscription on its new plan) and customers (a scenario's customers
  pinned to its candidate version, so the candidate prices every window, except customers grandfathered on a
  version, who keep it unless the scenario moves them; `actual` keeps its pins);
- the usage already aggregated per window (never the raw events), multiplied by the scenario's elasticity;
- the pricing tables: the versions of `pricing_configs/` and each candidate, under one pricing scenario.

Then dbt runs the pricing models (`int_subscriptions_windowed` to the three line models that
`int_invoice_lines_computed` unions, unchanged) and the `whatif` models on that database. Pricing `actual` again on
the same inputs is what makes the comparison exact: the change of an invoice is scenario minus actual computed by
the same SQL, and the scenario's total is the issued total plus that change.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from dagster_billing.pricing import ACTUAL_SCENARIO, PricingConfig, write_pricing_tables
from dagster_billing.settings import DBT_PROJECT_DIR, WAREHOUSE_PATH_ENV
from dagster_billing.sql_literals import sql_string_literal
from dagster_billing.warehouse_file import configure_session, ensure_warehouse_file
from dagster_billing.whatif.assignment import Subscription, assigned_plans, scenario_warehouse_problems
from dagster_billing.whatif.scenario_files import Scenario, ScenarioError

# The one pricing scenario inside the what-if database: actual's versions and every candidate, told apart by pins.
PRICING_SCENARIO = "whatif"
# The pricing models a what-if re-runs, in the what-if database only (dbt selection).
PRICING_MODELS = (
    "stg_pricing_versions stg_pricing_plans stg_pricing_metrics stg_pricing_charges stg_pricing_charge_tiers "
    "int_subscriptions_windowed int_billing_windows_versioned int_subscription_segments_priced "
    "int_fixed_fees_prorated int_usage_percentage_fees_summed int_usage_charges_priced "
    "int_minimum_spend_trued_up int_revenue_fx_rates"
)
WHATIF_SELECTION = f"{PRICING_MODELS} tag:whatif"
DEFAULT_FLAG_PERCENT = Decimal(10)


class WarehouseNotReady(RuntimeError):
    """The warehouse has not been built (or is held by another process); one line for the CLI."""


@dataclass(frozen=True)
class WhatifRange:
    date_from: date
    date_to: date  # exclusive

    def __post_init__(self) -> None:
        if self.date_to <= self.date_from:
            raise ScenarioError([f"--from {self.date_from} must be before --to {self.date_to}"])


def whatif_database_path(warehouse_path: Path) -> Path:
    return warehouse_path.with_name(warehouse_path.stem + "_whatif.duckdb")


def default_range(
    con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None
) -> WhatifRange:
    """Unless given: the 12 whole months before the month in which the last issued invoice's next day falls (the
    last month may hold one day of invoices only, which would read as a drop in revenue)."""
    if date_to is None:
        (last,) = con.execute("select max(billing_date) from warehouse.billing.issued_invoices").fetchone()
        if last is None:
            raise WarehouseNotReady("the warehouse has no issued invoice yet: run `billing run` first")
        date_to = (last + timedelta(days=1)).replace(day=1)
    if date_from is None:
        date_from = (
            date_to.replace(year=date_to.year - 1, day=1)
            if date_to.day == 1
            else date_to - timedelta(days=365)
        )
    return WhatifRange(date_from, date_to)


def _attach(con: duckdb.DuckDBPyConnection, warehouse_path: Path) -> None:
    if not warehouse_path.exists():
        raise WarehouseNotReady(
            f"no warehouse at {warehouse_path}: run `billing run` (or `billing demo`) first"
        )
    try:
        # ATTACH takes no parameters; the path goes through the quoting helper
        con.execute(f"attach {sql_string_literal(warehouse_path)} as warehouse (read_only)")
    except duckdb.IOException as error:
        raise WarehouseNotReady(f"the warehouse {warehouse_path} cannot be opened: {error}") from error


def _subscriptions(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, str | None], list[Subscription]]:
    """Customers (id -> the version it is pinned to, or None) and every subscription with its currency."""
    try:
        customers = dict(
            con.execute(
                "select customer_id, pinned_pricing_version from warehouse.staging.stg_customers"
            ).fetchall()
        )
        rows = con.execute(
            "select s.subscription_id, s.customer_id, s.plan_id, c.currency "
            "from warehouse.staging.stg_subscriptions as s "
            "inner join warehouse.staging.stg_customers as c on s.customer_id = c.customer_id"
        ).fetchall()
    except duckdb.CatalogException as error:
        raise WarehouseNotReady("the warehouse is not built yet: run `billing run` first") from error
    return customers, [Subscription(*row) for row in rows]


def _write_inputs(con: duckdb.DuckDBPyConnection, scenarios: Sequence[Scenario], subscriptions) -> None:
    con.execute("create schema whatif_inputs")
    con.execute(
        "create table whatif_inputs.scenarios (scenario varchar primary key, is_actual boolean not null)"
    )
    con.executemany(
        "insert into whatif_inputs.scenarios values (?, ?)",
        [(ACTUAL_SCENARIO, True), *((scenario.name, False) for scenario in scenarios)],
    )
    con.execute(
        "create table whatif_inputs.plan_moves (scenario varchar, subscription_id varchar, plan_id varchar, "
        "primary key (scenario, subscription_id))"
    )
    moves = [
        (scenario.name, subscription_id, plan_id)
        for scenario in scenarios
        for subscription_id, plan_id in assigned_plans(scenario, subscriptions).items()
    ]
    if moves:
        con.executemany("insert into whatif_inputs.plan_moves values (?, ?, ?)", moves)
    con.execute(
        "create table whatif_inputs.moved_customers as "
        "select distinct plan_moves.scenario, subscriptions.customer_id from whatif_inputs.plan_moves "
        "inner join warehouse.staging.stg_subscriptions as subscriptions "
        "on plan_moves.subscription_id = subscriptions.subscription_id"
    )
    con.execute(
        "create table whatif_inputs.usage_factors (scenario varchar, metric varchar, factor decimal(38, 12), "
        "primary key (scenario, metric))"
    )
    factors = [
        (scenario.name, metric, scenario.usage_factor(metric))
        for scenario in scenarios
        for metric in scenario.settings.elasticity
    ]
    if factors:
        con.executemany("insert into whatif_inputs.usage_factors values (?, ?, ?)", factors)


# Each input copied once per scenario, the customer id prefixed by the scenario (fixed SQL: code, not data).
_PREFIXED = "scenarios.scenario || '/' || source.customer_id as customer_id"
_INPUT_COPIES = (
    "create schema staging",
    "create schema intermediate",
    "create schema reference",
    "create schema billing",
    f"""create table staging.stg_customers as
        select source.* replace (
            {_PREFIXED},
            -- a scenario's customers are on its candidate, unless grandfathered (and not moved by it)
            case
                when scenarios.is_actual then source.pinned_pricing_version
                when source.pinned_pricing_version is not null and moved_customers.customer_id is null
                    then source.pinned_pricing_version
                else scenarios.scenario
            end as pinned_pricing_version
        )
        from warehouse.staging.stg_customers as source cross join whatif_inputs.scenarios
        left join whatif_inputs.moved_customers
            on moved_customers.scenario = scenarios.scenario and moved_customers.customer_id = source.customer_id""",
    f"""create table staging.stg_subscriptions as
        select source.* replace (
            {_PREFIXED},
            coalesce(plan_moves.plan_id, source.plan_id) as plan_id
        )
        from warehouse.staging.stg_subscriptions as source cross join whatif_inputs.scenarios
        left join whatif_inputs.plan_moves
            on plan_moves.scenario = scenarios.scenario and plan_moves.subscription_id = source.subscription_id""",
    f"""create table intermediate.int_billing_windows as
        select source.* replace ({_PREFIXED})
        from warehouse.intermediate.int_billing_windows as source cross join whatif_inputs.scenarios
        where source.window_end >= $window_end_from and source.window_start < $window_start_before""",
    f"""create table intermediate.int_usage_aggregated_to_billing_windows as
        select source.* replace (
            {_PREFIXED},
            round(source.billed_quantity * coalesce(usage_factors.factor, 1), 12)::decimal(38, 12)
                as billed_quantity
        )
        from warehouse.intermediate.int_usage_aggregated_to_billing_windows as source
        cross join whatif_inputs.scenarios
        left join whatif_inputs.usage_factors
            on usage_factors.scenario = scenarios.scenario and usage_factors.metric = source.metric
        where
            source.billing_status = 'billable'
            and source.window_end >= $window_end_from and source.window_start < $window_start_before""",
    # percentage charges (priced per event) are refused in scenarios: no event is copied
    """create table intermediate.int_usage_events_windowed as
        select * from warehouse.intermediate.int_usage_events_windowed limit 0""",
    "create table reference.fx_rates as select * from warehouse.reference.fx_rates",
    """create table billing.issued_invoices as
        select invoice_id, customer_id, billing_date, currency, subtotal_minor, total_minor
        from warehouse.billing.issued_invoices""",
)


def _copy_inputs(con: duckdb.DuckDBPyConnection, whatif_range: WhatifRange) -> None:
    """Only the windows an invoice dated in the range bills: its usage window ends on the billing date, its
    in-advance fee's window starts on it (two days of slack either way for local midnights in UTC)."""
    window_bounds = {
        "window_end_from": datetime.combine(whatif_range.date_from - timedelta(days=2), time()),
        "window_start_before": datetime.combine(whatif_range.date_to + timedelta(days=2), time()),
    }
    for statement in _INPUT_COPIES:
        con.execute(statement, window_bounds if "$window_end_from" in statement else None)


def prepare_whatif_database(
    warehouse_path: Path,
    scenarios: Sequence[Scenario],
    actual_configs: Sequence[PricingConfig],
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[Path, WhatifRange]:
    """A fresh what-if database with every input; raises ScenarioError or WarehouseNotReady."""
    path = whatif_database_path(warehouse_path)
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    ensure_warehouse_file(path)  # in the storage format the DuckDB CLI and BI tools read, as the warehouse
    con = configure_session(duckdb.connect(str(path)))
    try:
        _attach(con, warehouse_path)
        customers, subscriptions = _subscriptions(con)
        problems = [
            problem
            for scenario in scenarios
            for problem in scenario_warehouse_problems(scenario, customers, subscriptions)
        ]
        if problems:
            raise ScenarioError(problems)
        whatif_range = default_range(con, date_from, date_to)
        _write_inputs(con, scenarios, subscriptions)
        _copy_inputs(con, whatif_range)
        write_pricing_tables(con, [*actual_configs, *(s.candidate for s in scenarios)], PRICING_SCENARIO)
        con.execute("detach warehouse")
    finally:
        con.close()
    return path, whatif_range


def dbt_whatif_args(whatif_range: WhatifRange, flag_percent: Decimal = DEFAULT_FLAG_PERCENT) -> list[str]:
    """`dbt run` of the pricing models and the whatif models, on the what-if database only."""
    # billed up to two days after the range: every invoice dated in it is computed (local midnights are at
    # most a day from UTC), and the whatif models keep only the range's billing dates
    as_of = (whatif_range.date_to + timedelta(days=2)).isoformat()
    dbt_vars = {
        "as_of": as_of,
        "whatif_from": whatif_range.date_from.isoformat(),
        "whatif_to": whatif_range.date_to.isoformat(),
        "whatif_flag_percent": str(flag_percent),
    }
    return ["run", "--select", *WHATIF_SELECTION.split(), "--vars", json.dumps(dbt_vars)]


class DbtFailed(RuntimeError):
    pass


def run_whatif_dbt(database_path: Path, args: list[str], dbt_executable: str, log_path: Path) -> None:
    """dbt in its own target folder (the Dagster manifest in target/ stays as it is), on the what-if database."""
    env = {**os.environ, WAREHOUSE_PATH_ENV: str(database_path.resolve())}
    command = [dbt_executable, "--quiet", *args, "--target-path", "target/whatif", "--profiles-dir", "."]
    with open(log_path, "w") as log:
        result = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise DbtFailed(
            f"dbt failed on the what-if database (exit {result.returncode}); its output: {log_path}"
        )

"""Build the dbt staging and intermediate models once per test session on a throwaway DuckDB file.

Test modules register the raw rows they need at import time (pytest imports every collected module before
running any test); the first test that asks for the warehouse creates the raw tables, inserts every registered
row and runs `dbt build` once, in-process, with its own target and log paths so parallel runs do not clash.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

# One billing run for the whole session: every case is written against this cut-off (UTC).
AS_OF = "2024-05-01 00:00:00"

RAW_TABLES_DDL = """
create schema if not exists raw;
create table raw.customers (
    customer_id varchar not null, name varchar, email varchar, currency varchar, billing_anchor date not null,
    collection_method varchar, days_until_due integer, timezone varchar not null default 'UTC',
    stripe_customer_id varchar, pricing_version varchar, source_file varchar, source_row bigint,
    before_anchor varchar, trial_period varchar
);
create table raw.subscriptions (
    subscription_id varchar not null, customer_id varchar not null, plan_id varchar not null,
    started_at timestamp not null, ended_at timestamp, quantity integer, trial_ends_at timestamp,
    source_file varchar, source_row bigint, proration_behavior varchar
);
create table raw.usage_events (
    event_id varchar, customer_id varchar, metric varchar, quantity decimal(38, 12), occurred_at timestamp,
    properties json, source_file_id integer, source_row bigint
);
create table raw.pricing_versions (
    scenario varchar not null, pricing_version varchar, effective_from date, rounding_mode varchar,
    source_file varchar
);
create table raw.pricing_plans (
    scenario varchar not null, pricing_version varchar, effective_from date, plan_id varchar, currency varchar,
    plan_name varchar, interval_unit varchar, interval_count integer, billing_time varchar,
    minor_unit_digits integer default 2, rounding_mode varchar default 'half_up',
    proration_unit varchar default 'second', base_fee_amount decimal(38, 12) default 0,
    base_fee_timing varchar default 'in_advance', minimum_spend_amount decimal(38, 12), source_file varchar
);
create table raw.pricing_metrics (
    scenario varchar not null, pricing_version varchar, metric varchar, metric_name varchar, aggregation varchar,
    unique_property varchar, source_file varchar
);
create table raw.pricing_charges (
    scenario varchar not null, pricing_version varchar, plan_id varchar, currency varchar, metric varchar,
    charge_model varchar, included_units decimal(38, 12), unit_amount decimal(38, 12),
    package_size decimal(38, 12), package_amount decimal(38, 12), package_rounding varchar, rate decimal(38, 12),
    fixed_fee_per_event decimal(38, 12), per_event_min_amount decimal(38, 12),
    per_event_max_amount decimal(38, 12), source_file varchar, free_units_per_events integer,
    free_units_per_total_aggregation decimal(38, 12)
);
create table raw.tax_rates (
    jurisdiction varchar, jurisdiction_name varchar, tax_name varchar, product varchar, rate_percent decimal(9, 4),
    is_exempt boolean, reverse_charge_b2b boolean, source_file varchar
);
create table raw.customer_tax (
    customer_id varchar, tax_country varchar, tax_region varchar, tax_id varchar, tax_exempt varchar,
    source_file varchar, source_row integer
);
create table raw.pricing_charge_tiers (
    scenario varchar not null, pricing_version varchar, plan_id varchar, currency varchar, metric varchar,
    tier_number integer, lower_bound decimal(38, 12), up_to decimal(38, 12), unit_amount decimal(38, 12),
    rate decimal(38, 12), flat_amount decimal(38, 12)
);
"""

# Plans named by cadence: (interval_unit, interval_count, billing_time).
PLANS = {
    "monthly": ("month", 1, "anniversary"),
    "monthly_pro": ("month", 1, "anniversary"),
    "bimonthly": ("month", 2, "anniversary"),
    "yearly": ("year", 1, "anniversary"),
    "weekly": ("week", 1, "anniversary"),
    "calendar_monthly": ("month", 1, "calendar"),
    "calendar_yearly": ("year", 1, "calendar"),
    "calendar_weekly": ("week", 1, "calendar"),
}

# Plans with a base fee, for the calendar and proration cases:
# (interval_unit, interval_count, billing_time, base fee in EUR, proration_unit, base_fee_timing).
FEE_PLANS = {
    "fee_monthly_30": ("month", 1, "anniversary", "30.00", "second", "in_advance"),
    "fee_monthly_60": ("month", 1, "anniversary", "60.00", "second", "in_advance"),
    "fee_monthly_90": ("month", 1, "anniversary", "90.00", "second", "in_advance"),
    "fee_yearly_300": ("year", 1, "anniversary", "300.00", "second", "in_advance"),
    "fee_monthly_30_arrears": ("month", 1, "anniversary", "30.00", "second", "in_arrears"),
    "fee_yearly_300_arrears": ("year", 1, "anniversary", "300.00", "second", "in_arrears"),
    "fee_yearly_120_by_day": ("year", 1, "anniversary", "120.00", "day", "in_advance"),
    "fee_monthly_10_by_day": ("month", 1, "anniversary", "10.00", "day", "in_advance"),
    "fee_weekly_7": ("week", 1, "anniversary", "7.00", "second", "in_advance"),
    "fee_calendar_quarterly_90_by_day": ("month", 3, "calendar", "90.00", "day", "in_advance"),
    "fee_calendar_half_yearly_182_by_day": ("month", 6, "calendar", "182.00", "day", "in_advance"),
}

METRICS = {
    # metric: (aggregation, unique_property)
    "api_calls": ("sum", None),
    "requests": ("count", None),
    "storage_gb": ("max", None),
    "seats": ("latest", None),
    "active_users": ("unique_count", "user_id"),
}

_ROWS: dict[str, list[tuple]] = {"customers": [], "subscriptions": [], "usage_events": []}


def register_customer(
    customer_id: str,
    billing_anchor: str,
    timezone: str = "UTC",
    subscriptions: Iterable[tuple] = (),
    before_anchor: str | None = None,
    trial_period: str | None = None,
) -> None:
    """A customer with its subscriptions as (subscription_id, plan_id, started_at, ended_at or None[, extras]),
    extras a dict of other raw.subscriptions columns (trial_ends_at, proration_behavior)."""
    _ROWS["customers"].append((customer_id, billing_anchor, timezone, before_anchor, trial_period))
    for subscription_id, plan_id, started_at, ended_at, *extras in subscriptions:
        extra = extras[0] if extras else {}
        _ROWS["subscriptions"].append(
            (
                subscription_id,
                customer_id,
                plan_id,
                started_at,
                ended_at,
                extra.get("trial_ends_at"),
                extra.get("proration_behavior"),
            )
        )


def register_event(
    event_id: str,
    customer_id: str,
    metric: str,
    quantity: str,
    occurred_at: str,
    properties: dict | None = None,
) -> None:
    _ROWS["usage_events"].append(
        (
            event_id,
            customer_id,
            metric,
            quantity,
            occurred_at,
            None if properties is None else json.dumps(properties),
        )
    )


def _write_raw(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(RAW_TABLES_DDL)
        for plan_id, (unit, count, billing_time) in PLANS.items():
            for version, effective_from in (("v1", "2020-01-01"), ("v2", "2024-04-01")):
                con.execute(
                    "insert into raw.pricing_plans (scenario, pricing_version, effective_from, plan_id, plan_name,"
                    " currency, interval_unit, interval_count, billing_time)"
                    " values ('actual', ?, ?, ?, ?, 'EUR', ?, ?, ?)",
                    [version, effective_from, plan_id, plan_id.title(), unit, count, billing_time],
                )
        for version, effective_from in (("v1", "2020-01-01"), ("v2", "2024-04-01")):
            con.execute(
                "insert into raw.pricing_versions values ('actual', ?, ?, 'half_up', 'pricing.yaml')",
                [version, effective_from],
            )
        for plan_id, (unit, count, billing_time, fee, proration_unit, timing) in FEE_PLANS.items():
            for version, effective_from in (("v1", "2020-01-01"), ("v2", "2024-04-01")):
                con.execute(
                    "insert into raw.pricing_plans (scenario, pricing_version, effective_from, plan_id, plan_name,"
                    " currency, interval_unit, interval_count, billing_time, proration_unit, base_fee_amount,"
                    " base_fee_timing) values ('actual', ?, ?, ?, ?, 'EUR', ?, ?, ?, ?, ?, ?)",
                    [
                        version,
                        effective_from,
                        plan_id,
                        plan_id,
                        unit,
                        count,
                        billing_time,
                        proration_unit,
                        fee,
                        timing,
                    ],
                )
        for metric, (aggregation, unique_property) in METRICS.items():
            for version in ("v1", "v2"):
                con.execute(
                    "insert into raw.pricing_metrics (scenario, pricing_version, metric, metric_name, aggregation,"
                    " unique_property) values ('actual', ?, ?, ?, ?, ?)",
                    [version, metric, metric.replace("_", " "), aggregation, unique_property],
                )
        for row, (customer_id, anchor, timezone, *options) in enumerate(_ROWS["customers"], start=1):
            con.execute(
                "insert into raw.customers values (?, ?, ?, 'EUR', ?, 'charge_automatically', null, ?, null, null,"
                " 'customers.csv', ?, ?, ?)",
                [
                    customer_id,
                    customer_id,
                    f"{customer_id}@example.com",
                    anchor,
                    timezone,
                    row,
                    *options,
                ],
            )
        for row, subscription in enumerate(_ROWS["subscriptions"], start=1):
            con.execute(
                "insert into raw.subscriptions (subscription_id, customer_id, plan_id, started_at, ended_at,"
                " trial_ends_at, proration_behavior, quantity, source_file, source_row)"
                " values (?, ?, ?, ?, ?, ?, ?, 1, 'subscriptions.csv', ?)",
                [*subscription, row],
            )
        for row, event in enumerate(_ROWS["usage_events"], start=1):
            con.execute("insert into raw.usage_events values (?, ?, ?, ?, ?, ?, 1, ?)", [*event, row])


def run_dbt(warehouse_path: Path, work_dir: Path, args: list[str], as_of: str = AS_OF) -> None:
    """Run dbt in-process against `warehouse_path`; raise with dbt's failures when it does not succeed."""
    from dbt.cli.main import dbtRunner

    previous = os.environ.get("BILLING_WAREHOUSE_PATH")
    os.environ["BILLING_WAREHOUSE_PATH"] = str(warehouse_path)
    try:
        result = dbtRunner().invoke(
            [
                *args,
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(work_dir / "target"),
                "--log-path",
                str(work_dir / "logs"),
                "--vars",
                json.dumps({"as_of": as_of}),
                "--no-partial-parse",
                "--quiet",
            ]
        )
    finally:
        if previous is None:
            os.environ.pop("BILLING_WAREHOUSE_PATH", None)
        else:
            os.environ["BILLING_WAREHOUSE_PATH"] = previous
    if not result.success:
        failures = []
        for node_result in getattr(result.result, "results", None) or []:
            if str(node_result.status) not in ("success", "pass"):
                failures.append(f"{node_result.node.unique_id}: {node_result.status}: {node_result.message}")
        raise AssertionError("dbt failed:\n" + ("\n".join(failures) or repr(result.exception)))


@functools.cache
def built_warehouse() -> Path:
    """The session's warehouse: raw rows of every registered case, staging + intermediate built and tested.

    The finance intermediates read the invoice marts, which these cases do not build, and the models that read
    the ledger, Stripe's table or the ingestion manifest have no tables here: they are left out.
    """
    work_dir = Path(tempfile.mkdtemp(prefix="billing_dbt_"))
    warehouse_path = work_dir / "warehouse.duckdb"
    _write_raw(warehouse_path)
    run_dbt(
        warehouse_path,
        work_dir,
        [
            "build",
            *("--select", "path:models/staging", "path:models/intermediate"),
            *(
                "--exclude",
                "path:models/intermediate/finance",
                "source:billing+",
                "source:stripe+",
                "source:raw.ingested_files+",
            ),
        ],
    )
    return warehouse_path


def query(sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(built_warehouse())) as con:
        return con.execute(sql, params or []).fetchall()

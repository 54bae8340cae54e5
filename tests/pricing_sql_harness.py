"""The dbt pricing SQL, compiled once, run on hand-made inputs in a scratch DuckDB file: the same SQL the
warehouse runs (int_usage_percentage_fees_summed, int_usage_charges_priced and the round_to_minor macro through
the `usage_lines_rounded` analysis), with its upstream relations replaced by small tables a test fills. This lets a
property test price hundreds of random cases in milliseconds each instead of one dbt build per case."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
from dbt_harness import run_dbt

from dagster_billing.pricing.reference import Charge

COMPILED = Path("compiled", "billing")
INPUT_TABLES_DDL = """
create schema if not exists staging;
create schema if not exists intermediate;
create or replace table intermediate.int_subscription_segments_priced (
    scenario varchar, customer_id varchar, currency varchar, window_start timestamp, window_end timestamp,
    window_start_date date, window_end_date date, pricing_version varchar, subscription_id varchar, plan_id varchar, plan_name varchar,
    minor_unit_digits integer, rounding_mode varchar, is_plan_priced boolean
);
create or replace table intermediate.int_usage_aggregated_to_billing_windows (
    customer_id varchar, window_start timestamp, subscription_id varchar, metric varchar, billing_status varchar,
    billed_quantity decimal(38, 12)
);
create or replace table intermediate.int_usage_events_windowed (
    customer_id varchar, window_start timestamp, subscription_id varchar, plan_id varchar, metric varchar,
    quantity decimal(38, 12), billing_status varchar, event_id varchar, occurred_at timestamp
);
create or replace table intermediate.int_billing_windows_versioned (
    scenario varchar, customer_id varchar, window_start timestamp, pricing_version varchar, currency varchar
);
create or replace table staging.stg_pricing_charges (
    scenario varchar, pricing_version varchar, plan_id varchar, currency varchar, metric varchar,
    charge_model varchar, included_units decimal(38, 12), unit_amount decimal(38, 12),
    package_size decimal(38, 12), package_amount decimal(38, 12), package_rounding varchar,
    rate decimal(38, 12), fixed_fee_per_event decimal(38, 12), per_event_min_amount decimal(38, 12),
    per_event_max_amount decimal(38, 12), free_units_per_events integer, free_units_per_total_aggregation decimal(38, 12)
);
create or replace table staging.stg_pricing_charge_tiers (
    scenario varchar, pricing_version varchar, plan_id varchar, currency varchar, metric varchar,
    tier_number integer, lower_bound decimal(38, 12), up_to decimal(38, 12), unit_amount decimal(38, 12),
    rate decimal(38, 12), flat_amount decimal(38, 12)
);
create or replace table staging.stg_pricing_metrics (
    scenario varchar, pricing_version varchar, metric varchar, metric_name varchar
);
"""
WINDOW = ("2024-01-01 00:00:00", "2024-02-01 00:00:00")


@dataclass(frozen=True)
class PricingCase:
    charge: Charge
    window_quantity: Decimal
    event_quantities: tuple[Decimal, ...]
    currency: str
    digits: int
    mode: str


@dataclass(frozen=True)
class SqlLine:
    tier: int | None
    quantity: Decimal
    amount: Decimal
    amount_minor: int


class PricingSql:
    """A scratch warehouse holding the compiled pricing SQL; `price(cases)` returns each case's usage lines."""

    def __init__(self) -> None:
        work_dir = Path(tempfile.mkdtemp(prefix="pricing_sql_"))
        path = work_dir / "pricing_harness.duckdb"
        run_dbt(
            path,
            work_dir,
            [
                "compile",
                "--select",
                "int_usage_percentage_fees_summed int_usage_charges_priced usage_lines_rounded",
            ],
        )
        compiled = work_dir / "target" / COMPILED
        self._percentage_sql = (
            compiled / "models/intermediate/pricing/int_usage_percentage_fees_summed.sql"
        ).read_text()
        self._charges_sql = (
            compiled / "models/intermediate/pricing/int_usage_charges_priced.sql"
        ).read_text()
        self._rounded_sql = (compiled / "analyses/usage_lines_rounded.sql").read_text()
        self._con = duckdb.connect(str(path))
        self._con.execute("set TimeZone = 'UTC'")

    def price(self, cases: list[PricingCase]) -> list[list[SqlLine]]:
        con = self._con
        con.execute(INPUT_TABLES_DDL)
        for index, case in enumerate(cases):
            self._insert(index, case)
        con.execute(
            f"create or replace table intermediate.int_usage_percentage_fees_summed as {self._percentage_sql}"
        )
        con.execute(f"create or replace table intermediate.int_usage_charges_priced as {self._charges_sql}")
        rows = con.execute(
            f"select customer_id, tier, quantity, amount, amount_minor from ({self._rounded_sql}) "
            "order by customer_id, tier nulls first"
        ).fetchall()
        lines: list[list[SqlLine]] = [[] for _ in cases]
        for customer_id, tier, quantity, amount, amount_minor in rows:
            lines[int(customer_id.removeprefix("c"))].append(SqlLine(tier, quantity, amount, amount_minor))
        return lines

    def _insert(self, index: int, case: PricingCase) -> None:
        con, charge, customer = self._con, case.charge, f"c{index}"
        plan = f"p{index}"
        con.execute(
            "insert into intermediate.int_subscription_segments_priced values "
            "('actual', ?, ?, ?, ?, ?::date, ?::date, 'v1', ?, ?, 'Plan', ?, ?, true)",
            [customer, case.currency, *WINDOW, *WINDOW, f"s{index}", plan, case.digits, case.mode],
        )
        con.execute(
            "insert into intermediate.int_billing_windows_versioned values ('actual', ?, ?, 'v1', ?)",
            [customer, WINDOW[0], case.currency],
        )
        con.execute(
            "insert into intermediate.int_usage_aggregated_to_billing_windows values (?, ?, ?, 'm', 'billable', ?)",
            [customer, WINDOW[0], f"s{index}", case.window_quantity],
        )
        # events in the given order (Lago's free units count the first ones): one second apart
        for number, quantity in enumerate(case.event_quantities):
            con.execute(
                "insert into intermediate.int_usage_events_windowed"
                " values (?, ?, ?, ?, 'm', ?, 'billable', ?, ?::timestamp + to_seconds(?))",
                [
                    customer,
                    WINDOW[0],
                    f"s{index}",
                    plan,
                    quantity,
                    f"{customer}_e{number:06d}",
                    WINDOW[0],
                    number,
                ],
            )
        con.execute(
            "insert into staging.stg_pricing_charges"
            " values ('actual', 'v1', ?, ?, 'm', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                plan,
                case.currency,
                charge.model,
                charge.included_units,
                charge.unit_amount,
                charge.package_size,
                charge.package_amount,
                charge.package_rounding,
                charge.rate,
                charge.fixed_fee_per_event,
                charge.per_event_min,
                charge.per_event_max,
                charge.free_units_per_events,
                charge.free_units_per_total_aggregation,
            ],
        )
        lower = Decimal(0)
        for number, tier in enumerate(charge.tiers, start=1):
            con.execute(
                "insert into staging.stg_pricing_charge_tiers values ('actual', 'v1', ?, ?, 'm', ?, ?, ?, ?, ?, ?)",
                [
                    plan,
                    case.currency,
                    number,
                    lower,
                    tier.up_to,
                    tier.unit_amount,
                    tier.rate,
                    tier.flat_amount,
                ],
            )
            lower = tier.up_to if tier.up_to is not None else lower

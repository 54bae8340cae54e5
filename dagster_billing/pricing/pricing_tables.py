"""Write validated pricing configs to the raw pricing tables, one scenario at a time.

Every table starts with `scenario`: `actual` for the configs in pricing_configs/, another name for a what-if
config an analyst loads next to them. Writing a scenario replaces that scenario's rows in all five tables in
one transaction: a reader (or dbt) sees either the previous set of versions or the new one, never a mix, and
the other scenarios are left as they were. The files are the source of truth, so every load rewrites all of a
scenario's versions instead of appending.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from dagster_billing.pricing.config_models import PricingConfig
from dagster_billing.pricing.pricing_table_rows import table_rows

ACTUAL_SCENARIO = "actual"
DECIMAL = "decimal(38, 12)"

# table -> (column, type) in order, then the primary key. Column names are the contract (/work/contracts.md).
TABLE_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "pricing_versions": [
        ("scenario", "varchar not null"),
        ("pricing_version", "varchar not null"),
        ("effective_from", "date not null"),
        ("rounding_mode", "varchar not null"),
        ("source_file", "varchar not null"),
    ],
    "pricing_plans": [
        ("scenario", "varchar not null"),
        ("pricing_version", "varchar not null"),
        ("effective_from", "date not null"),
        ("plan_id", "varchar not null"),
        ("currency", "varchar not null"),
        ("plan_name", "varchar not null"),
        ("interval_unit", "varchar not null"),
        ("interval_count", "integer not null"),
        ("billing_time", "varchar not null"),
        ("minor_unit_digits", "integer not null"),
        ("rounding_mode", "varchar not null"),
        ("proration_unit", "varchar not null"),
        ("base_fee_amount", f"{DECIMAL} not null"),
        ("base_fee_timing", "varchar not null"),
        ("minimum_spend_amount", DECIMAL),
        ("source_file", "varchar not null"),
    ],
    "pricing_metrics": [
        ("scenario", "varchar not null"),
        ("pricing_version", "varchar not null"),
        ("metric", "varchar not null"),
        ("metric_name", "varchar not null"),
        ("aggregation", "varchar not null"),
        ("unique_property", "varchar"),
        ("source_file", "varchar not null"),
    ],
    "pricing_charges": [
        ("scenario", "varchar not null"),
        ("pricing_version", "varchar not null"),
        ("plan_id", "varchar not null"),
        ("currency", "varchar not null"),
        ("metric", "varchar not null"),
        ("charge_model", "varchar not null"),
        ("included_units", f"{DECIMAL} not null"),
        ("unit_amount", DECIMAL),
        ("package_size", DECIMAL),
        ("package_amount", DECIMAL),
        ("package_rounding", "varchar"),
        ("rate", DECIMAL),
        ("fixed_fee_per_event", DECIMAL),
        ("per_event_min_amount", DECIMAL),
        ("per_event_max_amount", DECIMAL),
        ("free_units_per_events", "integer"),
        ("free_units_per_total_aggregation", DECIMAL),
        ("source_file", "varchar not null"),
    ],
    "pricing_charge_tiers": [
        ("scenario", "varchar not null"),
        ("pricing_version", "varchar not null"),
        ("plan_id", "varchar not null"),
        ("currency", "varchar not null"),
        ("metric", "varchar not null"),
        ("tier_number", "integer not null"),
        ("lower_bound", f"{DECIMAL} not null"),
        ("up_to", DECIMAL),
        ("unit_amount", DECIMAL),
        ("rate", DECIMAL),
        ("flat_amount", f"{DECIMAL} not null"),
    ],
}
PRIMARY_KEYS = {
    "pricing_versions": ("scenario", "pricing_version"),
    "pricing_plans": ("scenario", "pricing_version", "plan_id", "currency"),
    "pricing_metrics": ("scenario", "pricing_version", "metric"),
    "pricing_charges": ("scenario", "pricing_version", "plan_id", "currency", "metric"),
    "pricing_charge_tiers": ("scenario", "pricing_version", "plan_id", "currency", "metric", "tier_number"),
}


def write_pricing_tables(
    con: duckdb.DuckDBPyConnection, configs: Sequence[PricingConfig], scenario: str = ACTUAL_SCENARIO
) -> dict[str, int]:
    """Replace `scenario`'s rows of every pricing table with `configs`; returns the row count per table."""
    rows = table_rows(configs, scenario)
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists raw")
        for table, table_rows_ in rows.items():
            _create_or_upgrade(con, table)
            con.execute(f"delete from raw.{table} where scenario = ?", [scenario])
            if table_rows_:
                placeholders = ", ".join("?" * len(table_rows_[0]))
                con.executemany(f"insert into raw.{table} values ({placeholders})", table_rows_)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return {table: len(table_rows_) for table, table_rows_ in rows.items()}


def _create_or_upgrade(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create the table; a table with another layout (an older release's) is replaced, since every scenario
    is reloaded from its files anyway."""
    columns = TABLE_COLUMNS[table]
    existing = con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'raw' and table_name = ? "
        "order by column_index",
        [table],
    ).fetchall()
    if [name for (name,) in existing] == [name for name, _ in columns]:
        return
    definition = ", ".join(f"{name} {kind}" for name, kind in columns)
    key = ", ".join(PRIMARY_KEYS[table])
    con.execute(f"create or replace table raw.{table} ({definition}, primary key ({key}))")

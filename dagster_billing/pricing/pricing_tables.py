"""Write validated pricing configs to `raw.pricing_versions`, `raw.pricing_plans` and `raw.pricing_metrics`.

The three tables are replaced together in one transaction: a reader (or dbt) sees either the previous set of
versions or the new one, never a mix. The configs folder is the source of truth, so every load rewrites all
versions instead of appending.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from dagster_billing.pricing.config_models import PricingConfig

PRICING_TABLES_DDL = """
create schema if not exists raw;

create or replace table raw.pricing_versions (
    pricing_version varchar primary key,
    effective_from date not null unique,
    source_file varchar not null
);

create or replace table raw.pricing_plans (
    pricing_version varchar not null,
    effective_from date not null,
    plan_id varchar not null,
    plan_name varchar not null,
    currency varchar not null,
    interval_unit varchar not null,
    interval_count integer not null,
    billing_time varchar not null,
    source_file varchar not null,
    primary key (pricing_version, plan_id)
);

create or replace table raw.pricing_metrics (
    pricing_version varchar not null,
    metric varchar not null,
    metric_name varchar not null,
    aggregation varchar not null,
    unique_property varchar,
    source_file varchar not null,
    primary key (pricing_version, metric)
);
"""


def write_pricing_tables(con: duckdb.DuckDBPyConnection, configs: Sequence[PricingConfig]) -> dict[str, int]:
    """Replace the pricing tables with `configs`; returns the row count written per table."""
    rows = {
        "pricing_versions": [(c.version, c.effective_from, c.source_file) for c in configs],
        "pricing_plans": [
            (
                c.version,
                c.effective_from,
                p.id,
                p.name,
                p.currency,
                p.interval,
                p.interval_count,
                p.billing_time,
                c.source_file,
            )
            for c in configs
            for p in c.plans
        ],
        "pricing_metrics": [
            (c.version, m.code, m.name, m.aggregation, m.unique_property, c.source_file)
            for c in configs
            for m in c.metrics
        ],
    }
    con.execute("begin transaction")
    try:
        con.execute(PRICING_TABLES_DDL)
        for table, table_rows in rows.items():
            if table_rows:
                placeholders = ", ".join("?" * len(table_rows[0]))
                con.executemany(f"insert into raw.{table} values ({placeholders})", table_rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return {table: len(table_rows) for table, table_rows in rows.items()}

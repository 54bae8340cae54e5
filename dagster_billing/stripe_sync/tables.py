"""The warehouse tables the Stripe steps write, in schema `stripe` (the dbt schemas stay dbt's own)."""

from __future__ import annotations

import duckdb

SCHEMA = "stripe"

DDL = (
    f"create schema if not exists {SCHEMA}",
    # One row per warehouse invoice that a run tried to finalize; the operational record of what Stripe holds.
    f"""create table if not exists {SCHEMA}.invoice_sync (
        invoice_id varchar primary key,
        customer_id varchar not null,
        collection_method varchar not null,
        currency varchar not null,
        total_minor bigint not null,
        due_date date,
        stripe_customer_id varchar,
        stripe_invoice_id varchar,
        stripe_invoice_number varchar,
        status varchar,
        outcome varchar,
        stripe_total_minor bigint,
        amount_due_minor bigint,
        amount_paid_minor bigint,
        hosted_invoice_url varchar,
        attempt_count integer not null default 0,
        last_error varchar,
        dunning_retries integer not null default 0,
        first_attempted_at timestamp,
        last_attempted_at timestamp,
        finalized_at timestamp,
        status_refreshed_at timestamp,
        updated_at timestamp
    )""",
    f"""create table if not exists {SCHEMA}.customer_map (
        customer_id varchar primary key,
        stripe_customer_id varchar not null,
        source varchar not null,
        mapped_at timestamp not null
    )""",
    # Finance's collections list: every unpaid finalized invoice past its due date, rebuilt by each status refresh.
    f"""create table if not exists {SCHEMA}.collections (
        invoice_id varchar primary key,
        customer_id varchar not null,
        stripe_invoice_id varchar,
        stripe_invoice_number varchar,
        collection_method varchar not null,
        currency varchar not null,
        amount_due_minor bigint not null,
        due_date date not null,
        days_overdue integer not null,
        dunning_stage varchar not null,
        dunning_retries integer not null,
        hosted_invoice_url varchar,
        as_of date not null
    )""",
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)

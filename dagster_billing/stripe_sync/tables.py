"""The warehouse tables the Stripe steps write, in schema `stripe` (the dbt schemas stay dbt's own)."""

from __future__ import annotations

from datetime import date, datetime

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
    # Stripe's charges of our invoices (every attempt, failed ones too), read back by `stripe/payments`; an
    # invoice's rows are replaced whenever its payments are read again.
    f"""create table if not exists {SCHEMA}.payments (
        stripe_charge_id varchar primary key,
        invoice_id varchar not null,
        customer_id varchar not null,
        stripe_invoice_id varchar not null,
        stripe_payment_intent_id varchar,
        currency varchar not null,
        amount_minor bigint not null,
        amount_refunded_minor bigint not null,
        status varchar not null,
        paid boolean not null,
        created_at timestamp not null,
        payment_method_type varchar,
        card_brand varchar,
        card_last4 varchar,
        failure_code varchar,
        failure_message varchar,
        synced_at timestamp not null
    )""",
    # When an invoice's payments were last read (compared with status_refreshed_at to read only what moved).
    f"alter table {SCHEMA}.invoice_sync add column if not exists payments_synced_at timestamp",
    # The Stripe go-live date the last run used (BILLING_STRIPE_FINALIZE_FROM): one row, null when unset. The
    # invoice marts call an issued invoice billed before it `billed_elsewhere` instead of leaving it without state.
    f"""create table if not exists {SCHEMA}.go_live (
        finalize_from date,
        recorded_at timestamp not null
    )""",
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def record_go_live(con: duckdb.DuckDBPyConnection, finalize_from: date | None, recorded_at: datetime) -> None:
    ensure_tables(con)
    con.execute(f"delete from {SCHEMA}.go_live")
    con.execute(f"insert into {SCHEMA}.go_live values ($1, $2)", [finalize_from, recorded_at])

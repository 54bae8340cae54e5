"""The ledger tables, in schema `billing`: written only by `issue_due_invoices`, append-only.

An issued invoice is what the customer was billed; nothing ever updates or deletes a row here (the check
`issued_invoices_unchanged` proves it with a content hash per invoice). What changes later becomes adjustment
lines on a later invoice, and a negative balance is carried on `credit` lines.
"""

from __future__ import annotations

import duckdb

SCHEMA = "billing"

# Line columns shared with `intermediate.int_invoice_lines_computed` (what an issued line copies), then the
# columns of adjustment lines. Types match the dbt model's so a copy is exact.
LINE_COLUMNS = (
    "line_id",
    "invoice_id",
    "customer_id",
    "billing_date",
    "line_number",
    "line_type",
    "subscription_id",
    "plan_id",
    "pricing_version",
    "metric",
    "charge_model",
    "tier",
    "quantity",
    "unit_amount",
    "period_start",
    "period_end",
    "amount",
    "amount_minor",
    "currency",
    "minor_unit_digits",
    "rounding_mode",
    "description",
    "billing_at",
    "adjusted_invoice_id",
    "adjusted_line_id",
    "adjustment_reason",
    "late_event_count",
)

HEADER_COLUMNS = (
    "invoice_id",
    "customer_id",
    "billing_date",
    "billing_at",
    "currency",
    "minor_unit_digits",
    "collection_method",
    "days_until_due",
    "due_date",
    "period_start",
    "period_end",
    "line_count",
    "subtotal_minor",
    "credit_minor",
    "total_minor",
    "credit_balance_minor",
    "pricing_version",
    "stripe_customer_id",
    "as_of",
    "issued_at",
    "issue_run_id",
    "content_hash",
)

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.issued_invoices (
        invoice_id varchar primary key,
        customer_id varchar not null,
        billing_date date not null,
        billing_at timestamp not null,
        currency varchar not null,
        minor_unit_digits integer not null,
        collection_method varchar not null,
        days_until_due integer,
        due_date date not null,
        period_start timestamp not null,
        period_end timestamp not null,
        line_count integer not null,
        subtotal_minor bigint not null,
        credit_minor bigint not null,
        total_minor bigint not null,
        credit_balance_minor bigint not null,
        pricing_version varchar,
        stripe_customer_id varchar,
        as_of timestamp not null,
        issued_at timestamp not null,
        issue_run_id varchar not null,
        content_hash varchar not null
    )""",
    f"""create table if not exists {SCHEMA}.issued_invoice_lines (
        line_id varchar primary key,
        invoice_id varchar not null,
        customer_id varchar not null,
        billing_date date not null,
        line_number integer not null,
        line_type varchar not null,
        subscription_id varchar,
        plan_id varchar,
        pricing_version varchar,
        metric varchar,
        charge_model varchar,
        tier integer,
        quantity decimal(38, 12),
        unit_amount decimal(38, 12),
        period_start timestamp not null,
        period_end timestamp not null,
        amount decimal(38, 26) not null,
        amount_minor bigint not null,
        currency varchar not null,
        minor_unit_digits integer not null,
        rounding_mode varchar,
        description varchar not null,
        billing_at timestamp not null,
        adjusted_invoice_id varchar,
        adjusted_line_id varchar,
        adjustment_reason varchar,
        late_event_count bigint
    )""",
)


def ensure_ledger_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ledger on first use; a read-only connection (reconciliation, reports) finds it there."""
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? "
        "and table_name in ('issued_invoices', 'issued_invoice_lines')",
        [SCHEMA],
    ).fetchone()
    if found and found[0] == 2:
        return
    for statement in DDL:
        con.execute(statement)


def content_hash_sql(invoices_sql: str, lines_sql: str) -> str:
    """A relation (invoice_id, content_hash): MD5 over an invoice's header fields and every line field, lines in
    line order. One definition serves issuing (stored) and the immutability check (recomputed), so a changed,
    added or removed row of an issued invoice changes its hash."""
    header = " || '|' || ".join(
        f"coalesce(cast(i.{name} as varchar), '')" for name in HEADER_COLUMNS if name != "content_hash"
    )
    line = " || '|' || ".join(f"coalesce(cast(l.{name} as varchar), '')" for name in LINE_COLUMNS)
    return f"""
        with line_texts as (
            select l.invoice_id, string_agg({line}, '#' order by l.line_number) as lines_text
            from {lines_sql} as l
            group by l.invoice_id
        )
        select i.invoice_id, md5({header} || '#' || coalesce(line_texts.lines_text, '')) as content_hash
        from {invoices_sql} as i
        left join line_texts on line_texts.invoice_id = i.invoice_id"""

"""Writes to `stripe.invoice_sync` and `stripe.customer_map`: attempts before Stripe is called, results after."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import duckdb

from dagster_billing.stripe_sync.customers import StripeCustomer
from dagster_billing.stripe_sync.due_invoices import DueInvoice
from dagster_billing.stripe_sync.invoice_steps import InvoiceResult


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def record_attempts(con: duckdb.DuckDBPyConnection, invoices: list[DueInvoice]) -> None:
    now = utc_now()
    rows = [
        (i.invoice_id, i.customer_id, i.collection_method, i.currency, i.total_minor, i.due_date, now)
        for i in invoices
    ]
    con.executemany(
        """
        insert into stripe.invoice_sync (invoice_id, customer_id, collection_method, currency, total_minor, due_date,
            attempt_count, first_attempted_at, last_attempted_at, updated_at)
        values ($1, $2, $3, $4, $5, $6, 1, $7, $7, $7)
        on conflict (invoice_id) do update set
            attempt_count = stripe.invoice_sync.attempt_count + 1,
            last_attempted_at = excluded.last_attempted_at,
            updated_at = excluded.updated_at
        """,
        rows,
    )


def record_result(con: duckdb.DuckDBPyConnection, result: InvoiceResult) -> None:
    inv = result.stripe_invoice
    now = utc_now()
    finalized = inv is not None and inv.status not in (None, "draft")
    con.execute(
        """
        update stripe.invoice_sync set
            stripe_customer_id = coalesce($2, stripe_customer_id),
            stripe_invoice_id = coalesce($3, stripe_invoice_id),
            stripe_invoice_number = coalesce($4, stripe_invoice_number),
            status = coalesce($5, status),
            outcome = $6,
            stripe_total_minor = coalesce($7, stripe_total_minor),
            amount_due_minor = coalesce($8, amount_due_minor),
            amount_paid_minor = coalesce($9, amount_paid_minor),
            hosted_invoice_url = coalesce($10, hosted_invoice_url),
            last_error = $11,
            finalized_at = case when $12 then coalesce(finalized_at, $13) else finalized_at end,
            status_refreshed_at = $13,
            updated_at = $13
        where invoice_id = $1
        """,
        [
            result.invoice.invoice_id,
            result.stripe_customer_id,
            inv.id if inv else None,
            inv.number if inv else None,
            inv.status if inv else None,
            result.outcome,
            inv.total if inv else None,
            inv.amount_due if inv else None,
            inv.amount_paid if inv else None,
            inv.hosted_invoice_url if inv else None,
            result.error,
            finalized,
            now,
        ],
    )


def customer_map(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select customer_id, stripe_customer_id from stripe.customer_map").fetchall())


def record_customers(con: duckdb.DuckDBPyConnection, customers: Iterable[StripeCustomer]) -> None:
    now = utc_now()
    rows = [(c.customer_id, c.stripe_customer_id, c.source, now) for c in customers if c.source != "mapped"]
    if rows:
        con.executemany(
            """
            insert into stripe.customer_map values ($1, $2, $3, $4)
            on conflict (customer_id) do update set
                stripe_customer_id = excluded.stripe_customer_id, source = excluded.source, mapped_at = excluded.mapped_at
            """,
            rows,
        )

"""Payment status back from Stripe, a dunning stage per overdue invoice, card retries when one is due, and the
collections table finance works from."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import duckdb
import stripe

from dagster_billing.stripe_sync.client import retry_rate_limited
from dagster_billing.stripe_sync.idempotency import idempotency_key
from dagster_billing.stripe_sync.sync_records import utc_now
from dagster_billing.stripe_sync.tables import ensure_tables

DEFAULT_RETRY_AFTER_DAYS = (3, 7, 14)
UNPAID = ("open", "uncollectible")


def dunning_stage(days_overdue: int, retry_after_days: tuple[int, ...] = DEFAULT_RETRY_AFTER_DAYS) -> str:
    """`grace` before the first step, `retry_<n>` from the n-th step's day, `suspend` after the last step's day."""
    reached = sum(1 for day in retry_after_days if days_overdue >= day)
    if reached == 0:
        return "grace"
    if reached == len(retry_after_days) and days_overdue > retry_after_days[-1]:
        return "suspend"
    return f"retry_{reached}"


def retry_due(stage: str, retries_done: int, collection_method: str) -> int | None:
    """The retry to make now (its number) for a card customer, once per step; missed steps are not made up."""
    if collection_method != "charge_automatically" or not stage.startswith("retry_"):
        return None
    step = int(stage.removeprefix("retry_"))
    return step if retries_done < step else None


@dataclass
class DunningSummary:
    refreshed: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    retried: int = 0
    recovered: int = 0


@dataclass
class _Unpaid:
    invoice_id: str
    stripe_invoice_id: str
    collection_method: str
    days_overdue: int
    retries_done: int


def _unpaid(con: duckdb.DuckDBPyConnection, as_of: date) -> list[_Unpaid]:
    rows = con.execute(
        """
        select invoice_id, stripe_invoice_id, collection_method, datediff('day', due_date, $1::date), dunning_retries
        from stripe.invoice_sync
        where stripe_invoice_id is not null and finalized_at is not null and status in ('open', 'uncollectible')
        order by invoice_id
        """,
        [as_of],
    ).fetchall()
    return [_Unpaid(*row) for row in rows]


def _refresh_one(
    client: stripe.StripeClient, unpaid: _Unpaid, schedule: tuple[int, ...]
) -> tuple[stripe.Invoice, int | None, str | None]:
    invoice = retry_rate_limited(lambda: client.v1.invoices.retrieve(unpaid.stripe_invoice_id))
    retry = None
    if invoice.status == "open" and unpaid.days_overdue > 0:
        retry = retry_due(
            dunning_stage(unpaid.days_overdue, schedule), unpaid.retries_done, unpaid.collection_method
        )
    if retry is None:
        return invoice, None, None
    options: stripe.RequestOptions = {
        "idempotency_key": idempotency_key(unpaid.invoice_id, f"dunning_retry_{retry}")
    }
    try:
        return (
            retry_rate_limited(lambda: client.v1.invoices.pay(unpaid.stripe_invoice_id, options=options)),
            retry,
            None,
        )
    except (stripe.CardError, stripe.InvalidRequestError) as failed:
        return invoice, retry, f"dunning retry {retry}: {failed.user_message or failed}"


def refresh_and_dun(
    con: duckdb.DuckDBPyConnection,
    client: stripe.StripeClient,
    as_of: date,
    retry_after_days: tuple[int, ...] = DEFAULT_RETRY_AFTER_DAYS,
    concurrency: int = 4,
) -> DunningSummary:
    ensure_tables(con)
    unpaid = _unpaid(con, as_of)
    summary = DunningSummary(refreshed=len(unpaid))
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="stripe-dunning") as pool:
        refreshed = list(pool.map(lambda u: _refresh_one(client, u, retry_after_days), unpaid))
    now = utc_now()
    for row, (invoice, retry, error) in zip(unpaid, refreshed, strict=True):
        summary.statuses[str(invoice.status)] += 1
        summary.retried += retry is not None
        summary.recovered += retry is not None and invoice.status == "paid"
        con.execute(
            """
            update stripe.invoice_sync set status = $2, amount_due_minor = $3, amount_paid_minor = $4,
                dunning_retries = greatest(dunning_retries, $5), last_error = coalesce($6, last_error),
                status_refreshed_at = $7, updated_at = $7
            where invoice_id = $1
            """,
            [row.invoice_id, invoice.status, invoice.amount_due, invoice.amount_paid, retry or 0, error, now],
        )
    _rebuild_collections(con, as_of, retry_after_days, summary)
    return summary


def _rebuild_collections(
    con: duckdb.DuckDBPyConnection, as_of: date, schedule: tuple[int, ...], summary: DunningSummary
) -> None:
    overdue = con.execute(
        """
        select invoice_id, customer_id, stripe_invoice_id, stripe_invoice_number, collection_method, currency,
            amount_due_minor - coalesce(amount_paid_minor, 0), due_date, datediff('day', due_date, $1::date),
            dunning_retries, hosted_invoice_url
        from stripe.invoice_sync
        where status in ('open', 'uncollectible') and finalized_at is not null and due_date < $1::date
        order by invoice_id
        """,
        [as_of],
    ).fetchall()
    rows = []
    for row in overdue:
        stage = dunning_stage(row[8], schedule)
        summary.stages[stage] += 1
        rows.append((*row[:9], stage, row[9], row[10], as_of))
    con.execute("delete from stripe.collections")
    if rows:
        con.executemany("insert into stripe.collections values (" + ", ".join(["?"] * 13) + ")", rows)

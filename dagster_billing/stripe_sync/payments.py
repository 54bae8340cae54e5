"""Stripe's payments of our invoices back into the warehouse (`stripe.payments`): every charge, failed ones too.

Since API version 2025-03-31 a Charge no longer names its invoice; an invoice's payments are its InvoicePayment
objects (`GET /v1/invoice_payments?invoice=`), each a PaymentIntent whose attempts are its Charges
(`GET /v1/charges?payment_intent=`). Only invoices whose state was read from Stripe since their payments were last
read are read again (finalized this run, or refreshed by the collections step), so a paid invoice is read once.
Reading never writes to Stripe. One invoice that cannot be read is reported and the others go on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb
import stripe

from dagster_billing.stripe_sync.client import retry_rate_limited
from dagster_billing.stripe_sync.sync_records import utc_now
from dagster_billing.stripe_sync.tables import ensure_tables

PAYMENT_COLUMNS = 17


@dataclass(frozen=True)
class _ToRead:
    invoice_id: str
    customer_id: str
    stripe_invoice_id: str


@dataclass
class PaymentsSummary:
    invoices_read: int = 0
    charges: int = 0
    failed_charges: int = 0
    errors: list[str] = field(default_factory=list)


def _to_read(con: duckdb.DuckDBPyConnection) -> list[_ToRead]:
    rows = con.execute(
        """
        select invoice_id, customer_id, stripe_invoice_id
        from stripe.invoice_sync
        where stripe_invoice_id is not null and finalized_at is not null
          and (payments_synced_at is null or status_refreshed_at > payments_synced_at)
        order by invoice_id
        """
    ).fetchall()
    return [_ToRead(*row) for row in rows]


def _utc(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).replace(tzinfo=None)


def _charge_row(invoice: _ToRead, charge: stripe.Charge, synced_at: datetime) -> tuple:
    details = charge.payment_method_details
    card = details.card if details is not None else None
    intent = charge.payment_intent
    return (
        charge.id,
        invoice.invoice_id,
        invoice.customer_id,
        invoice.stripe_invoice_id,
        intent if isinstance(intent, str) or intent is None else intent.id,
        str(charge.currency).upper(),
        charge.amount,
        getattr(charge, "amount_refunded", None) or 0,
        charge.status,
        charge.status == "succeeded",
        _utc(charge.created),
        details.type if details is not None else None,
        card.brand if card is not None else None,
        card.last4 if card is not None else None,
        charge.failure_code,
        charge.failure_message,
        synced_at,
    )


def read_invoice_charges(client: stripe.StripeClient, stripe_invoice_id: str) -> list[stripe.Charge]:
    """Every charge of every PaymentIntent paying the invoice, oldest first."""
    payments = retry_rate_limited(
        lambda: client.v1.invoice_payments.list(params={"invoice": stripe_invoice_id, "limit": 100})
    )
    charges: list[stripe.Charge] = []
    for payment in payments.auto_paging_iter():
        intent = getattr(payment.payment, "payment_intent", None)
        if not intent:
            continue  # an out-of-band payment has no charge
        intent_id = intent if isinstance(intent, str) else intent.id
        charges += _intent_charges(client, intent_id)
    return sorted(charges, key=lambda charge: (charge.created, charge.id))


def _intent_charges(client: stripe.StripeClient, intent_id: str) -> list[stripe.Charge]:
    page = retry_rate_limited(
        lambda: client.v1.charges.list(params={"payment_intent": intent_id, "limit": 100})
    )
    return list(page.auto_paging_iter())


def _read(client: stripe.StripeClient, invoice: _ToRead) -> list[stripe.Charge] | str:
    try:
        return read_invoice_charges(client, invoice.stripe_invoice_id)
    except stripe.StripeError as error:
        return (
            f"{invoice.invoice_id} ({invoice.customer_id}): payments not read: {error.user_message or error}"
        )


def sync_payments(
    con: duckdb.DuckDBPyConnection, client: stripe.StripeClient, concurrency: int = 4
) -> PaymentsSummary:
    ensure_tables(con)
    invoices = _to_read(con)
    summary = PaymentsSummary()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="stripe-payments") as pool:
        results = list(pool.map(lambda invoice: _read(client, invoice), invoices))
    now = utc_now()
    for invoice, charges in zip(invoices, results, strict=True):
        if isinstance(charges, str):
            summary.errors.append(charges)
            continue
        rows = [_charge_row(invoice, charge, now) for charge in charges]
        con.execute("begin")
        con.execute("delete from stripe.payments where invoice_id = $1", [invoice.invoice_id])
        if rows:
            con.executemany(
                "insert into stripe.payments values (" + ", ".join(["?"] * PAYMENT_COLUMNS) + ")", rows
            )
        con.execute(
            "update stripe.invoice_sync set payments_synced_at = $2 where invoice_id = $1",
            [invoice.invoice_id, now],
        )
        con.execute("commit")
        summary.invoices_read += 1
        summary.charges += len(rows)
        summary.failed_charges += sum(1 for row in rows if row[8] == "failed")
    return summary

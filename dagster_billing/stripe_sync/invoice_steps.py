"""The Stripe calls for one invoice: create the draft, add its lines, finalize, then charge or send.

Every POST carries a deterministic idempotency key (our invoice id, the step, our line id), and every step starts
from what Stripe already holds, so a retry, a crash or a re-run continues an invoice instead of repeating it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import stripe

from dagster_billing.stripe_sync.client import retry_rate_limited
from dagster_billing.stripe_sync.customers import CUSTOMER_ID_KEY, INVOICE_ID_KEY
from dagster_billing.stripe_sync.due_invoices import DueInvoice, DueLine, epoch_seconds
from dagster_billing.stripe_sync.idempotency import idempotency_key

if TYPE_CHECKING:
    from stripe import RequestOptions
    from stripe.params import InvoiceCreateParams, InvoiceItemCreateParams

LINE_ID_KEY = "billing_line_id"
StepHook = Callable[[str, str], None]  # (our invoice id, step done): crash tests stop the process here


@dataclass
class InvoiceResult:
    invoice: DueInvoice
    stripe_customer_id: str | None
    stripe_invoice: stripe.Invoice | None
    outcome: str  # charged | sent | declined | payment_failed | no_payment_due | void | uncollectible | error
    error: str | None = None


def _options(invoice_id: str, step: str, line_id: str | None = None) -> RequestOptions:
    return {"idempotency_key": idempotency_key(invoice_id, step, line_id)}


def invoice_metadata(invoice: DueInvoice) -> dict[str, str]:
    return {
        INVOICE_ID_KEY: invoice.invoice_id,
        CUSTOMER_ID_KEY: invoice.customer_id,
        "billing_date": invoice.billing_date.isoformat(),
        "billing_period_start": invoice.period_start.isoformat(),
        "billing_period_end": invoice.period_end.isoformat(),
    }


def create_draft(
    client: stripe.StripeClient, invoice: DueInvoice, stripe_customer_id: str, automatic_tax: bool = False
) -> stripe.Invoice:
    """`automatic_tax`: tax handed to Stripe Tax (BILLING_TAX_PROVIDER=stripe_tax); the warehouse then sends no
    tax lines and Stripe adds its own tax at finalization."""
    params: InvoiceCreateParams = {
        "customer": stripe_customer_id,
        "collection_method": "send_invoice"
        if invoice.collection_method == "send_invoice"
        else "charge_automatically",
        "auto_advance": False,  # we finalize and collect explicitly, step by step
        "pending_invoice_items_behavior": "exclude",  # only the lines we attach, never stray pending items
        "currency": invoice.currency.lower(),
        "description": f"Billing date {invoice.billing_date.isoformat()}",
        "metadata": invoice_metadata(invoice),
    }
    if invoice.collection_method == "send_invoice":
        params["days_until_due"] = invoice.days_until_due or 0
    if automatic_tax:
        params["automatic_tax"] = {"enabled": True}
    options = _options(invoice.invoice_id, "create")
    return retry_rate_limited(lambda: client.v1.invoices.create(params=params, options=options))


def _line_params(invoice: DueInvoice, stripe_ids: tuple[str, str], line: DueLine) -> InvoiceItemCreateParams:
    stripe_customer_id, stripe_invoice_id = stripe_ids
    return {
        "customer": stripe_customer_id,
        "invoice": stripe_invoice_id,
        "amount": line.amount_minor,  # integer minor units, negative for credits
        "currency": invoice.currency.lower(),
        "description": line.description,
        "period": {"start": epoch_seconds(line.period_start), "end": epoch_seconds(line.period_end)},
        "metadata": {LINE_ID_KEY: line.line_id, INVOICE_ID_KEY: invoice.invoice_id},
    }


def lines_in_stripe(client: stripe.StripeClient, stripe_invoice_id: str) -> list[stripe.InvoiceLineItem]:
    page = retry_rate_limited(
        lambda: client.v1.invoices.line_items.list(stripe_invoice_id, params={"limit": 100})
    )
    return list(page.auto_paging_iter())


def add_missing_lines(
    client: stripe.StripeClient, invoice: DueInvoice, stripe_ids: tuple[str, str], resumed: bool
) -> None:
    """A resumed draft may hold some lines already (Stripe forgets idempotency keys after 24 hours)."""
    present: set[str] = set()
    if resumed:
        lines = lines_in_stripe(client, stripe_ids[1])
        present = {
            line.metadata[LINE_ID_KEY] for line in lines if line.metadata and LINE_ID_KEY in line.metadata
        }
    for line in invoice.lines:
        if line.line_id in present:
            continue
        _add_line(
            client,
            _line_params(invoice, stripe_ids, line),
            _options(invoice.invoice_id, "line", line.line_id),
        )


def _add_line(client: stripe.StripeClient, params: InvoiceItemCreateParams, options: RequestOptions) -> None:
    retry_rate_limited(lambda: client.v1.invoice_items.create(params=params, options=options))


def finalize(client: stripe.StripeClient, invoice: DueInvoice, stripe_invoice_id: str) -> stripe.Invoice:
    options = _options(invoice.invoice_id, "finalize")
    return retry_rate_limited(
        lambda: client.v1.invoices.finalize_invoice(
            stripe_invoice_id, params={"auto_advance": False}, options=options
        )
    )


def collect(
    client: stripe.StripeClient, invoice: DueInvoice, stripe_invoice: stripe.Invoice
) -> tuple[stripe.Invoice, str]:
    """Charge the card on file or email the invoice; a zero or negative total is already paid at finalization."""
    assert stripe_invoice.id
    if stripe_invoice.status == "paid":
        return stripe_invoice, "charged" if stripe_invoice.amount_paid else "no_payment_due"
    if stripe_invoice.status != "open":
        return stripe_invoice, str(
            stripe_invoice.status
        )  # voided or marked uncollectible in Stripe meanwhile
    stripe_id = stripe_invoice.id
    if invoice.collection_method == "send_invoice":
        options = _options(invoice.invoice_id, "send")
        return retry_rate_limited(lambda: client.v1.invoices.send_invoice(stripe_id, options=options)), "sent"
    options = _options(invoice.invoice_id, "pay")
    return retry_rate_limited(lambda: client.v1.invoices.pay(stripe_id, options=options)), "charged"


def advance_invoice(
    client: stripe.StripeClient,
    invoice: DueInvoice,
    stripe_customer_id: str,
    existing: stripe.Invoice | None,
    hook: StepHook,
    automatic_tax: bool = False,
) -> InvoiceResult:
    """From whatever state Stripe holds to finalized and collected. A declined card is an outcome, not a crash."""
    stripe_invoice = existing
    try:
        if stripe_invoice is None:
            stripe_invoice = create_draft(client, invoice, stripe_customer_id, automatic_tax)
            hook(invoice.invoice_id, "created")
        assert stripe_invoice.id
        if stripe_invoice.status == "draft":
            add_missing_lines(
                client, invoice, (stripe_customer_id, stripe_invoice.id), resumed=existing is not None
            )
            hook(invoice.invoice_id, "lines_added")
            stripe_invoice = finalize(client, invoice, stripe_invoice.id)
            hook(invoice.invoice_id, "finalized")
        finalized = stripe_invoice
        try:
            stripe_invoice, outcome = collect(client, invoice, stripe_invoice)
        except stripe.CardError as declined:
            return InvoiceResult(invoice, stripe_customer_id, finalized, "declined", _describe(declined))
        except (
            stripe.InvalidRequestError
        ) as failed:  # e.g. no payment method on file: finalized, not collected
            return InvoiceResult(invoice, stripe_customer_id, finalized, "payment_failed", _describe(failed))
        hook(invoice.invoice_id, "collected")
        return InvoiceResult(invoice, stripe_customer_id, stripe_invoice, outcome)
    except stripe.StripeError as error:
        return InvoiceResult(invoice, stripe_customer_id, stripe_invoice, "error", _describe(error))


def _describe(error: stripe.StripeError) -> str:
    code = getattr(error, "code", None)
    status = getattr(error, "http_status", None)
    return (
        f"{type(error).__name__} (HTTP {status}{', ' + code if code else ''}): {error.user_message or error}"
    )

"""Finalize every due invoice in Stripe, a bounded number of requests at a time, recording each as it ends.

Phase 1 maps each customer to Stripe and lists the Stripe invoices that already carry our invoice ids; phase 2
advances each invoice (`invoice_steps.advance_invoice`) in a thread pool. DuckDB is written only from the calling
thread: an attempt is recorded before any Stripe call for it, the result as soon as it is known.
"""

from __future__ import annotations

import queue
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date

import duckdb
import stripe

from dagster_billing.stripe_sync import sync_records
from dagster_billing.stripe_sync.customers import (
    Contact,
    OnCustomerCreated,
    StripeCustomer,
    contacts,
    resolve_customer,
)
from dagster_billing.stripe_sync.due_invoices import DueInvoice, load_due_invoices
from dagster_billing.stripe_sync.invoice_steps import InvoiceResult, StepHook, advance_invoice
from dagster_billing.stripe_sync.tables import ensure_tables

OUTCOMES = (
    "charged",
    "sent",
    "declined",
    "payment_failed",
    "no_payment_due",
    "void",
    "uncollectible",
    "error",
)


@dataclass
class FinalizeSummary:
    due: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return self.outcomes[outcome]


def _no_hook(invoice_id: str, step: str) -> None:
    return None


def finalize_due_invoices(
    con: duckdb.DuckDBPyConnection,
    client: stripe.StripeClient,
    *,
    concurrency: int = 4,
    on_customer_created: OnCustomerCreated | None = None,
    hook: StepHook = _no_hook,
    finalize_from: date | None = None,
    automatic_tax: bool = False,
) -> FinalizeSummary:
    ensure_tables(con)
    due = load_due_invoices(con, finalize_from)
    summary = FinalizeSummary(due=len(due))
    if not due:
        return summary
    sync_records.record_attempts(con, due)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="stripe") as pool:
        customers = _map_customers(con, client, pool, due, on_customer_created, summary)
        results: queue.Queue[InvoiceResult] = queue.Queue()
        chains = _by_customer(invoice for invoice in due if invoice.customer_id in customers)
        for customer_id, invoices in chains.items():
            pool.submit(
                _advance_chain, client, customers[customer_id], invoices, hook, results, automatic_tax
            )
        for _ in range(sum(len(invoices) for invoices in chains.values())):
            _record(con, results.get(), summary, hook)
    return summary


def _by_customer(invoices: Iterable[DueInvoice]) -> dict[str, list[DueInvoice]]:
    chains: dict[str, list[DueInvoice]] = {}
    for invoice in invoices:  # already in billing order
        chains.setdefault(invoice.customer_id, []).append(invoice)
    return chains


def _advance_chain(
    client: stripe.StripeClient,
    customer: StripeCustomer,
    invoices: list[DueInvoice],
    hook: StepHook,
    results: queue.Queue[InvoiceResult],
    automatic_tax: bool = False,
) -> None:
    """One customer's invoices in billing order: numbers follow billing dates and a credit left by a negative
    invoice is applied to the next one. Customers run in parallel."""
    for invoice in invoices:
        try:
            existing = customer.invoices.get(invoice.invoice_id)
            result = advance_invoice(
                client, invoice, customer.stripe_customer_id, existing, hook, automatic_tax
            )
        except Exception as error:  # never leave the recording loop waiting for a result
            result = InvoiceResult(
                invoice, customer.stripe_customer_id, None, "error", f"{type(error).__name__}: {error}"
            )
        results.put(result)


def _record(
    con: duckdb.DuckDBPyConnection, result: InvoiceResult, summary: FinalizeSummary, hook: StepHook
) -> None:
    hook(result.invoice.invoice_id, "before_record")
    sync_records.record_result(con, result)
    summary.outcomes[result.outcome] += 1
    if result.outcome == "error":
        summary.errors.append(f"{result.invoice.invoice_id} ({result.invoice.customer_id}): {result.error}")


def _map_customers(
    con: duckdb.DuckDBPyConnection,
    client: stripe.StripeClient,
    pool: ThreadPoolExecutor,
    due: list[DueInvoice],
    on_created: OnCustomerCreated | None,
    summary: FinalizeSummary,
) -> dict[str, StripeCustomer]:
    """A customer that cannot be mapped fails its own invoices (recorded as errors), not the run."""
    known = sync_records.customer_map(con)
    contact = contacts(con)
    first_invoice = {invoice.customer_id: invoice for invoice in reversed(due)}
    futures: dict[Future[StripeCustomer], DueInvoice] = {
        pool.submit(
            resolve_customer,
            client,
            customer_id,
            invoice.collection_method,
            known.get(customer_id),
            invoice.stripe_customer_id,
            contact.get(customer_id, Contact()),
            on_created,
        ): invoice
        for customer_id, invoice in first_invoice.items()
    }
    mapped: dict[str, StripeCustomer] = {}
    for future in as_completed(futures):
        invoice = futures[future]
        try:
            mapped[invoice.customer_id] = future.result()
        except stripe.StripeError as error:
            for failed in (i for i in due if i.customer_id == invoice.customer_id):
                _record(
                    con,
                    InvoiceResult(failed, None, None, "error", f"customer: {error.user_message or error}"),
                    summary,
                    _no_hook,
                )
    sync_records.record_customers(con, mapped.values())
    return mapped

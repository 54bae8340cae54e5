"""Ledger vs Stripe: every finalized issued invoice has exactly one Stripe invoice with the same total and line
sum, and no Stripe invoice carries our metadata without an issued invoice. Issued invoices never change, so late
data never makes them differ; an invoice changed, missing or extra in Stripe does."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import duckdb
import stripe

from dagster_billing.ledger.tables import ensure_ledger_tables
from dagster_billing.stripe_sync.client import retry_rate_limited
from dagster_billing.stripe_sync.customers import INVOICE_ID_KEY
from dagster_billing.stripe_sync.invoice_steps import lines_in_stripe


@dataclass
class Reconciliation:
    finalized_in_warehouse: int = 0
    ours_in_stripe: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def _line_sum(client: stripe.StripeClient, invoice: stripe.Invoice) -> int:
    lines = invoice.lines
    if lines is not None and not lines.has_more:
        return sum(line.amount for line in lines.data)
    assert invoice.id
    return sum(line.amount for line in lines_in_stripe(client, invoice.id))


def _total_before_stripe_tax(invoice: stripe.Invoice) -> int:
    """With Stripe Tax (automatic_tax) Stripe adds its own tax, which the ledger does not hold: compare the total
    before it. Tax the warehouse computed is in the ledger as lines, and in Stripe's total as invoice items."""
    automatic = invoice.automatic_tax
    if automatic is not None and automatic.enabled and invoice.total_excluding_tax is not None:
        return invoice.total_excluding_tax
    return invoice.total


def _ours_in_stripe(client: stripe.StripeClient) -> dict[str, list[stripe.Invoice]]:
    """Every invoice of the account, kept when it carries our invoice id (a list, strongly consistent)."""
    page = retry_rate_limited(lambda: client.v1.invoices.list(params={"limit": 100}))
    ours: dict[str, list[stripe.Invoice]] = defaultdict(list)
    for invoice in page.auto_paging_iter():
        if invoice.metadata and INVOICE_ID_KEY in invoice.metadata:
            ours[invoice.metadata[INVOICE_ID_KEY]].append(invoice)
    return ours


def _warehouse(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, tuple[int, int]], set[str]]:
    """(total, line sum) of each invoice recorded as finalized, and every invoice id of the warehouse."""
    finalized = con.execute(
        """
        select s.invoice_id, i.total_minor, (select sum(l.amount_minor) from billing.issued_invoice_lines as l
            where l.invoice_id = s.invoice_id)::bigint
        from stripe.invoice_sync as s
        inner join billing.issued_invoices as i on i.invoice_id = s.invoice_id
        where s.finalized_at is not null
        """
    ).fetchall()
    known = {row[0] for row in con.execute("select invoice_id from billing.issued_invoices").fetchall()}
    return {invoice_id: (total, line_sum) for invoice_id, total, line_sum in finalized}, known


def reconcile(con: duckdb.DuckDBPyConnection, client: stripe.StripeClient) -> Reconciliation:
    ensure_ledger_tables(con)
    finalized, known = _warehouse(con)
    ours = _ours_in_stripe(client)
    report = Reconciliation(len(finalized), sum(len(found) for found in ours.values()))
    for invoice_id, (total, line_sum) in sorted(finalized.items()):
        found = ours.get(invoice_id, [])
        if len(found) != 1:
            report.problems.append(
                f"{invoice_id}: finalized in the warehouse, {len(found)} Stripe invoices carry it"
            )
            continue
        stripe_total, stripe_lines = _total_before_stripe_tax(found[0]), _line_sum(client, found[0])
        if (stripe_total, stripe_lines) != (total, line_sum):
            report.problems.append(
                f"{invoice_id} ({found[0].id}): warehouse total {total}, line sum {line_sum}; "
                f"Stripe total {stripe_total}, line sum {stripe_lines} (minor units)"
            )
    for invoice_id, found in sorted(ours.items()):
        if invoice_id not in known:
            ids = ", ".join(str(i.id) for i in found)
            report.problems.append(
                f"{invoice_id}: Stripe invoice {ids} carries it, the warehouse has no such invoice"
            )
        elif len(found) > 1 and invoice_id not in finalized:
            report.problems.append(f"{invoice_id}: {len(found)} Stripe invoices carry it (a duplicate)")
    return report

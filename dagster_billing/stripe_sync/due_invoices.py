"""The invoices a run must finalize: issued into the ledger (`billing.issued_invoices`), not yet finalized in
Stripe. Only issued invoices are ever sent: an issued invoice never changes, so Stripe and the ledger can agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import duckdb

from dagster_billing.ledger.tables import ensure_ledger_tables

# Invoices whose last attempt ended in `error` (or never ended) are taken up again; every other outcome is final
# for this step (a declined card is followed up by dunning, not by finalizing again).
PENDING_OUTCOME = "(sync.outcome is null or sync.outcome = 'error')"


@dataclass(frozen=True)
class DueLine:
    line_id: str
    line_number: int
    amount_minor: int
    description: str
    period_start: datetime
    period_end: datetime


@dataclass
class DueInvoice:
    invoice_id: str
    customer_id: str
    billing_date: date
    currency: str
    collection_method: str
    days_until_due: int | None
    due_date: date
    period_start: datetime
    period_end: datetime
    total_minor: int
    stripe_customer_id: str | None
    lines: list[DueLine] = field(default_factory=list)


def load_due_invoices(con: duckdb.DuckDBPyConnection, finalize_from: date | None = None) -> list[DueInvoice]:
    """`finalize_from`: the go-live date; invoices billed before it were billed by whatever came before this
    pipeline and are never sent to Stripe."""
    ensure_ledger_tables(con)
    rows = con.execute(
        f"""
        select i.invoice_id, i.customer_id, i.billing_date, i.currency, i.collection_method, i.days_until_due,
            i.due_date, i.period_start, i.period_end, i.total_minor, i.stripe_customer_id
        from billing.issued_invoices as i
        left join stripe.invoice_sync as sync on sync.invoice_id = i.invoice_id
        where {PENDING_OUTCOME}
          and ($finalize_from is null or i.billing_date >= $finalize_from)
        order by i.billing_at, i.invoice_id
        """,
        {"finalize_from": finalize_from},
    ).fetchall()
    invoices = {row[0]: DueInvoice(*row) for row in rows}
    for invoice_id, *line in _lines(con):
        if invoice_id in invoices:
            invoices[invoice_id].lines.append(DueLine(*line))
    return list(invoices.values())


def _lines(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        f"""
        select l.invoice_id, l.line_id, l.line_number, l.amount_minor,
            coalesce(nullif(l.description, ''), l.line_type), l.period_start, l.period_end
        from billing.issued_invoice_lines as l
        left join stripe.invoice_sync as sync on sync.invoice_id = l.invoice_id
        where {PENDING_OUTCOME}
        order by l.invoice_id, l.line_number
        """
    ).fetchall()


def epoch_seconds(moment: datetime) -> int:
    """Warehouse timestamps are naive UTC."""
    return int(moment.replace(tzinfo=timezone.utc).timestamp())

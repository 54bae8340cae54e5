"""`billing explain INVOICE_ID`: an invoice, each line with its period, quantity and tier, the events behind each
usage line (count, first and last time, landing files and rows) and, for an adjustment line, the invoice it
corrects and the late events or the change behind it. Read from the marts (`fct_invoice_line_events`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import duckdb

# Adjustments list their late events one by one up to this many, then summarize.
LATE_EVENTS_LISTED = 10


class InvoiceNotFound(Exception):
    pass


def _money(minor: int, digits: int, currency: str) -> str:
    value = Decimal(minor).scaleb(-digits)
    return f"{value:,.{digits}f} {currency}"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "-"


def _quantity(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _header(con: duckdb.DuckDBPyConnection, invoice_id: str) -> tuple:
    rows = con.execute(
        """select invoice_id, invoice_status, customer_id, billing_date, currency, minor_unit_digits,
                  collection_method, due_date, subtotal_minor, credit_minor, total_minor, credit_balance_minor,
                  issued_at, stripe_invoice_id, stripe_status, stripe_outcome, scenario
           from marts.fct_invoices where invoice_id = ?""",
        [invoice_id],
    ).fetchall()
    if not rows:
        raise InvoiceNotFound(
            f"no invoice {invoice_id} in marts.fct_invoices (ids look like inv_ + 24 hex digits)"
        )
    return rows[0]


def _event_files(con: duckdb.DuckDBPyConnection, invoice_id: str) -> dict[str, list[tuple]]:
    """line_id -> [(path, first row, last row, events)] for the line's events, by landing file."""
    by_line: dict[str, list[tuple]] = defaultdict(list)
    for line_id, path, first_row, last_row, count in con.execute(
        """select e.line_id, f.path, min(e.source_row), max(e.source_row), count(*)
           from marts.fct_invoice_line_events as e
           left join raw.ingested_files as f on f.file_id = e.source_file_id
           where e.invoice_id = ? and e.line_type = 'usage'
           group by all order by 1, 2""",
        [invoice_id],
    ).fetchall():
        by_line[line_id].append((path, first_row, last_row, count))
    return by_line


def _event_counts(con: duckdb.DuckDBPyConnection, invoice_id: str) -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in con.execute(
            """select line_id, count(*), min(occurred_at), max(occurred_at)
               from marts.fct_invoice_line_events where invoice_id = ? and line_type = 'usage' group by 1""",
            [invoice_id],
        ).fetchall()
    }


def _late_events(con: duckdb.DuckDBPyConnection, line_id: str, adjusted_invoice_id: str) -> list[tuple]:
    """The events of an adjustment line's period that arrived after the corrected invoice was issued."""
    return con.execute(
        """select e.event_id, e.occurred_at, e.quantity, f.path, e.source_row, f.ingested_at
           from marts.fct_invoice_line_events as e
           inner join raw.ingested_files as f on f.file_id = e.source_file_id
           inner join billing.issued_invoices as i on i.invoice_id = ?
           where e.line_id = ? and f.ingested_at > i.issued_at
           order by f.ingested_at, e.occurred_at, e.event_id""",
        [adjusted_invoice_id, line_id],
    ).fetchall()


def explain_invoice(con: duckdb.DuckDBPyConnection, invoice_id: str) -> str:
    (
        _,
        status,
        customer_id,
        billing_date,
        currency,
        digits,
        method,
        due_date,
        subtotal,
        credit,
        total,
        balance,
        issued_at,
        stripe_id,
        stripe_status,
        stripe_outcome,
        scenario,
    ) = _header(con, invoice_id)
    money = lambda minor: _money(minor, digits, currency)  # noqa: E731
    out = [
        f"Invoice {invoice_id} ("
        + (f"issued {_when(issued_at)}" if issued_at else status)
        + (f"; Stripe {stripe_id}: {stripe_outcome}, {stripe_status}" if stripe_id else "")
        + (f"; scenario {scenario}" if scenario != "actual" else "")
        + ")",
        f"Customer {customer_id}, billing date {billing_date}, {method}, due {due_date}",
        f"Total {money(total)} = subtotal {money(subtotal)} - credit {money(credit)}"
        + (f"; credit balance after it {money(balance)}" if balance else ""),
        "",
    ]
    files, counts = _event_files(con, invoice_id), _event_counts(con, invoice_id)
    lines = con.execute(
        """select line_id, line_number, line_type, description, tier, quantity, amount_minor, period_start,
                  period_end, adjusted_invoice_id, adjustment_reason, late_event_count
           from marts.fct_invoice_lines where invoice_id = ? order by line_number""",
        [invoice_id],
    ).fetchall()
    for (
        line_id,
        number,
        line_type,
        description,
        tier,
        quantity,
        amount,
        start,
        end,
        adjusted,
        reason,
        late,
    ) in lines:
        out.append(f"{number:>3}  {line_type:<22} {money(amount):>18}  {description}")
        detail = f"period {_when(start)} to {_when(end)}, quantity {_quantity(quantity)}"
        out.append("     " + detail + (f", tier {tier}" if tier is not None else ""))
        if line_id in counts:
            count, first, last = counts[line_id]
            out.append(f"     {count} events, {_when(first)} to {_when(last)}")
            for path, first_row, last_row, in_file in files[line_id]:
                rows = f"row {first_row}" if first_row == last_row else f"rows {first_row}-{last_row}"
                out.append(f"       {path}: {in_file} events, {rows}")
        if line_type == "adjustment":
            out.append(f"     corrects {adjusted}: {reason}" + (f", {late} late events" if late else ""))
            if reason == "late_events":
                late_rows = _late_events(con, line_id, adjusted)
                for event_id, occurred, qty, path, row, ingested in late_rows[:LATE_EVENTS_LISTED]:
                    out.append(
                        f"       {event_id}: {_when(occurred)}, quantity {_quantity(qty)}, {path} row {row}, "
                        f"received {_when(ingested)}"
                    )
                if len(late_rows) > LATE_EVENTS_LISTED:
                    out.append(f"       ... and {len(late_rows) - LATE_EVENTS_LISTED} more")
    return "\n".join(out)

"""The short summary `billing run` prints, read back from the warehouse (so it shows what was stored)."""

from __future__ import annotations

import duckdb

from dagster_billing.settings import BillingPaths


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    try:
        return con.execute(sql).fetchone()
    except duckdb.CatalogException:
        return None


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    """A view a failed run never built (on a fresh warehouse) reads as empty instead of ending in a traceback."""
    try:
        return con.execute(sql, params or []).fetchall()
    except duckdb.CatalogException:
        return []


def run_summary(paths: BillingPaths, run_id: str | None = None) -> str:
    """`run_id`: the Dagster run whose issued invoices to count (the run just finished)."""
    con = duckdb.connect(str(paths.warehouse_path), read_only=True)
    try:
        files = _one(
            con,
            "select count(*), count(*) filter (where status = 'unreadable'), sum(rows_read), "
            "sum(rows_accepted), sum(rows_duplicate), sum(rows_quarantined) from raw.ingested_files",
        )
        reasons = (
            _rows(con, "select reason_code, count(*) from raw.usage_quarantine group by 1 order by 2 desc, 1")
            if files
            else []
        )
        windows = _one(
            con,
            "select count(*) filter (where is_closed), count(*) filter (where not is_closed), "
            "count(distinct customer_id) from intermediate.int_billing_windows",
        )
        cycles = (
            _rows(
                con,
                "select cycle_kind, count(*) from intermediate.int_billing_cycles_anchored "
                "where cycle_kind <> 'anchor' group by 1 order by 1",
            )
            if windows
            else []
        )
        unbilled = (
            _rows(
                con,
                "select billing_status, sum(event_count) from intermediate.int_usage_aggregated_to_billing_windows "
                "group by 1 order by 1",
            )
            if windows
            else []
        )
        invoices = _invoice_lines(con, run_id)
        lateness = _lateness_lines(con)
    finally:
        con.close()
    lines = [f"Warehouse: {paths.warehouse_path}"]
    if files:
        count, unreadable, read, accepted, duplicate, quarantined = (value or 0 for value in files)
        lines += [
            f"Files ingested: {count} ({unreadable} unreadable)",
            f"Usage rows: {read} read = {accepted} accepted + {duplicate} duplicate + {quarantined} quarantined",
        ]
        lines += [f"  quarantined {code}: {n}" for code, n in reasons]
    if windows:
        closed, open_, customers = windows
        lines.append(f"Billing windows: {closed} closed, {open_} open, for {customers} customers")
        lines += [f"  accepted events {status}: {n}" for status, n in unbilled]
        if cycles:
            lines.append(
                "Billing cycles started by: "
                + ", ".join(f"{kind} {n}" for kind, n in cycles)
                + " (int_billing_cycles_anchored)"
            )
    return "\n".join(lines + invoices + lateness)


def _invoice_lines(con: duckdb.DuckDBPyConnection, run_id: str | None) -> list[str]:
    """What this run issued (the ledger rows with its run id), what waits for its grace period or is held, and
    the adjustments this run billed."""
    issued = _rows(
        con,
        "select currency, any_value(minor_unit_digits), count(*), count(*) filter (where collection_method = "
        "'send_invoice'), sum(total_minor) from billing.issued_invoices where issue_run_id = ? "
        "group by 1 order by 1",
        [run_id],
    )
    adjustments = _rows(
        con,
        "select l.adjustment_reason, count(*), sum(coalesce(l.late_event_count, 0)) "
        "from billing.issued_invoice_lines as l join billing.issued_invoices as i using (invoice_id) "
        "where i.issue_run_id = ? and l.line_type = 'adjustment' group by 1 order by 1",
        [run_id],
    )
    ledger = _one(con, "select count(*) from billing.issued_invoices")
    drafts = _one(
        con,
        "select count(*) filter (where invoice_status = 'draft'), count(*) filter (where invoice_status = 'held') "
        "from marts.fct_invoices where scenario = 'actual'",
    )
    if ledger is None:
        return []
    draft_count, held_count = drafts or (0, 0)
    lines = [
        f"Invoices issued this run: {sum(row[2] for row in issued)} (billing.issued_invoices; "
        f"{ledger[0]} in the ledger), {draft_count} in their grace period (drafts)"
        + (f", {held_count} held (see marts.fct_invoices.hold_reason)" if held_count else "")
    ]
    lines += [
        f"  {currency}: {count} invoices ({manual} send_invoice), total {_major(total, digits)} {currency}"
        for currency, digits, count, manual, total in issued
    ]
    if adjustments:
        lines.append(
            f"  adjustment lines: {sum(row[1] for row in adjustments)} ("
            + ", ".join(
                f"{reason} {n}" + (f" for {late} late events" if late else "")
                for reason, n, late in adjustments
            )
            + "), correcting earlier invoices"
        )
    return lines


AGE_BUCKETS_SHOWN = "current / 1-30 / 31-60 / 61-90 / over 90 days past due"


def receivables_summary(paths: BillingPaths) -> str:
    """Receivables by age on the run's as_of (marts.fct_receivables_aging), per currency and in the reporting
    currency; empty when nothing is owed or the mart was not built."""
    con = duckdb.connect(str(paths.warehouse_path), read_only=True)
    try:
        rows = _rows(
            con,
            "select as_of_date, currency, minor_unit_digits, reporting_currency, reporting_minor_unit_digits, "
            "bucket_order, invoice_count, amount_outstanding_minor, amount_outstanding_reporting_minor "
            "from marts.fct_receivables_aging order by currency, bucket_order",
        )
    finally:
        con.close()
    if not rows:
        return "Receivables: none owed"
    by_currency: dict[str, list[tuple]] = {}
    for row in rows:
        by_currency.setdefault(row[1], []).append(row)
    as_of, reporting = rows[0][0], rows[0][3]
    lines = [f"Receivables on {as_of} (marts.fct_receivables_aging), {AGE_BUCKETS_SHOWN}:"]
    reporting_totals, without_rate = [0] * 5, []
    for currency, buckets in by_currency.items():
        digits = buckets[0][2]
        amounts = " / ".join(_major(row[7], digits) for row in buckets)
        lines.append(f"  {currency}: {sum(row[6] for row in buckets)} invoices: {amounts} {currency}")
        if any(row[8] is None for row in buckets):
            without_rate.append(currency)
            continue
        for row in buckets:
            reporting_totals[row[5] - 1] += row[8]
    reporting = reporting or next((row[3] for row in rows if row[3]), None)
    reporting_digits = next((row[4] for row in rows if row[4] is not None), None)
    if reporting is not None and reporting_digits is not None:
        amounts = " / ".join(_major(total, reporting_digits) for total in reporting_totals)
        missing = f" (without {', '.join(without_rate)}: no rate in fx_rates)" if without_rate else ""
        lines.append(f"  all, in {reporting} (reporting currency): {amounts} {reporting}{missing}")
    return "\n".join(lines)


# The latest arrival days shown in the summary (the whole table is marts.fct_usage_lateness_daily).
LATENESS_DAYS_SHOWN = 3


def _lateness_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    days = _rows(
        con,
        "select arrival_date, events_accepted, events_in_open_window, events_after_window_before_issue, "
        "events_after_issue, events_not_in_a_window, quarantined_percent from marts.fct_usage_lateness_daily "
        "where files > 0 order by arrival_date desc limit ?",
        [LATENESS_DAYS_SHOWN],
    )
    if not days:
        return []
    lines = [
        "Arrivals by day (marts.fct_usage_lateness_daily): events in an open window / after the window, "
        "before issue / after issue (adjusted) / in no window; quarantined"
    ]
    lines += [
        f"  {day}: {accepted} events: {open_} / {before_issue} / {after_issue} / {nowhere}; "
        f"{quarantined or 0}% of rows quarantined"
        for day, accepted, open_, before_issue, after_issue, nowhere, quarantined in reversed(days)
    ]
    return lines


def _major(total_minor: int, digits: int) -> str:
    """Integer minor units as major-unit text with the currency's digits (exact: string arithmetic only)."""
    sign, text = ("-" if total_minor < 0 else ""), str(abs(total_minor)).rjust(digits + 1, "0")
    whole, fraction = (text[:-digits], text[-digits:]) if digits else (text, "")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if digits else "")

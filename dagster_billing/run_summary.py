"""The short summary `billing run` prints, read back from the warehouse (so it shows what was stored)."""

from __future__ import annotations

import duckdb

from dagster_billing.settings import BillingPaths


def _one(con: duckdb.DuckDBPyConnection, sql: str):
    try:
        return con.execute(sql).fetchone()
    except duckdb.CatalogException:
        return None


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """A view a failed run never built (on a fresh warehouse) reads as empty instead of ending in a traceback."""
    try:
        return con.execute(sql).fetchall()
    except duckdb.CatalogException:
        return []


def run_summary(paths: BillingPaths) -> str:
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
        unbilled = (
            _rows(
                con,
                "select billing_status, sum(event_count) from intermediate.int_usage_aggregated_to_billing_windows "
                "group by 1 order by 1",
            )
            if windows
            else []
        )
        invoices = (
            _rows(
                con,
                "select currency, minor_unit_digits, count(*), count(*) filter (where collection_method = "
                "'send_invoice'), sum(total_minor) from marts.fct_invoices where scenario = 'actual' "
                "group by 1, 2 order by 1",
            )
            if _has_invoices(con)
            else []
        )
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
    if invoices:
        lines.append(f"Invoices: {sum(row[2] for row in invoices)} (marts.fct_invoices, scenario actual)")
        lines += [
            f"  {currency}: {count} invoices ({manual} send_invoice), total {_major(total, digits)} {currency}"
            for currency, digits, count, manual, total in invoices
        ]
    return "\n".join(lines)


def _has_invoices(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' "
            "and table_name = 'fct_invoices'"
        ).fetchone()[0]
    )


def _major(total_minor: int, digits: int) -> str:
    """Integer minor units as major-unit text with the currency's digits (exact: string arithmetic only)."""
    sign, text = ("-" if total_minor < 0 else ""), str(abs(total_minor)).rjust(digits + 1, "0")
    whole, fraction = (text[:-digits], text[-digits:]) if digits else (text, "")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if digits else "")

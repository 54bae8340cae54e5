"""Proof that the ledger is append-only: each issued invoice's stored content hash against its rows now."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from dagster_billing.ledger.tables import SCHEMA, content_hash_sql, ensure_ledger_tables


@dataclass
class IntegrityReport:
    checked: int = 0
    changed: list[str] = field(default_factory=list)


def changed_invoices(con: duckdb.DuckDBPyConnection) -> IntegrityReport:
    ensure_ledger_tables(con)
    rows = con.execute(
        f"""
        with now as ({content_hash_sql(f"{SCHEMA}.issued_invoices", f"{SCHEMA}.issued_invoice_lines")}),
        line_counts as (
            select invoice_id, count(*) as lines from {SCHEMA}.issued_invoice_lines group by invoice_id
        )
        select i.invoice_id, i.content_hash = now.content_hash, i.line_count, coalesce(line_counts.lines, 0)
        from {SCHEMA}.issued_invoices as i
        inner join now on now.invoice_id = i.invoice_id
        left join line_counts on line_counts.invoice_id = i.invoice_id
        order by i.invoice_id
        """
    ).fetchall()
    report = IntegrityReport(checked=len(rows))
    for invoice_id, same_hash, line_count, lines in rows:
        if not same_hash or line_count != lines:
            report.changed.append(
                f"{invoice_id}: issued with {line_count} lines, has {lines} now"
                if line_count != lines
                else f"{invoice_id}: its header or lines changed after issue (content hash differs)"
            )
    orphans = con.execute(
        f"""select count(*) from {SCHEMA}.issued_invoice_lines
            where invoice_id not in (select invoice_id from {SCHEMA}.issued_invoices)"""
    ).fetchone()
    if orphans and orphans[0]:
        report.changed.append(f"{orphans[0]} ledger lines belong to no issued invoice")
    return report

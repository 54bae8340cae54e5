"""The Stripe lines of the `billing run` / `billing demo` summary, read back from the warehouse."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

FINALIZED_SHOWN_FIRST = ("charged", "sent", "declined")
ERRORS_SHOWN = 5


@dataclass(frozen=True)
class StripeReport:
    outcomes: dict[str, int] = field(default_factory=dict)  # stripe.invoice_sync rows by outcome
    stages: list[tuple[str, int]] = field(default_factory=list)  # overdue invoices by dunning stage
    errors: list[str] = field(default_factory=list)  # the first few invoices in error, with Stripe's message

    @property
    def error_count(self) -> int:
        """Invoices whose last attempt ended in `error`: not finalized in Stripe; the next run takes them up."""
        return self.outcomes.get("error", 0)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[tuple]:
    """A table a failed run never created reads as empty: the summary still prints what there is."""
    try:
        return con.execute(sql, params or []).fetchall()
    except duckdb.CatalogException:
        return []


def read_stripe_report(warehouse_path: Path, since: datetime | None = None) -> StripeReport:
    """`since` (UTC): only invoices the Stripe step attempted from then on, i.e. what the run just finished did
    (every run takes up the invoices in error again, so none is left out)."""
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        outcomes = dict(
            _rows(
                con,
                "select outcome, count(*) from stripe.invoice_sync "
                "where $since is null or last_attempted_at >= $since group by 1",
                {"since": since},
            )
        )
        stages = _rows(con, "select dunning_stage, count(*) from stripe.collections group by 1 order by 1")
        errors = _rows(
            con,
            "select invoice_id, customer_id, last_error from stripe.invoice_sync where outcome = 'error' "
            "order by invoice_id limit ?",
            [ERRORS_SHOWN],
        )
    finally:
        con.close()
    return StripeReport(outcomes, stages, [f"{i} ({c}): {e}" for i, c, e in errors])


def stripe_summary(warehouse_path: Path, report: StripeReport | None = None) -> str:
    report = report or read_stripe_report(warehouse_path)
    outcomes = report.outcomes
    if not outcomes:
        if not os.environ.get("STRIPE_API_KEY"):
            return "Stripe: not run (STRIPE_API_KEY is not set; `billing demo` starts a local emulator)"
        return "Stripe: no invoice was due"
    finalized = {o: n for o, n in outcomes.items() if o != "error"}
    counts = ", ".join(f"{finalized.get(o, 0)} {o}" for o in FINALIZED_SHOWN_FIRST)
    others = ", ".join(f"{n} {o}" for o, n in sorted(finalized.items()) if o not in FINALIZED_SHOWN_FIRST)
    lines = [
        f"Stripe: {sum(finalized.values())} invoices finalized: {counts}" + (f" ({others})" if others else "")
    ]
    if report.error_count:
        lines.append(
            f"Stripe: {report.error_count} invoices ended in error, not finalized (stripe.invoice_sync.last_error; "
            "the next run takes them up again):"
        )
        lines += [f"  {error}" for error in report.errors]
        if report.error_count > len(report.errors):
            lines.append(f"  ... and {report.error_count - len(report.errors)} more")
    finalize_from = os.environ.get("BILLING_STRIPE_FINALIZE_FROM")
    if finalize_from:
        lines.append(
            f"  invoices billed before {finalize_from} (go-live, BILLING_STRIPE_FINALIZE_FROM) not sent"
        )
    if report.stages:
        lines.append("  overdue by dunning stage: " + ", ".join(f"{stage} {n}" for stage, n in report.stages))
    return "\n".join(lines)

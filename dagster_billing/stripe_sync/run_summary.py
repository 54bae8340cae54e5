"""The Stripe lines of the `billing run` / `billing demo` summary, read back from the warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def stripe_summary(warehouse_path: Path) -> str:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        outcomes = dict(
            con.execute("select outcome, count(*) from stripe.invoice_sync group by 1").fetchall()
        )
        stages = con.execute(
            "select dunning_stage, count(*) from stripe.collections group by 1 order by 1"
        ).fetchall()
    except duckdb.CatalogException:
        outcomes, stages = {}, []
    finally:
        con.close()
    if not outcomes:
        if not os.environ.get("STRIPE_API_KEY"):
            return "Stripe: not run (STRIPE_API_KEY is not set; `billing demo` starts a local emulator)"
        return "Stripe: no invoice was due"
    counts = ", ".join(f"{outcomes.get(o, 0)} {o}" for o in ("charged", "sent", "declined"))
    others = ", ".join(
        f"{n} {o}" for o, n in sorted(outcomes.items()) if o not in ("charged", "sent", "declined")
    )
    lines = [
        f"Stripe: {sum(outcomes.values())} invoices finalized: {counts}" + (f" ({others})" if others else "")
    ]
    finalize_from = os.environ.get("BILLING_STRIPE_FINALIZE_FROM")
    if finalize_from:
        lines.append(
            f"  invoices billed before {finalize_from} (go-live, BILLING_STRIPE_FINALIZE_FROM) not sent"
        )
    if stages:
        lines.append("  overdue by dunning stage: " + ", ".join(f"{stage} {n}" for stage, n in stages))
    return "\n".join(lines)

"""Reconciliation, blocking: nothing downstream of `stripe/invoice_sync` runs while Stripe and the warehouse differ."""

import dagster as dg

from dagster_billing.defs.stripe.resources import StripeResource
from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_billing.stripe_sync.client import StripeNotConfigured
from dagster_billing.stripe_sync.reconciliation import reconcile
from dagster_billing.stripe_sync.tables import ensure_tables


@dg.asset_check(
    asset=dg.AssetKey(["stripe", "invoice_sync"]),
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="Every finalized warehouse invoice has exactly one Stripe invoice with the same total and line sum, "
    "and no Stripe invoice carries our invoice id without a warehouse invoice.",
)
def stripe_reconciles(warehouse: WarehouseResource, stripe_api: StripeResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        ensure_tables(con)
        finalized = con.execute(
            "select count(*) from stripe.invoice_sync where finalized_at is not null"
        ).fetchone()
        try:
            client = stripe_api.client()
        except StripeNotConfigured as reason:
            # Nothing finalized means nothing to reconcile; finalized invoices that cannot be checked fail.
            passed = not finalized or finalized[0] == 0
            return dg.AssetCheckResult(
                passed=passed, metadata={"stripe": "not reachable", "reason": str(reason)}
            )
        report = reconcile(con, client)
    return dg.AssetCheckResult(
        passed=report.passed,
        metadata={
            "finalized in warehouse": report.finalized_in_warehouse,
            "ours in Stripe": report.ours_in_stripe,
            "problems": len(report.problems),
        },
        description="; ".join(report.problems[:20]) or None,
    )

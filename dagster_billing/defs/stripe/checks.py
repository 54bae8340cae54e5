"""Reconciliation, blocking: nothing downstream of `stripe/invoice_sync` runs while Stripe and the ledger differ."""

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
    description="Every finalized issued invoice (billing.issued_invoices) has exactly one Stripe invoice with the "
    "same total and line sum, and no Stripe invoice carries our invoice id without an issued invoice. Skipped, "
    "with the reason, when Stripe is not configured.",
)
def stripe_reconciles(warehouse: WarehouseResource, stripe_api: StripeResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        ensure_tables(con)
        try:
            client = stripe_api.client()
        except StripeNotConfigured as reason:
            # Not a failure: without a key there is no Stripe to compare with (a run without Stripe still
            # issues invoices into the ledger; they are finalized when a key is set).
            return dg.AssetCheckResult(
                passed=True,
                metadata={"stripe": "not configured: check skipped", "reason": str(reason)},
                description=f"skipped: {reason}",
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

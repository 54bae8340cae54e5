"""Stripe assets: finalize due invoices (`stripe/invoice_sync`), then refresh payment status and dun overdue
invoices (`stripe/collections`), then read the payments back (`stripe/payments`). Thin wrappers over
`dagster_billing.stripe_sync`."""

from datetime import date, datetime, timezone

import dagster as dg
from pydantic import Field

from dagster_billing.defs.stripe import checks
from dagster_billing.defs.stripe.resources import StripeResource, stripe_resource
from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_billing.local_stripe.cards import attach_test_card
from dagster_billing.stripe_sync.client import StripeNotConfigured
from dagster_billing.stripe_sync.dunning import DEFAULT_RETRY_AFTER_DAYS, refresh_and_dun
from dagster_billing.stripe_sync.finalize import OUTCOMES, finalize_due_invoices
from dagster_billing.stripe_sync.payments import sync_payments
from dagster_billing.stripe_sync.sync_records import utc_now
from dagster_billing.stripe_sync.tables import ensure_tables, record_go_live

ISSUED_INVOICES = dg.AssetKey(["billing", "issued_invoices"])
INVOICE_SYNC = dg.AssetKey(["stripe", "invoice_sync"])
COLLECTIONS = dg.AssetKey(["stripe", "collections"])
PAYMENTS = dg.AssetKey(["stripe", "payments"])
GO_LIVE = dg.AssetKey(["stripe", "go_live"])


@dg.asset(
    key=GO_LIVE,
    group_name="stripe",
    pool=WAREHOUSE_POOL,
    description="Records the Stripe go-live date (BILLING_STRIPE_FINALIZE_FROM) in stripe.go_live, so the invoice "
    "marts can call an issued invoice billed before it `billed_elsewhere`. Runs with or without a Stripe key.",
)
def stripe_go_live(warehouse: WarehouseResource, stripe_api: StripeResource) -> dg.MaterializeResult:
    finalize_from = stripe_api.finalize_from_date()
    with warehouse.get_connection() as con:
        record_go_live(con, finalize_from, utc_now())
    return dg.MaterializeResult(
        metadata={"finalize_from": finalize_from.isoformat() if finalize_from else ""}
    )


def _not_run(context: dg.AssetExecutionContext, reason: StripeNotConfigured) -> dg.MaterializeResult:
    context.log.warning(f"Stripe step not run: {reason}")
    return dg.MaterializeResult(metadata={"stripe": "not run", "reason": str(reason)})


@dg.asset(
    key=INVOICE_SYNC,
    deps=[ISSUED_INVOICES],
    group_name="stripe",
    pool=WAREHOUSE_POOL,
    description="Finalizes every issued, not yet finalized invoice of the ledger in Stripe (charged or sent) and records "
    "the Stripe ids, number, status, amounts and outcome per invoice in the warehouse table stripe.invoice_sync.",
)
def stripe_invoice_sync(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, stripe_api: StripeResource
) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        ensure_tables(con)  # the table exists (empty) even when Stripe is not configured
        try:
            client = stripe_api.client()
        except StripeNotConfigured as reason:
            return _not_run(context, reason)
        summary = finalize_due_invoices(
            con,
            client,
            concurrency=stripe_api.max_concurrent_requests,
            on_customer_created=attach_test_card if stripe_api.seed_test_cards else None,
            finalize_from=stripe_api.finalize_from_date(),
            automatic_tax=stripe_api.automatic_tax,
        )
    for error in summary.errors:
        context.log.error(error)
    metadata: dict = {
        "due": summary.due,
        "finalize_from": stripe_api.finalize_from or "",
        **{outcome: summary.count(outcome) for outcome in OUTCOMES},
    }
    if summary.errors:
        metadata["errors"] = dg.MetadataValue.md("\n".join(f"- {e}" for e in summary.errors[:50]))
    return dg.MaterializeResult(metadata=metadata)


class CollectionsConfig(dg.Config):
    as_of: str = Field(
        default="", description="Date days overdue are counted to (YYYY-MM-DD); empty is today UTC."
    )
    retry_after_days: list[int] = Field(
        default=list(DEFAULT_RETRY_AFTER_DAYS),
        description="Dunning schedule: a card retry on each of these days overdue, then suspend.",
    )


@dg.asset(
    key=COLLECTIONS,
    deps=[INVOICE_SYNC],
    group_name="stripe",
    pool=WAREHOUSE_POOL,
    description="Refreshes the status of unpaid Stripe invoices, retries cards when the dunning schedule says so "
    "and rebuilds stripe.collections: every overdue unpaid invoice with its days overdue and dunning stage.",
)
def stripe_collections(
    context: dg.AssetExecutionContext,
    config: CollectionsConfig,
    warehouse: WarehouseResource,
    stripe_api: StripeResource,
) -> dg.MaterializeResult:
    as_of = date.fromisoformat(config.as_of[:10]) if config.as_of else datetime.now(timezone.utc).date()
    with warehouse.get_connection() as con:
        ensure_tables(con)
        try:
            client = stripe_api.client()
        except StripeNotConfigured as reason:
            return _not_run(context, reason)
        summary = refresh_and_dun(
            con, client, as_of, tuple(config.retry_after_days), stripe_api.max_concurrent_requests
        )
    stages = {f"stage {stage}": count for stage, count in sorted(summary.stages.items())}
    statuses = {f"status {status}": count for status, count in sorted(summary.statuses.items())}
    return dg.MaterializeResult(
        metadata={"refreshed": summary.refreshed, "retried": summary.retried, "recovered": summary.recovered}
        | statuses
        | stages
    )


@dg.asset(
    key=PAYMENTS,
    deps=[COLLECTIONS],
    group_name="stripe",
    pool=WAREHOUSE_POOL,
    description="Reads Stripe's payments of our invoices (each InvoicePayment's charges: amount, date, method, "
    "failure reason) into stripe.payments, for every invoice whose state was read from Stripe since its payments "
    "were last read. Reads only; never writes to Stripe.",
)
def stripe_payments(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, stripe_api: StripeResource
) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        ensure_tables(con)
        try:
            client = stripe_api.client()
        except StripeNotConfigured as reason:
            return _not_run(context, reason)
        summary = sync_payments(con, client, stripe_api.max_concurrent_requests)
    for error in summary.errors:
        context.log.error(error)
    metadata: dict = {
        "invoices read": summary.invoices_read,
        "charges": summary.charges,
        "failed charges": summary.failed_charges,
        "invoices not read": len(summary.errors),
    }
    if summary.errors:
        metadata["errors"] = dg.MetadataValue.md("\n".join(f"- {e}" for e in summary.errors[:50]))
    return dg.MaterializeResult(metadata=metadata)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[stripe_go_live, stripe_invoice_sync, stripe_collections, stripe_payments],
        asset_checks=[checks.stripe_reconciles],
        resources={"stripe_api": stripe_resource()},
    )

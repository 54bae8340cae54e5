"""The invoice ledger (`billing/issued_invoices`): invoices whose grace period has passed are issued, frozen,
with the adjustments of earlier invoices. Thin wrapper over `dagster_billing.ledger`."""

import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import dagster as dg
from pydantic import Field

from dagster_billing.defs.ledger import checks
from dagster_billing.defs.stripe.resources import TAX_PROVIDER_ENV
from dagster_billing.defs.usage.partitions import run_as_of
from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_billing.ledger.issue import DEFAULT_GRACE_PERIOD, issue_due_invoices

ISSUED_INVOICES = dg.AssetKey(["billing", "issued_invoices"])
ISSUED_INVOICE_LINES = dg.AssetKey(["billing", "issued_invoice_lines"])
COMPUTED_LINES = dg.AssetKey(["intermediate", "int_invoice_lines_computed"])
COMPUTED_INVOICES = dg.AssetKey(["intermediate", "int_invoices_computed"])


class LedgerConfig(dg.Config):
    as_of: str = Field(
        default="",
        description="Issue up to this UTC date or timestamp (YYYY-MM-DD[ HH:MM:SS]), the same as the dbt models' "
        "as_of; empty means today at 00:00 UTC.",
    )
    grace_period_hours: float = Field(
        default=DEFAULT_GRACE_PERIOD.total_seconds() / 3600,
        ge=0,
        description="An invoice is issued once this long has passed since its billing date, so that ordinary "
        "late usage lands before it is frozen (Metronome's default: 24 hours). 0 issues at the billing date.",
    )


def as_of_instant(as_of: str) -> datetime:
    """`as_of` as the naive UTC timestamp the warehouse holds (the dbt macro `as_of_timestamp` reads it alike)."""
    if not as_of:
        return datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    return datetime.fromisoformat(as_of)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ISSUED_INVOICES,
            deps=[COMPUTED_LINES, COMPUTED_INVOICES],
            group_name="ledger",
            description="The append-only ledger of issued invoices (billing.issued_invoices): every `actual` "
            "invoice whose grace period has passed, frozen with its totals, credit applied and the customer's "
            "terms at issue. Issued rows never change.",
        ),
        dg.AssetSpec(
            ISSUED_INVOICE_LINES,
            deps=[COMPUTED_LINES],
            group_name="ledger",
            description="The lines of issued invoices (billing.issued_invoice_lines): computed lines copied at "
            "issue, adjustment lines for what changed in invoices issued earlier, credit lines of a balance.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def issued_invoices(
    context: dg.AssetExecutionContext, config: LedgerConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    with warehouse.get_connection() as con:
        summary = issue_due_invoices(
            con,
            as_of=as_of_instant(run_as_of(config.as_of, context.run.tags)),
            grace_period=timedelta(hours=config.grace_period_hours),
            run_id=context.run.run_id,
            issued_at=datetime.now(timezone.utc).replace(tzinfo=None),
            compare_tax=os.environ.get(TAX_PROVIDER_ENV, "") != "stripe_tax",
        )
        (ledger_invoices,) = con.execute("select count(*) from billing.issued_invoices").fetchone()
        (ledger_lines,) = con.execute("select count(*) from billing.issued_invoice_lines").fetchone()
    yield dg.MaterializeResult(
        asset_key=ISSUED_INVOICES,
        metadata={
            "issued this run": summary.issued,
            "issued in the ledger": ledger_invoices,
            "adjustment lines this run": summary.adjustment_lines,
            **{f"adjustments {reason}": n for reason, n in sorted(summary.adjustments_by_reason.items())},
            "adjustments waiting for the customer's next invoice": summary.pending_adjustment_lines,
            "invoices in their grace period": summary.waiting_for_grace,
            "invoices held (a line too large to price; see hold_reason in marts.fct_invoices)": summary.held,
            **{f"issued total {currency} (minor)": n for currency, n in summary.issued_total_minor.items()},
        },
    )
    yield dg.MaterializeResult(
        asset_key=ISSUED_INVOICE_LINES,
        metadata={"lines in the ledger": ledger_lines, "adjustment lines this run": summary.adjustment_lines},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[issued_invoices], asset_checks=[checks.issued_invoices_unchanged])

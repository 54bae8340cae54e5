"""The ledger never changes: every issued invoice still has the content hash it was issued with."""

import dagster as dg

from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_billing.ledger.integrity import changed_invoices


@dg.asset_check(
    asset=dg.AssetKey(["billing", "issued_invoices"]),
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="Every issued invoice's header and lines hash to the content hash stored when it was issued, and "
    "its line count is unchanged: nothing in the ledger was updated, deleted or added after issue.",
)
def issued_invoices_unchanged(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        report = changed_invoices(con)
    return dg.AssetCheckResult(
        passed=not report.changed,
        metadata={"invoices checked": report.checked, "invoices changed": len(report.changed)},
        description="; ".join(report.changed[:20]) or None,
    )

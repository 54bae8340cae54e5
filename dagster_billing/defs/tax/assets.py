"""Tax inputs in `raw`: the rates of `pricing_configs/tax/*.yaml` and the customers' tax locations of the landing
file `customer_tax.csv`. The invoice models compute tax lines from them (see README, "Tax")."""

import dagster as dg

from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_billing.ingestion.reference_data import ReferenceDataError
from dagster_billing.settings import billing_paths
from dagster_billing.tax.config import TaxConfigError, load_tax_rates
from dagster_billing.tax.customer_tax import load_customer_tax, write_tax_rates

TAX_RATES = dg.AssetKey(["raw", "tax_rates"])
CUSTOMER_TAX = dg.AssetKey(["raw", "customer_tax"])


@dg.asset(
    key=TAX_RATES,
    group_name="tax",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="One row per tax jurisdiction and product (a plan id, or * for the rest): rate in percent, "
    "exempt region, reverse charge for businesses; from pricing_configs/tax/*.yaml. No file: no tax.",
)
def tax_rates(warehouse: WarehouseResource) -> dg.MaterializeResult:
    try:
        rows = load_tax_rates(billing_paths().pricing_dir)
    except TaxConfigError as error:
        # Nothing was written: the previous rates stay as they were.
        raise dg.Failure(description=str(error), metadata={"problems": len(error.problems)}) from error
    with warehouse.get_connection() as con:
        count = write_tax_rates(con, rows)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": count, "jurisdictions": sorted({r.jurisdiction for r in rows})}
    )


@dg.asset(
    key=CUSTOMER_TAX,
    group_name="tax",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="One row per customer: tax country and region, tax id, and tax_exempt (none, exempt, reverse), "
    "from the landing file customer_tax.csv (optional; validated whole, the previous snapshot stays on error).",
)
def customer_tax(warehouse: WarehouseResource) -> dg.MaterializeResult:
    try:
        with warehouse.get_connection() as con:
            count = load_customer_tax(con, billing_paths().landing_dir)
    except ReferenceDataError as error:
        raise dg.Failure(description=str(error), metadata={"problems": len(error.problems)}) from error
    return dg.MaterializeResult(metadata={"dagster/row_count": count})


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[tax_rates, customer_tax])

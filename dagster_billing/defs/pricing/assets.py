"""The pricing tables in `raw`, loaded from the versioned YAML files in the pricing config folder."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL
from dagster_billing.pricing import PricingConfigError, load_pricing_configs, write_pricing_tables
from dagster_billing.pricing.config_models import PricingConfig
from dagster_billing.settings import billing_paths

# table -> what one row is; every table is also keyed by scenario ('actual' for the config folder).
PRICING_TABLES = {
    "pricing_versions": "One row per pricing version: effective date, default rounding mode, source file.",
    "pricing_plans": "One row per plan per currency per pricing version: cadence, base fee, minimum, rounding.",
    "pricing_metrics": "Billable metrics and their aggregation, per pricing version.",
    "pricing_charges": "One row per usage charge of a plan (per currency and version): model and prices.",
    "pricing_charge_tiers": "The tiers of graduated, volume and graduated_percentage charges, 1-based.",
}
PRICING_KEYS = {table: dg.AssetKey(["raw", table]) for table in PRICING_TABLES}
PRICING_PLANS_KEY = PRICING_KEYS["pricing_plans"]
PRICING_METRICS_KEY = PRICING_KEYS["pricing_metrics"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(PRICING_KEYS[table], group_name="pricing", kinds={"duckdb"}, description=description)
        for table, description in PRICING_TABLES.items()
    ],
    # Plans, charges and metrics are validated against each other across versions, so they load together or
    # not at all.
    can_subset=False,
    pool=WAREHOUSE_POOL,
)
def pricing_tables(context: dg.AssetExecutionContext, warehouse: DuckDBResource):
    pricing_dir = billing_paths().pricing_dir
    try:
        configs = load_pricing_configs(pricing_dir)
    except PricingConfigError as error:
        # Nothing was written: the previous pricing tables stay as they were.
        raise dg.Failure(description=str(error), metadata={"problems": len(error.problems)}) from error
    with warehouse.get_connection() as con:
        row_counts = write_pricing_tables(con, configs)
    context.log.info(f"Loaded pricing versions {[c.version for c in configs]} from {pricing_dir}")
    versions = ", ".join(f"{c.version} (from {c.effective_from})" for c in configs)
    for table, key in PRICING_KEYS.items():
        metadata = {
            "versions": versions,
            "dagster/row_count": row_counts[table],
            **_extra_metadata(table, configs),
        }
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


def _extra_metadata(table: str, configs: list[PricingConfig]) -> dict:
    if table == "pricing_plans":
        return {
            "plan_count": len({plan.id for c in configs for plan in c.plans}),
            "currencies": sorted({plan.currency for c in configs for plan in c.plans}),
            "source_files": [c.source_file for c in configs],
        }
    if table == "pricing_metrics":
        return {"metric_count": len({metric.code for c in configs for metric in c.metrics})}
    return {}


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[pricing_tables])

"""The pricing tables in `raw`, loaded from the versioned YAML files in the pricing config folder."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL
from dagster_billing.pricing import PricingConfigError, load_pricing_configs, write_pricing_tables
from dagster_billing.settings import billing_paths

PRICING_PLANS_KEY = dg.AssetKey(["raw", "pricing_plans"])
PRICING_METRICS_KEY = dg.AssetKey(["raw", "pricing_metrics"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            PRICING_PLANS_KEY,
            group_name="pricing",
            kinds={"duckdb"},
            description="One row per plan per pricing version (also writes raw.pricing_versions).",
        ),
        dg.AssetSpec(
            PRICING_METRICS_KEY,
            group_name="pricing",
            kinds={"duckdb"},
            description="Billable metrics and their aggregation, per pricing version.",
        ),
    ],
    # Plans and metrics are validated against each other across versions, so they load together or not at all.
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
    yield dg.MaterializeResult(
        asset_key=PRICING_PLANS_KEY,
        metadata={
            "versions": versions,
            "plan_count": len({plan.id for c in configs for plan in c.plans}),
            "dagster/row_count": row_counts["pricing_plans"],
            "source_files": [c.source_file for c in configs],
        },
    )
    yield dg.MaterializeResult(
        asset_key=PRICING_METRICS_KEY,
        metadata={
            "versions": versions,
            "metric_count": len({metric.code for c in configs for metric in c.metrics}),
            "dagster/row_count": row_counts["pricing_metrics"],
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[pricing_tables])

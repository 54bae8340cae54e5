"""Raw customers, subscriptions and usage events, from the landing folder into the warehouse's `raw` schema."""

from collections.abc import Iterator
from datetime import datetime, timezone

import dagster as dg
from pydantic import Field

from dagster_billing.defs.usage.partitions import arrival_day_partitions
from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_billing.ingestion.reference_data import ReferenceDataError, load_customers, load_subscriptions
from dagster_billing.ingestion.usage_ingestion import DEFAULT_FUTURE_TOLERANCE_MINUTES, ingest_usage_files
from dagster_billing.settings import billing_paths

CUSTOMERS_KEY = dg.AssetKey(["raw", "customers"])
SUBSCRIPTIONS_KEY = dg.AssetKey(["raw", "subscriptions"])
USAGE_EVENTS_KEY = dg.AssetKey(["raw", "usage_events"])
INGESTED_FILES_KEY = dg.AssetKey(["raw", "ingested_files"])


class UsageIngestionConfig(dg.Config):
    future_tolerance_minutes: int = Field(
        default=DEFAULT_FUTURE_TOLERANCE_MINUTES,
        description="Events stamped later than the ingestion time plus this many minutes are quarantined.",
    )


def _load_reference(loader, warehouse: WarehouseResource) -> int:
    try:
        with warehouse.get_connection() as con:
            return loader(con, billing_paths().landing_dir)
    except ReferenceDataError as error:
        # The previous snapshot stays: the table is replaced only after the whole file validated.
        raise dg.Failure(description=str(error), metadata={"problems": len(error.problems)}) from error


@dg.asset(
    key=CUSTOMERS_KEY,
    group_name="usage",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="Latest snapshot of customers.csv, validated whole (any bad row stops the load).",
)
def raw_customers(warehouse: WarehouseResource) -> dg.MaterializeResult:
    rows = _load_reference(load_customers, warehouse)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(
    key=SUBSCRIPTIONS_KEY,
    deps=[CUSTOMERS_KEY],
    group_name="usage",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="Latest snapshot of subscriptions.csv (plan history), validated whole.",
)
def raw_subscriptions(warehouse: WarehouseResource) -> dg.MaterializeResult:
    rows = _load_reference(load_subscriptions, warehouse)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            USAGE_EVENTS_KEY,
            deps=[CUSTOMERS_KEY],
            group_name="usage",
            kinds={"duckdb", "parquet"},
            description="Usage files ingested exactly once: accepted events (a view), duplicates and quarantine.",
        ),
        dg.AssetSpec(
            INGESTED_FILES_KEY,
            deps=[CUSTOMERS_KEY],
            group_name="usage",
            kinds={"duckdb"},
            description="One row per landing file ingested: path, SHA-256, when it arrived, and its rows read, "
            "accepted, duplicate and quarantined (the conservation record).",
        ),
    ],
    name="raw__usage_events",
    pool=WAREHOUSE_POOL,
    # a run ingests every file landed and not yet ingested, so a backfill of many days is one run
    partitions_def=arrival_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def raw_usage_events(
    context: dg.AssetExecutionContext, config: UsageIngestionConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    paths = billing_paths()
    with warehouse.get_connection() as con:
        report = ingest_usage_files(
            con,
            paths.landing_dir,
            paths.segments_dir,
            ingested_at=datetime.now(timezone.utc).replace(tzinfo=None),
            future_tolerance_minutes=config.future_tolerance_minutes,
            run_id=context.run.run_id,
        )
        (files,) = con.execute("select count(*) from raw.ingested_files").fetchone()
    for change in report.changed_files:
        context.log.error(
            f"{change.path} changed after it was ingested (sha256 {change.ingested_sha256[:12]} -> "
            f"{change.current_sha256[:12]}); it was not ingested again. Land corrections as new files."
        )
    yield dg.MaterializeResult(
        asset_key=INGESTED_FILES_KEY, metadata={"new_files": len(report.files), "dagster/row_count": files}
    )
    yield dg.MaterializeResult(
        asset_key=USAGE_EVENTS_KEY,
        metadata={
            "arrival_days": f"{context.partition_key_range.start}..{context.partition_key_range.end}",
            "new_files": len(report.files),
            "already_ingested_files": report.already_ingested,
            "changed_files": [change.path for change in report.changed_files],
            "unreadable_files": [f.path for f in report.files if f.status == "unreadable"],
            "rows_read": report.total("rows_read"),
            "rows_accepted": report.total("rows_accepted"),
            "rows_duplicate": report.total("rows_duplicate"),
            "rows_quarantined": report.total("rows_quarantined"),
            "quarantined_by_reason": dg.MetadataValue.json(report.quarantined_by_reason),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[raw_customers, raw_subscriptions, raw_usage_events])

"""Checks that ingestion lost nothing and that the landing folder was not rewritten behind our back."""

import dagster as dg

from dagster_billing.defs.usage.assets import USAGE_EVENTS_KEY
from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource

# Per file: rows read vs what the warehouse holds now (the accepted view, duplicates, quarantined rows).
CONSERVATION_SQL = """
with accepted as (select source_file_id as file_id, count(*) as n from raw.usage_events group by 1),
duplicates as (select file_id, count(*) as n from raw.usage_duplicates group by 1),
quarantined as (select file_id, count(*) as n from raw.usage_quarantine where source_row is not null group by 1)
select f.path, f.rows_read, coalesce(a.n, 0) as accepted, coalesce(d.n, 0) as duplicates,
       coalesce(q.n, 0) as quarantined
from raw.ingested_files as f
left join accepted as a using (file_id)
left join duplicates as d using (file_id)
left join quarantined as q using (file_id)
where f.rows_read <> coalesce(a.n, 0) + coalesce(d.n, 0) + coalesce(q.n, 0)
order by f.path
"""


@dg.asset_check(
    asset=USAGE_EVENTS_KEY,
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="For every ingested file: rows read = accepted + duplicates + quarantined.",
)
def usage_rows_conserved_per_file(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        (files,) = con.execute("select count(*) from raw.ingested_files").fetchone()
        broken = con.execute(CONSERVATION_SQL).fetchall()
    return dg.AssetCheckResult(
        passed=not broken,
        metadata={
            "files_checked": files,
            "files_not_conserved": [
                f"{path}: read {read}, accepted {acc} + duplicates {dup} + quarantined {quar}"
                for path, read, acc, dup, quar in broken
            ],
        },
    )


@dg.asset_check(
    asset=USAGE_EVENTS_KEY,
    blocking=True,
    pool=WAREHOUSE_POOL,
    description="No landing file changed after it was ingested (a change is never ingested twice).",
)
def landing_files_unchanged(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        changed = con.execute("select path from raw.landing_file_changes order by path").fetchall()
    return dg.AssetCheckResult(
        passed=not changed,
        metadata={"changed_files": [path for (path,) in changed]},
        description=None if not changed else "Restore the original files and land corrections as new files.",
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=[usage_rows_conserved_per_file, landing_files_unchanged])

"""Ingest usage files soon after they land, without waiting for the nightly billing run.

The sensor only lists the folder (path, size, modification time); reading and fingerprinting the contents is
ingestion's job, which also makes a run for an already-ingested file harmless.
"""

import hashlib
import json
import stat
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from dagster_billing.defs.usage.assets import (
    CUSTOMERS_KEY,
    INGESTED_FILES_KEY,
    SUBSCRIPTIONS_KEY,
    USAGE_EVENTS_KEY,
)
from dagster_billing.defs.usage.partitions import ARRIVAL_DAY_FORMAT
from dagster_billing.ingestion.landing_files import USAGE_FORMATS
from dagster_billing.settings import billing_paths

# Relative path under <landing>/usage -> [size in bytes, modification time in ns].
Listing = dict[str, list[int]]

usage_ingestion_job = dg.define_asset_job(
    "usage_ingestion_job",
    selection=dg.AssetSelection.assets(
        CUSTOMERS_KEY, SUBSCRIPTIONS_KEY, USAGE_EVENTS_KEY, INGESTED_FILES_KEY
    ),
    description="Load customers, subscriptions and new usage files; dbt models wait for the nightly run.",
)


def list_usage_files(usage_dir: Path) -> Listing:
    """The files ingestion picks up (known suffixes, no hidden files, any depth), without reading them."""
    listing: Listing = {}
    for path in usage_dir.rglob("*"):
        if path.name.startswith(".") or path.suffix.lower() not in USAGE_FORMATS:
            continue
        try:
            info = path.stat()
        except FileNotFoundError:  # removed between listing and stat
            continue
        if stat.S_ISREG(info.st_mode):
            listing[path.relative_to(usage_dir).as_posix()] = [info.st_size, info.st_mtime_ns]
    return listing


def read_cursor(cursor: str | None) -> Listing:
    """An unreadable cursor (e.g. edited in the UI) counts as empty: one extra run, harmless to ingestion."""
    try:
        listing = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        return {}
    return listing if isinstance(listing, dict) else {}


def new_or_changed(previous: Listing, current: Listing) -> Listing:
    """Files not listed before, or whose size or modification time moved (ingestion reports those)."""
    return {path: stat for path, stat in sorted(current.items()) if previous.get(path) != stat}


def run_key_for(files: Listing) -> str:
    """The same set of new files gives the same key: Dagster launches it once even if the cursor is lost."""
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return f"usage-files-{digest[:16]}"


@dg.sensor(
    target=usage_ingestion_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Ingests new or changed files under <landing>/usage. Off until turned on in the UI.",
)
def new_usage_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    usage_dir = billing_paths().landing_dir / "usage"
    if not usage_dir.is_dir():
        return dg.SensorResult(skip_reason=dg.SkipReason(f"The landing folder {usage_dir} does not exist."))
    current = list_usage_files(usage_dir)
    files = new_or_changed(read_cursor(context.cursor), current)
    cursor = json.dumps(current, sort_keys=True)
    if not files:
        return dg.SensorResult(
            skip_reason=dg.SkipReason(f"No new or changed usage files in {usage_dir} ({len(current)} seen)."),
            cursor=cursor,
        )
    preview = ", ".join(list(files)[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    context.log.info(f"{len(files)} new or changed usage file(s): {preview}")
    request = dg.RunRequest(
        run_key=run_key_for(files),
        partition_key=datetime.now(timezone.utc).strftime(ARRIVAL_DAY_FORMAT),  # the day the files arrived
        tags={"billing/usage_files": str(len(files))},
    )
    return dg.SensorResult(run_requests=[request], cursor=cursor)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[usage_ingestion_job], sensors=[new_usage_files_sensor])

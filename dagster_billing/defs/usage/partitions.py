"""Arrival-day partitions: the UTC day usage files landed on. A day's run ingests what landed and bills up to the
end of that day (`as_of` = the next midnight); a range of days (a backfill) is ONE run that ingests everything
and bills up to the end of its last day, since the incremental models fold files in, not days."""

from datetime import date, datetime, timedelta

import dagster as dg

ARRIVAL_DAY_FORMAT = "%Y-%m-%d"

# end_offset=1: today's partition exists, so the landing-folder sensor can ingest into it while the day runs.
arrival_day_partitions = dg.DailyPartitionsDefinition(
    start_date="2020-01-01", end_offset=1, timezone="UTC", fmt=ARRIVAL_DAY_FORMAT
)

# Dagster's tags for a run of one partition and for a single-run backfill of a range.
PARTITION_TAG = "dagster/partition"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def as_of_for_arrival_day(partition_key: str) -> str:
    """The as_of that bills an arrival day: the midnight (UTC) after it."""
    day = datetime.strptime(partition_key, ARRIVAL_DAY_FORMAT).date()
    return (day + timedelta(days=1)).isoformat()


def arrival_day_for_as_of(as_of: str, today: date) -> str:
    """The arrival day a run billing up to `as_of` is recorded under: the day before a midnight as_of, the day of
    any other instant; never after today (the latest partition)."""
    instant = datetime.fromisoformat(as_of)
    day = instant.date() - timedelta(days=1) if instant.time() == datetime.min.time() else instant.date()
    return min(day, today).strftime(ARRIVAL_DAY_FORMAT)


def run_as_of(configured: str, run_tags: dict[str, str]) -> str:
    """The as_of of a step: its config when set (the CLI and the schedule always set it), else the end of the
    run's arrival-day partition or partition range (a run launched from the UI), else empty (today)."""
    if configured:
        return configured
    last_day = run_tags.get(RANGE_END_TAG) or run_tags.get(PARTITION_TAG)
    return as_of_for_arrival_day(last_day) if last_day else ""

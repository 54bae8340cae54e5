"""What the generator wrote, precisely enough for tests to assert ingestion results against it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MALFORMED_KINDS = (
    "missing_event_id",
    "missing_customer_id",
    "missing_metric",
    "unknown_customer",
    "invalid_quantity",
    "negative_quantity",
    "non_finite_quantity",
    "missing_timestamp",
    "invalid_timestamp",
    "future_timestamp",
    "unparseable_row",
)


@dataclass(frozen=True)
class WrittenUsageFile:
    """One usage file. `rows` counts every data row (CSV, header excluded) or line (JSON Lines) or Parquet row
    written, including retried duplicates, conflicting copies and malformed rows."""

    relative_path: str  # relative to the landing folder, e.g. "usage/2025/03/00002-flat.csv"
    file_format: (
        str  # "parquet", "csv", "jsonl" (flat contract fields) or "cloudevents" (CloudEvents JSON Lines)
    )
    rows: int
    unique_events: int  # first copies of valid events; these are what ingestion should accept from this file
    retried_duplicates: int  # later copies, identical payload, of an event seen earlier in path order
    conflicting_duplicates: int  # later copies with the same event_id but a different quantity
    malformed_rows: int


@dataclass(frozen=True)
class MalformedRow:
    kind: str  # one of MALFORMED_KINDS
    relative_path: str
    row: int  # 1-based: CSV data row after the header, JSON Lines line
    line: int  # 1-based physical line in the file (CSV: row + 1 because of the header)
    event_id: str | None  # None when the row has none (or cannot be parsed)


@dataclass(frozen=True)
class GeneratedLanding:
    landing_dir: Path
    customers: int
    subscriptions: int
    plan_changes: int  # subscriptions that end at the same instant the customer's next one starts
    cancellations: int  # customers whose last subscription has an ended_at
    cadence_changes: (
        int  # plan changes between a monthly and the yearly plan (each starts a new billing cycle)
    )
    prorated_stubs: int  # customers subscribed before their anchor, billed a prorated stub (before_anchor)
    trials_as_own_period: int  # customers whose trial is its own period (trial_period: own_period)
    usage_files: tuple[WrittenUsageFile, ...]  # in path order, which is the order ingestion reads them
    unique_events: int  # distinct valid events (the `events` argument); ingestion should accept exactly these
    retried_duplicates: int
    conflicting_duplicates: int
    malformed: tuple[MalformedRow, ...]
    unreadable_files: tuple[str, ...]  # relative paths of usage files that are not what their suffix says
    events_before_subscription: int  # unique events before the customer's first subscription starts (anchor)
    events_after_cancellation: int  # unique events at or after the customer's last subscription ended

    @property
    def rows_written(self) -> int:
        return sum(written.rows for written in self.usage_files)

    @property
    def malformed_counts(self) -> dict[str, int]:
        counts = Counter(row.kind for row in self.malformed)
        return {kind: counts[kind] for kind in MALFORMED_KINDS if counts[kind]}

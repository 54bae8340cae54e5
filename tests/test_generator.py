"""The generator's summary must match the files exactly: ingestion tests assert against it."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_billing.generator import MALFORMED_KINDS, generate_landing
from dagster_billing.generator.subscriptions import ANNIVERSARY_MONTHLY_PLANS, CADENCE_CHANGE_PLAN, STUB_DAYS
from dagster_billing.pricing import load_pricing_configs
from dagster_billing.settings import REPO_ROOT

START, END = date(2025, 1, 1), date(2026, 10, 1)


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    return generate_landing(
        tmp_path_factory.mktemp("landing"), customers=80, events=4000, seed=11, start=START, end=END
    )


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _csv_dicts(path: Path, name: str) -> list[dict]:
    with (path / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _flat_records(path: Path, file_format: str) -> list[dict]:
    """Every data row as a dict of the contract's fields (None for a line that is not a record)."""
    if file_format == "parquet":
        table = pq.read_table(path).to_pylist()
        return [
            {**row, "occurred_at": row["occurred_at"].replace(tzinfo=timezone.utc).isoformat()}
            for row in table
        ]
    if file_format == "csv":
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        return [
            dict(zip(rows[0], row, strict=True)) if len(row) == len(rows[0]) else None for row in rows[1:]
        ]
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            records.append(None)
            continue
        if file_format == "cloudevents":
            data = dict(record["data"])
            record = {
                "event_id": record["id"],
                "customer_id": record["subject"],
                "metric": record["type"],
                "quantity": data.pop("quantity", 1),
                "occurred_at": record["time"],
                "properties": data,
            }
        records.append(record)
    return records


def _payload(record: dict) -> tuple:
    properties = record.get("properties")
    if isinstance(properties, str):
        properties = json.loads(properties)
    return (
        record["customer_id"],
        record["metric"],
        Decimal(str(record["quantity"])),
        _utc(record["occurred_at"]),
        json.dumps(properties, sort_keys=True),
    )


def _valid_events(summary) -> list[tuple[str, str, tuple]]:
    """(relative_path, event_id, payload) of every row that is not malformed, in path and row order."""
    malformed = {(row.relative_path, row.row) for row in summary.malformed}
    events = []
    for written in summary.usage_files:
        records = _flat_records(summary.landing_dir / written.relative_path, written.file_format)
        for row, record in enumerate(records, start=1):
            if (written.relative_path, row) not in malformed:
                events.append((written.relative_path, record["event_id"], _payload(record)))
    return events


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    def files(folder, seed):
        generate_landing(folder, customers=40, events=1200, seed=seed)
        return {
            p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
        }

    first = files(tmp_path / "a", 3)
    assert first == files(tmp_path / "b", 3)
    assert first["customers.csv"] != files(tmp_path / "c", 4)["customers.csv"]


def test_rows_per_file_match_the_files(landing):
    for written in landing.usage_files:
        records = _flat_records(landing.landing_dir / written.relative_path, written.file_format)
        assert len(records) == written.rows, written.relative_path
        assert written.rows == (
            written.unique_events
            + written.retried_duplicates
            + written.conflicting_duplicates
            + written.malformed_rows
        )
    on_disk = {
        p.relative_to(landing.landing_dir).as_posix() for p in (landing.landing_dir / "usage").rglob("*.*")
    }
    assert on_disk == {w.relative_path for w in landing.usage_files} | set(landing.unreadable_files)
    assert {w.file_format for w in landing.usage_files} == {"parquet", "csv", "jsonl", "cloudevents"}


def test_duplicates_and_conflicts_are_counted_exactly(landing):
    first_payload, retried, conflicting = {}, 0, 0
    for relative_path, event_id, payload in _valid_events(landing):
        if event_id not in first_payload:
            first_payload[event_id] = (relative_path, payload)
            continue
        retried += first_payload[event_id][1] == payload
        conflicting += first_payload[event_id][1] != payload
    assert len(first_payload) == landing.unique_events == 4000
    assert (retried, conflicting) == (landing.retried_duplicates, landing.conflicting_duplicates)
    assert landing.conflicting_duplicates == 5
    assert 0.015 * 4000 <= landing.retried_duplicates <= 0.025 * 4000


def _has_fault(kind: str, record: dict | None) -> bool:
    if kind == "unparseable_row":
        return record is None
    value = {
        "missing_event_id": "event_id",
        "missing_customer_id": "customer_id",
        "missing_metric": "metric",
        "missing_timestamp": "occurred_at",
    }.get(kind)
    if value:
        return not record.get(value)
    if kind == "unknown_customer":
        return record["customer_id"].startswith("cus_") and int(record["customer_id"][4:]) > 80
    if kind == "future_timestamp":
        return _utc(record["occurred_at"]) > datetime(2030, 1, 1, tzinfo=timezone.utc)
    if kind == "invalid_timestamp":
        try:
            _utc(record["occurred_at"])
        except ValueError:
            return True
        return False
    try:
        quantity = Decimal(str(record["quantity"]))
    except InvalidOperation:
        return kind == "invalid_quantity"
    if kind == "non_finite_quantity":
        return not math.isfinite(float(quantity))
    return kind == "negative_quantity" and quantity < 0


def test_every_malformed_row_is_at_its_recorded_row(landing):
    assert set(landing.malformed_counts) == set(MALFORMED_KINDS)
    assert all(count >= 2 for count in landing.malformed_counts.values())
    formats = {w.relative_path: w.file_format for w in landing.usage_files}
    for row in landing.malformed:
        record = _flat_records(landing.landing_dir / row.relative_path, formats[row.relative_path])[
            row.row - 1
        ]
        assert _has_fault(row.kind, record), row
        assert row.line == row.row + (formats[row.relative_path] == "csv")
    for relative_path in landing.unreadable_files:
        with pytest.raises(pa.ArrowInvalid):
            pq.read_table(landing.landing_dir / relative_path)


def test_customers_cover_every_anchor_day_and_both_collection_methods(landing):
    customers = _csv_dicts(landing.landing_dir, "customers.csv")
    anchors = [date.fromisoformat(c["billing_anchor"]) for c in customers]
    assert {anchor.day for anchor in anchors} == set(range(1, 32))
    assert date(2024, 2, 29) in anchors and any(anchor > END for anchor in anchors)
    assert {c["collection_method"] for c in customers} == {"charge_automatically", "send_invoice"}
    assert all((c["days_until_due"] != "") == (c["collection_method"] == "send_invoice") for c in customers)
    assert {"USD", "EUR", "GBP", "JPY"} == {c["currency"] for c in customers}
    assert {"", "America/New_York", "Europe/Berlin", "Asia/Tokyo"} == {c["timezone"] for c in customers}


def test_one_customer_in_twenty_is_pinned_to_the_first_pricing_version(landing):
    customers = _csv_dicts(landing.landing_dir, "customers.csv")
    pins = Counter(c["pricing_version"] for c in customers)
    assert pins == {"": 76, "2025-01": 4}  # 80 customers
    known_versions = {config.version for config in load_pricing_configs(REPO_ROOT / "pricing_configs")}
    assert set(pins) - {""} <= known_versions


def _history(landing) -> dict[str, list[dict]]:
    by_customer = defaultdict(list)
    for row in _csv_dicts(landing.landing_dir, "subscriptions.csv"):
        by_customer[row["customer_id"]].append(row)
    return by_customer


def test_subscriptions_start_at_the_anchor_and_never_overlap(landing):
    customers = {c["customer_id"]: c for c in _csv_dicts(landing.landing_dir, "customers.csv")}
    history = _history(landing)
    assert landing.plan_changes > 0 and landing.cancellations > 0
    assert landing.cadence_changes > 0 and landing.prorated_stubs > 0 and landing.trials_as_own_period > 0
    for customer_id, rows in history.items():
        customer = customers[customer_id]
        zone = ZoneInfo(customer["timezone"]) if customer["timezone"] else timezone.utc
        anchor = datetime.combine(date.fromisoformat(customer["billing_anchor"]), time(), zone)
        # at the anchor, or STUB_DAYS before it with a prorated stub up to it
        stub = customer["before_anchor"] == "prorated_stub"
        assert _utc(rows[0]["started_at"]) == (anchor - timedelta(days=STUB_DAYS) if stub else anchor)
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert earlier["ended_at"] == later["started_at"]  # a plan change: the same instant
            # within the monthly plans, or to the yearly plan (a cadence change)
            assert earlier["plan_id"] in ANNIVERSARY_MONTHLY_PLANS
            assert later["plan_id"] in (*ANNIVERSARY_MONTHLY_PLANS, CADENCE_CHANGE_PLAN)
        assert all(row["ended_at"] for row in rows[:-1])


def test_unsubscribed_usage_is_counted_exactly(landing):
    coverage = {
        customer_id: (
            _utc(rows[0]["started_at"]),
            _utc(rows[-1]["ended_at"]) if rows[-1]["ended_at"] else None,
        )
        for customer_id, rows in _history(landing).items()
    }
    before = after = 0
    seen = set()
    for _, event_id, (customer_id, _, _, occurred_at, _) in _valid_events(landing):
        if event_id in seen:
            continue
        seen.add(event_id)
        since, until = coverage[customer_id]
        before += occurred_at < since
        after += until is not None and occurred_at >= until
    assert (before, after) == (landing.events_before_subscription, landing.events_after_cancellation)
    assert before > 0 and after > 0


def test_bulk_parquet_only_and_single_file(tmp_path):
    summary = generate_landing(
        tmp_path, customers=30, events=3000, formats=("parquet",), malformed=False, rows_per_file=5000
    )
    (written,) = summary.usage_files
    assert pq.read_metadata(tmp_path / written.relative_path).num_rows == written.rows
    assert written.conflicting_duplicates == 5 and written.retried_duplicates == 60
    assert summary.malformed == () and summary.unreadable_files == ()
    with pytest.raises(FileExistsError):
        generate_landing(tmp_path, customers=30, events=3000, formats=("parquet",), malformed=False)
    with pytest.raises(ValueError):
        generate_landing(tmp_path / "x", events=100, formats=("parquet",), malformed=True)

"""Rows ingestion must quarantine, appended to CSV and flat JSON Lines files, plus one file that is not what
its suffix says. Each malformed row has exactly one fault, so the expected rejection reason is unambiguous."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from dagster_billing.generator.summary import MALFORMED_KINDS, MalformedRow

CSV_FIELDS = ("event_id", "customer_id", "metric", "quantity", "occurred_at", "properties")
# Per kind, the faulty field values of the first and the second copy; None means the field is left out
# (an empty field in CSV).
_FAULTS = {
    "missing_event_id": ({"event_id": None}, {"event_id": ""}),
    "missing_customer_id": ({"customer_id": ""}, {"customer_id": None}),
    "missing_metric": ({"metric": ""}, {"metric": None}),
    "unknown_customer": ({"customer_id": "{unknown_1}"}, {"customer_id": "{unknown_2}"}),
    "invalid_quantity": ({"quantity": "abc"}, {"quantity": "ten"}),
    "negative_quantity": ({"quantity": "-5"}, {"quantity": -2.5}),
    "non_finite_quantity": ({"quantity": "NaN"}, {"quantity": "Infinity"}),
    "missing_timestamp": ({"occurred_at": ""}, {"occurred_at": None}),
    "invalid_timestamp": ({"occurred_at": "yesterday"}, {"occurred_at": "2025-13-45T10:00:00Z"}),
    "future_timestamp": (
        {"occurred_at": "2099-12-31T23:59:59Z"},
        {"occurred_at": "2035-06-01T12:00:00+02:00"},
    ),
}
# The text file is recognisable garbage, like an error page saved under the export's name.
UNREADABLE_PARQUET_BYTES = b'{"error": "upstream timeout", "status": 504}\n'


def _event_id(seed: int, kind: str, copy: int, line: int) -> str:
    # 16 hex digits: generated events have 12, so a malformed row never shares an id with one.
    digest = hashlib.sha256(f"{seed}/{kind}/{copy}/{line}".encode()).hexdigest()
    return f"evt_{digest[:16]}"


def _valid_fields(event_id: str, start: date) -> dict:
    occurred = datetime.combine(start, time(12)) + timedelta(days=40)
    return {
        "event_id": event_id,
        "customer_id": "cus_0001",
        "metric": "api_calls",
        "quantity": "3",
        "occurred_at": f"{occurred:%Y-%m-%dT%H:%M:%S}Z",
        "properties": '{"region":"eu-west-1"}',
    }


def _csv_line(fields: dict) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        ["" if fields.get(name) is None else fields[name] for name in CSV_FIELDS]
    )
    return buffer.getvalue()


def _jsonl_line(fields: dict) -> str:
    document = {name: value for name, value in fields.items() if value is not None}
    if "properties" in document:
        document["properties"] = json.loads(document["properties"])
    return json.dumps(document, separators=(",", ":")) + "\n"


def _unparseable_lines(file_format: str, fields: dict) -> list[str]:
    if file_format == "csv":
        unquoted = (
            ",".join(str(fields[name]) for name in CSV_FIELDS[:5]) + ',{"region":"eu-west-1","tier":"a"}\n'
        )
        truncated = f"{fields['event_id']},{fields['customer_id']},api_calls\n"
        return [unquoted, truncated]  # one field too many (an unquoted comma), three too few
    truncated = _jsonl_line(fields)[:40] + "\n"
    return [truncated, "<html><body>502 Bad Gateway</body></html>\n"]


def append_malformed_rows(
    path: Path,
    relative_path: str,
    file_format: str,
    rows_before: int,
    copy: int,
    seed: int,
    start: date,
    customers: int,
) -> list[MalformedRow]:
    """Appends one row of every kind (copy 0 or 1 picks the variant) and two unparseable lines to a CSV or
    flat JSON Lines file that already holds `rows_before` data rows."""
    render = _csv_line if file_format == "csv" else _jsonl_line
    header_lines = 1 if file_format == "csv" else 0
    written: list[MalformedRow] = []
    lines: list[str] = []
    unknown = {"{unknown_1}": f"cus_{customers + 1:04d}", "{unknown_2}": f"cus_{customers + 2:04d}"}
    for kind in MALFORMED_KINDS:
        row = rows_before + len(lines) + 1
        fields = _valid_fields(_event_id(seed, kind, copy, row), start)
        if kind == "unparseable_row":
            new_lines = _unparseable_lines(file_format, fields)
            event_ids = [None] * len(new_lines)
        else:
            fields.update({name: unknown.get(value, value) for name, value in _FAULTS[kind][copy].items()})
            new_lines, event_ids = [render(fields)], [fields["event_id"] or None]
        for offset, event_id in enumerate(event_ids):
            written.append(
                MalformedRow(kind, relative_path, row + offset, row + offset + header_lines, event_id)
            )
        lines += new_lines
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.writelines(lines)
    return written

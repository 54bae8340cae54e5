"""Tiny hand-built landing folders and a warehouse to ingest them into, for fast ingestion unit tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from dagster_billing.ingestion.usage_ingestion import UsageIngestionReport, ingest_usage_files

INGESTED_AT = datetime(2025, 6, 1, 12, 0, 0)
KNOWN_CUSTOMERS = ("cus_a", "cus_b")
CSV_HEADER = "event_id,customer_id,metric,quantity,occurred_at,properties"


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    return con


@dataclass
class Warehouse:
    """A DuckDB file with `raw.customers` plus a landing folder; `ingest()` runs the real ingestion."""

    con: duckdb.DuckDBPyConnection
    landing_dir: Path
    segments_dir: Path

    def write(self, relative_path: str, text: str) -> Path:
        path = self.landing_dir / "usage" / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def write_csv(self, relative_path: str, *lines: str, header: str = CSV_HEADER) -> Path:
        return self.write(relative_path, "\n".join([header, *lines]) + "\n")

    def write_jsonl(self, relative_path: str, *records: dict | str) -> Path:
        lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        return self.write(relative_path, "\n".join(lines) + "\n")

    def write_parquet(self, relative_path: str, select_sql: str) -> Path:
        """`select_sql` is a DuckDB query whose result becomes the file (its column types are kept)."""
        path = self.landing_dir / "usage" / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = duckdb.connect()
        scratch.execute("set TimeZone = 'UTC'")
        scratch.execute(f"copy ({select_sql}) to '{path}' (format parquet)")
        scratch.close()
        return path

    def ingest(self, **options) -> UsageIngestionReport:
        options.setdefault("ingested_at", INGESTED_AT)
        return ingest_usage_files(self.con, self.landing_dir, self.segments_dir, **options)

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list | None = None):
        return self.rows(sql, params)[0][0]

    def quarantine(self) -> list[tuple]:
        """(path, source_row, reason_code, reason) of every quarantined row or file, in file and row order."""
        return self.rows(
            "select path, source_row, reason_code, reason from raw.usage_quarantine "
            "order by file_id, source_row"
        )

    def events(self) -> list[tuple]:
        """(event_id, customer_id, metric, quantity, occurred_at, properties) of accepted events, by id."""
        return self.rows(
            "select event_id, customer_id, metric, quantity, occurred_at, properties from raw.usage_events "
            "order by event_id"
        )


def new_warehouse(tmp_path: Path, customers: tuple[str, ...] = KNOWN_CUSTOMERS) -> Warehouse:
    con = connect(tmp_path / "warehouse.duckdb")
    con.execute("create schema if not exists raw")
    con.execute("create table raw.customers (customer_id varchar primary key)")
    con.executemany("insert into raw.customers values (?)", [[c] for c in customers])
    (tmp_path / "landing" / "usage").mkdir(parents=True)
    return Warehouse(con, tmp_path / "landing", tmp_path / "segments")


def csv_event(
    event_id: str = "e1",
    customer_id: str = "cus_a",
    metric: str = "api_calls",
    quantity: str = "1",
    occurred_at: str = "2025-05-01T10:00:00Z",
    properties: str = "",
) -> str:
    return ",".join([event_id, customer_id, metric, quantity, occurred_at, properties])


def json_event(event_id: str = "e1", **fields) -> dict:
    event = {
        "event_id": event_id,
        "customer_id": "cus_a",
        "metric": "api_calls",
        "quantity": 1,
        "occurred_at": "2025-05-01T10:00:00Z",
    }
    event.update(fields)
    return event

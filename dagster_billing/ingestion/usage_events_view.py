"""The `raw.usage_events` view: every ingested segment row minus what was quarantined or deduplicated."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from dagster_billing.ingestion.segment_reads import SegmentRef, normalized_segments_sql


def ingested_segments(con: duckdb.DuckDBPyConnection, file_ids: list[int] | None = None) -> list[SegmentRef]:
    where = "segment_path is not null"
    if file_ids is not None:
        where += f" and file_id in ({', '.join(map(str, file_ids)) or 'null'})"
    rows = con.execute(
        f"select file_id, segment_path, segment_kind, segment_schema from raw.ingested_files where {where} "
        "order by file_id"
    ).fetchall()
    return [SegmentRef(file_id, Path(path), kind, json.loads(schema)) for file_id, path, kind, schema in rows]


def rebuild_usage_events_view(con: duckdb.DuckDBPyConnection) -> None:
    """Recreated after each ingestion: a view over a literal file list is how DuckDB reads Parquet fastest."""
    segments = normalized_segments_sql(ingested_segments(con))
    con.execute(
        f"""create or replace view raw.usage_events as
        with segment_rows as ({segments})
        select event_id, customer_id, metric, quantity, occurred_at, properties,
               file_id as source_file_id, source_row
        from segment_rows as s
        where not exists (
                select 1 from raw.usage_quarantine as q where q.file_id = s.file_id and q.source_row = s.source_row)
          and not exists (
                select 1 from raw.usage_duplicates as d where d.file_id = s.file_id and d.source_row = s.source_row)"""
    )

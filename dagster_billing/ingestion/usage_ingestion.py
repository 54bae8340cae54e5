"""Ingest new usage files exactly once: segment them, quarantine bad rows, drop retried duplicates.

Conservation holds per file by construction and is checked afterwards:
rows_read = rows_accepted + rows_duplicate + rows_quarantined.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from dagster_billing.ingestion.deduplication import find_suspect_rows, resolve_suspects
from dagster_billing.ingestion.event_normalization import rejection_reason_sql
from dagster_billing.ingestion.landing_files import LandingFile, discover_usage_files
from dagster_billing.ingestion.segment_reads import SegmentRef, normalized_segments_sql
from dagster_billing.ingestion.usage_events_view import rebuild_usage_events_view
from dagster_billing.ingestion.usage_segments import Segment, UnreadableFileError, build_segment
from dagster_billing.ingestion.warehouse_schema import ensure_raw_schema
from dagster_billing.warehouse_file import configure_session

DEFAULT_FUTURE_TOLERANCE_MINUTES = 60


@dataclass(frozen=True)
class FileOutcome:
    path: str
    file_id: int
    status: str  # ingested | unreadable
    rows_read: int
    rows_accepted: int
    rows_duplicate: int
    rows_quarantined: int
    error: str | None = None


@dataclass(frozen=True)
class ChangedFile:
    path: str
    ingested_sha256: str
    current_sha256: str


@dataclass
class UsageIngestionReport:
    files: list[FileOutcome] = field(default_factory=list)
    changed_files: list[ChangedFile] = field(default_factory=list)
    already_ingested: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)

    def total(self, attribute: str) -> int:
        return sum(getattr(outcome, attribute) for outcome in self.files)


def _timestamp_literal(moment: datetime) -> str:
    return f"timestamp '{moment.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def _remove_orphan_segments(con: duckdb.DuckDBPyConnection, segments_dir: Path) -> None:
    """Segments written by a run that crashed before committing are not in the manifest: delete them."""
    if not segments_dir.is_dir():
        return
    known = {row[0] for row in con.execute("select file_id from raw.ingested_files").fetchall()}
    for folder in segments_dir.glob("file_id=*"):
        if int(folder.name.split("=", 1)[1]) not in known:
            shutil.rmtree(folder, ignore_errors=True)


def _classify(con, discovered: list[LandingFile]) -> tuple[list[LandingFile], list[ChangedFile], int]:
    ingested = dict(con.execute("select path, sha256 from raw.ingested_files").fetchall())
    new, changed = [], []
    for landing_file in discovered:
        previous = ingested.get(landing_file.relative_path)
        if previous is None:
            new.append(landing_file)
        elif previous != landing_file.sha256:
            changed.append(ChangedFile(landing_file.relative_path, previous, landing_file.sha256))
    return new, changed, len(discovered) - len(new) - len(changed)


def _record_changed_files(con, changed: list[ChangedFile], detected_at: datetime) -> None:
    con.execute("delete from raw.landing_file_changes")
    for change in changed:
        con.execute(
            "insert into raw.landing_file_changes values (?, ?, ?, ?)",
            [change.path, change.ingested_sha256, change.current_sha256, detected_at],
        )


def _segment_refs(segments: list[Segment]) -> list[SegmentRef]:
    return [SegmentRef(s.file_id, s.path, s.kind, s.columns) for s in segments]


def _stage_batch(con, segments: list[Segment], ingested_at: str, tolerance: int) -> None:
    """One scan of the new segments into temp table `batch_rows`: integer keys for every row, the raw values
    only for rejected rows (few), so millions of accepted rows are never copied."""
    batch_sql = normalized_segments_sql(_segment_refs(segments))
    reason_code, reason = rejection_reason_sql("raw.customers", ingested_at, tolerance)
    con.execute(
        f"""create or replace temp table batch_rows as
        select file_id, source_row, hash(event_id) as event_id_hash, {reason_code} as reason_code
        from ({batch_sql})"""
    )
    (rejected,) = con.execute("select count(*) from batch_rows where reason_code is not null").fetchone()
    # The reasons' words and raw values are worked out for the (few) rejected rows only.
    rejected_sql = normalized_segments_sql(
        _segment_refs(segments),
        only_rows="select file_id, source_row from batch_rows where reason_code is not null",
    )
    con.execute(
        f"""create or replace temp table rejected_rows as
        select n.file_id, n.source_row, b.reason_code, {reason} as reason, n.event_id, n.customer_id, n.metric,
               n.quantity_raw, n.occurred_at_raw
        from ({rejected_sql}) as n
        join batch_rows as b on b.file_id = n.file_id and b.source_row = n.source_row"""
        if rejected
        else "create or replace temp table rejected_rows as select null::integer as file_id, null::bigint as source_row, "
        "null::varchar as reason_code, null::varchar as reason, null::varchar as event_id, null::varchar as customer_id, "
        "null::varchar as metric, null::varchar as quantity_raw, null::varchar as occurred_at_raw where false"
    )


def _quarantine_rows(con, segments: list[Segment], paths: dict[int, str], quarantined_at: datetime) -> None:
    con.execute(
        """insert into raw.usage_quarantine
        select b.file_id, f.path, b.source_row, b.reason_code, b.reason, b.event_id, b.customer_id, b.metric,
               b.quantity_raw, b.occurred_at_raw, null, $3
        from rejected_rows as b join (select unnest($1) as file_id, unnest($2) as path) as f using (file_id)""",
        [list(paths), list(paths.values()), quarantined_at],
    )
    read_rejections = pd.DataFrame.from_records(  # noqa: F841 (read by DuckDB by name)
        [
            (
                segment.file_id,
                paths[segment.file_id],
                row.source_row,
                row.reason_code,
                row.reason,
                row.raw_record,
            )
            for segment in segments
            for row in segment.rejected
        ],
        columns=["file_id", "path", "source_row", "reason_code", "reason", "raw_record"],
    )
    # One statement however many lines a broken file has.
    con.execute(
        """insert into raw.usage_quarantine
        select cast(file_id as integer), path, cast(source_row as bigint), reason_code, reason, null, null, null,
               null, null, raw_record, ?
        from read_rejections""",
        [quarantined_at],
    )
    con.execute(
        """insert into raw.usage_quarantine
        select d.file_id, f.path, d.source_row, 'duplicate_conflict',
            'event_id ''' || d.event_id || ''' was already received with a different payload (first copy: '
                || first.path || ' row ' || d.first_source_row || ')',
            d.event_id, null, null, null, null, null, ?
        from dedup_outcomes as d
        join raw.ingested_files as f on f.file_id = d.file_id
        join raw.ingested_files as first on first.file_id = d.first_file_id
        where d.outcome = 'conflict'""",
        [quarantined_at],
    )


def _record_duplicates(con, detected_at: datetime) -> None:
    con.execute(
        """insert into raw.usage_duplicates
        select d.file_id, f.path, d.source_row, d.event_id, d.first_file_id, d.first_source_row, ?
        from dedup_outcomes as d join raw.ingested_files as f on f.file_id = d.file_id
        where d.outcome = 'duplicate'""",
        [detected_at],
    )


def _record_valid_keys(con) -> None:
    """The id hash and location of every valid row, the duplicates and conflicts among them included: leaving
    those out cost an anti join over every row (0.1 s at 10M), and deduplication never re-decides earlier rows."""
    con.execute(
        """insert into raw.usage_event_keys
        select event_id_hash, file_id, source_row from batch_rows where reason_code is null"""
    )


def _update_counts(con, file_ids: list[int]) -> None:
    con.execute(
        """update raw.ingested_files as f set
            rows_duplicate = (select count(*) from raw.usage_duplicates as d where d.file_id = f.file_id),
            rows_quarantined = (select count(*) from raw.usage_quarantine as q
                                where q.file_id = f.file_id and q.source_row is not null),
            rows_accepted = f.rows_read
                - (select count(*) from raw.usage_duplicates as d where d.file_id = f.file_id)
                - (select count(*) from raw.usage_quarantine as q
                   where q.file_id = f.file_id and q.source_row is not null)
        where list_contains($1, f.file_id) and f.status = 'ingested'""",
        [file_ids],
    )


def _register(
    con,
    landing_file: LandingFile,
    file_id: int,
    segment: Segment | None,
    error: str | None,
    ingested_at: datetime,
    run_id: str | None,
) -> None:
    """Manifest row; counts start as "all accepted" and are corrected by `_update_counts` in the same
    transaction. An unreadable file has no rows (its single quarantine entry has no row number)."""
    rows_read = segment.rows_read if segment else 0
    con.execute(
        "insert into raw.ingested_files values (?, ?, 'usage', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?)",
        [
            file_id,
            landing_file.relative_path,
            landing_file.file_format,
            landing_file.size_bytes,
            landing_file.sha256,
            str(segment.path) if segment else None,
            segment.kind if segment else None,
            json.dumps(segment.columns) if segment else None,
            "ingested" if segment else "unreadable",
            rows_read,
            rows_read,
            error,
            ingested_at,
            run_id,
        ],
    )


def _build_segments(
    con: duckdb.DuckDBPyConnection, files: list[tuple[int, LandingFile]], segments_dir: Path
) -> tuple[list[tuple[LandingFile, Segment]], list[tuple[LandingFile, int, str]]]:
    """Each file's segment, built side by side on their own DuckDB cursors (copying and parsing files is mostly
    I/O and single-threaded work), in file id order."""

    def build(item: tuple[int, LandingFile]) -> tuple[LandingFile, int, Segment | str]:
        file_id, landing_file = item
        cursor = configure_session(con.cursor())
        try:
            return landing_file, file_id, build_segment(cursor, landing_file, file_id, segments_dir)
        except UnreadableFileError as error:
            return landing_file, file_id, str(error)
        finally:
            cursor.close()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        built = list(pool.map(build, files))
    segments = [(landing_file, outcome) for landing_file, _, outcome in built if isinstance(outcome, Segment)]
    unreadable = [
        (landing_file, file_id, outcome)
        for landing_file, file_id, outcome in built
        if isinstance(outcome, str)
    ]
    return segments, unreadable


def ingest_usage_files(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    segments_dir: Path,
    *,
    ingested_at: datetime,
    future_tolerance_minutes: int = DEFAULT_FUTURE_TOLERANCE_MINUTES,
    run_id: str | None = None,
) -> UsageIngestionReport:
    """Ingest every usage file not ingested before; `ingested_at` is a naive UTC datetime."""
    ensure_raw_schema(con)
    if not con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'customers'"
    ).fetchone()[0]:
        raise RuntimeError(
            "raw.customers is missing: load customers.csv before usage (unknown customers are checked)"
        )
    _remove_orphan_segments(con, segments_dir)
    ingested_at_sql = _timestamp_literal(ingested_at)
    new_files, changed, unchanged = _classify(con, discover_usage_files(landing_dir))
    report = UsageIngestionReport(changed_files=changed, already_ingested=unchanged)

    # Phase 1, outside the transaction (a DuckDB error aborts a transaction, and an unreadable file must not):
    # write each new file's segment. Segments of a run that dies before phase 2 commits are orphans, removed above.
    paths = {}
    for landing_file in new_files:
        (file_id,) = con.execute("select nextval('raw.ingested_file_ids')").fetchone()
        paths[file_id] = landing_file.relative_path
    segments, unreadable = _build_segments(con, list(zip(paths, new_files, strict=True)), segments_dir)

    # Phase 2, one transaction: the manifest, quarantine, duplicates and keys appear together or not at all.
    con.begin()
    try:
        _record_changed_files(con, changed, ingested_at)
        for landing_file, segment in segments:
            _register(con, landing_file, segment.file_id, segment, None, ingested_at, run_id)
        for landing_file, file_id, error in unreadable:
            _register(con, landing_file, file_id, None, error, ingested_at, run_id)
            con.execute(
                "insert into raw.usage_quarantine values (?, ?, null, 'unreadable_file', ?, null, null, null, "
                "null, null, null, ?)",
                [
                    file_id,
                    landing_file.relative_path,
                    f"the whole file was not ingested: {error}",
                    ingested_at,
                ],
            )
        segments = [segment for _, segment in segments]
        if segments:
            _stage_batch(con, segments, ingested_at_sql, future_tolerance_minutes)
            if find_suspect_rows(con):
                resolve_suspects(con, _segment_refs(segments))
            else:
                con.execute(
                    "create or replace temp table dedup_outcomes as select null::integer as file_id, "
                    "null::bigint as source_row, null::varchar as event_id, null::integer as first_file_id, "
                    "null::bigint as first_source_row, null::varchar as outcome where false"
                )
            _quarantine_rows(con, segments, paths, ingested_at)
            _record_duplicates(con, ingested_at)
            _record_valid_keys(con)
            _update_counts(con, [s.file_id for s in segments])
        rebuild_usage_events_view(con)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        for table in (
            "batch_rows",
            "rejected_rows",
            "suspect_hashes",
            "suspect_keys",
            "suspect_rows",
            "dedup_outcomes",
        ):
            con.execute(f"drop table if exists {table}")

    if paths:
        ids = list(paths)
        report.files = [
            FileOutcome(*row)
            for row in con.execute(
                "select path, file_id, status, rows_read, rows_accepted, rows_duplicate, rows_quarantined, error "
                "from raw.ingested_files where list_contains($1, file_id) order by file_id",
                [ids],
            ).fetchall()
        ]
        report.quarantined_by_reason = dict(
            Counter(
                dict(
                    con.execute(
                        "select reason_code, count(*) from raw.usage_quarantine where list_contains($1, file_id) "
                        "group by reason_code",
                        [ids],
                    ).fetchall()
                )
            )
        )
    return report

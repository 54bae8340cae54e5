"""Turning a landing file into a warehouse-owned, immutable Parquet segment.

Parquet files are copied byte for byte: rewriting millions of rows costs several times more than reading them,
and the copy keeps the warehouse independent of the landing folder. CSV and JSON files are parsed once with
DuckDB's readers into a text segment (every field as text, plus its source row), so that the same SQL
normalizes both kinds. Rows the format cannot parse never reach a segment; they come back as `UnparseableRow`s.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_billing.ingestion.event_normalization import REQUIRED_COLUMNS
from dagster_billing.ingestion.landing_files import LandingFile

TEXT_SEGMENT_COLUMNS = ("event_id", "customer_id", "metric", "quantity", "occurred_at", "properties")


class UnreadableFileError(Exception):
    """The whole file cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class UnparseableRow:
    source_row: int
    raw_record: str
    reason: str


@dataclass
class Segment:
    file_id: int
    path: Path
    kind: str  # "parquet": the landing file itself; "text": fields as text with a source_row column
    columns: dict[str, str]
    rows: int
    unparseable: list[UnparseableRow] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.rows + len(self.unparseable)


def segment_path(segments_dir: Path, file_id: int, landing_file: LandingFile) -> Path:
    # Hive-style folder: readers get `file_id` as a constant column per file for free.
    return segments_dir / f"file_id={file_id}" / f"{landing_file.sha256[:16]}.parquet"


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _check_required_columns(columns: dict[str, str], landing_file: LandingFile) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise UnreadableFileError(
            f"required column(s) {', '.join(missing)} missing from {landing_file.relative_path}"
        )


def build_segment(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, file_id: int, segments_dir: Path
) -> Segment:
    target = segment_path(segments_dir, file_id, landing_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    builders = {
        "parquet": _parquet_segment,
        "csv": _csv_segment,
        "jsonl": _jsonl_segment,
        "json": _json_segment,
    }
    try:
        return builders[landing_file.file_format](con, landing_file, file_id, target)
    except duckdb.Error as error:
        shutil.rmtree(target.parent, ignore_errors=True)
        first_line = str(error).splitlines()[0]
        raise UnreadableFileError(
            f"{landing_file.relative_path} could not be read as {landing_file.file_format.upper()}: {first_line}"
        ) from error
    except UnreadableFileError:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise


def _parquet_segment(con, landing_file: LandingFile, file_id: int, target: Path) -> Segment:
    source = _sql_string(landing_file.path)
    columns = {
        name.lower(): sql_type
        for name, sql_type, *_ in con.execute(f"describe select * from read_parquet({source})").fetchall()
    }
    _check_required_columns(columns, landing_file)
    (rows,) = con.execute(
        f"select coalesce(sum(num_rows), 0) from parquet_file_metadata({source})"
    ).fetchone()
    shutil.copyfile(landing_file.path, target)
    return Segment(file_id=file_id, path=target, kind="parquet", columns=columns, rows=int(rows))


def _write_text_segment(con, relation_sql: str, target: Path) -> int:
    columns = ", ".join(f"cast({name} as varchar) as {name}" for name in TEXT_SEGMENT_COLUMNS)
    con.execute(
        f"copy (select cast(source_row as bigint) as source_row, {columns} from ({relation_sql}) order by source_row) "
        f"to {_sql_string(target)} (format parquet)"
    )
    (rows,) = con.execute(f"select count(*) from read_parquet({_sql_string(target)})").fetchone()
    return int(rows)


def _text_segment(file_id: int, target: Path, rows: int, unparseable: list[UnparseableRow]) -> Segment:
    return Segment(
        file_id=file_id,
        path=target,
        kind="text",
        columns=dict.fromkeys(TEXT_SEGMENT_COLUMNS, "VARCHAR"),
        rows=rows,
        unparseable=unparseable,
    )


def _csv_header(landing_file: LandingFile) -> list[str]:
    with landing_file.path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        header = next(csv.reader(handle), [])
    if not header:
        raise UnreadableFileError(f"{landing_file.relative_path} is empty (no header row)")
    return [name.strip().lower() for name in header]


def _csv_segment(con, landing_file: LandingFile, file_id: int, target: Path) -> Segment:
    """CSV rows are numbered by their physical line (the header is line 1), as an editor shows them.

    The dialect is fixed (RFC 4180: comma, double quotes) and the columns come from the header, nothing is
    sniffed: a few malformed lines must not make the sniffer give up or pick another quoting."""
    source = _sql_string(landing_file.path)
    suffix = f"{file_id}_{landing_file.sha256[:8]}"
    rejects, scan = f"csv_rejects_{suffix}", f"csv_scan_{suffix}"
    header = _csv_header(landing_file)
    columns = dict.fromkeys(header, "VARCHAR")
    _check_required_columns(columns, landing_file)
    column_spec = "{" + ", ".join(f"{_sql_string(name)}: 'VARCHAR'" for name in header) + "}"
    con.execute(
        f"create or replace temp table csv_rows_{suffix} as select row_number() over () as data_row, * "
        f"from read_csv({source}, header = true, auto_detect = false, columns = {column_spec}, "
        f"delim = ',', quote = '\"', escape = '\"', "
        f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scan}')"
    )
    unparseable = [
        UnparseableRow(int(line), raw, f"line {int(line)} cannot be parsed as CSV: {message}")
        for line, raw, message in con.execute(
            f"select line, any_value(csv_line), string_agg(distinct error_message, '; ') "
            f"from {rejects} group by line order by line"
        ).fetchall()
    ]
    # Accepted rows come back in file order without line numbers: give the k-th one the k-th non-blank line
    # after the header that was not rejected. (A quoted field spanning lines breaks this pairing; then rows are
    # numbered by data row instead, which the count check below detects.)
    con.execute(
        f"""create or replace temp table csv_lines_{suffix} as
        select row_number() over (order by line_number) as data_row, line_number
        from (select string_split(content, chr(10)) as lines from read_text({source})),
             unnest(lines) with ordinality as t(line_text, line_number)
        where line_number > 1 and trim(line_text, chr(13) || ' ') <> ''
          and line_number not in (select line from {rejects})"""
    )
    line_count, row_count = con.execute(
        f"select (select count(*) from csv_lines_{suffix}), (select count(*) from csv_rows_{suffix})"
    ).fetchone()
    line_expr = "l.line_number" if line_count == row_count else "r.data_row"
    select_columns = ", ".join(
        f"r.{name}" if name in header else f"null as {name}" for name in TEXT_SEGMENT_COLUMNS
    )
    relation = (
        f"select {line_expr} as source_row, {select_columns} from csv_rows_{suffix} as r "
        f"left join csv_lines_{suffix} as l using (data_row)"
    )
    rows = _write_text_segment(con, relation, target)
    for table in (f"csv_rows_{suffix}", f"csv_lines_{suffix}", rejects, scan):
        con.execute(f"drop table if exists {table}")
    return _text_segment(file_id, target, rows, unparseable)


# A JSON object is either a flat event (the contract's fields) or a CloudEvents 1.0 envelope, told apart by
# `specversion`. CloudEvents: id -> event_id, subject -> customer_id, type -> metric, time -> occurred_at,
# data.quantity -> quantity, the rest of data -> properties.
_JSON_EVENT_FIELDS = """
    case when doc->>'specversion' is not null then doc->>'id' else doc->>'event_id' end as event_id,
    case when doc->>'specversion' is not null then doc->>'subject' else doc->>'customer_id' end as customer_id,
    case when doc->>'specversion' is not null then doc->>'type' else doc->>'metric' end as metric,
    case when doc->>'specversion' is not null then doc->'data'->>'quantity' else doc->>'quantity' end as quantity,
    case when doc->>'specversion' is not null then doc->>'time' else doc->>'occurred_at' end as occurred_at,
    case when doc->>'specversion' is null and json_type(doc->'properties') <> 'NULL'
         then cast(doc->'properties' as varchar)
         when json_type(doc->'data') = 'OBJECT'
         then cast(json_merge_patch(doc->'data', '{"quantity": null}') as varchar) end as properties
"""


def _json_documents_segment(
    con, documents_sql: str, file_id: int, target: Path, row_noun: str = "line"
) -> Segment:
    """`documents_sql` yields (source_row, text); objects become rows, anything else is unparseable."""
    con.execute(f"create or replace temp table json_docs as {documents_sql}")
    unparseable = [
        UnparseableRow(int(row), raw[:1000], reason)
        for row, raw, reason in con.execute(
            f"""select source_row, text,
                 case when not json_valid(text) then '{row_noun} ' || source_row || ' is not valid JSON'
                      else '{row_noun} ' || source_row || ' is a JSON ' || case json_type(text)
                          when 'ARRAY' then 'array' when 'VARCHAR' then 'string' when 'BOOLEAN' then 'boolean'
                          when 'NULL' then 'null' else 'number' end || ', not an object' end
               from json_docs
               where not json_valid(text) or json_type(text) <> 'OBJECT'
               order by source_row"""
        ).fetchall()
    ]
    relation = (
        f"select source_row, {_JSON_EVENT_FIELDS} from (select source_row, cast(text as json) as doc from json_docs "
        "where json_valid(text) and json_type(text) = 'OBJECT')"
    )
    rows = _write_text_segment(con, relation, target)
    con.execute("drop table json_docs")
    return _text_segment(file_id, target, rows, unparseable)


def _jsonl_segment(con, landing_file: LandingFile, file_id: int, target: Path) -> Segment:
    """One event per line, numbered by physical line; blank lines are not rows."""
    documents = f"""
        select line_number as source_row, trim(line_text, chr(13) || ' ') as text
        from (select string_split(content, chr(10)) as lines from read_text({_sql_string(landing_file.path)})),
             unnest(lines) with ordinality as t(line_text, line_number)
        where trim(line_text, chr(13) || ' ') <> ''"""
    return _json_documents_segment(con, documents, file_id, target)


def _json_segment(con, landing_file: LandingFile, file_id: int, target: Path) -> Segment:
    """A `.json` file holds one event object, or an array of them (a CloudEvents batch); row = 1-based position."""
    source = _sql_string(landing_file.path)
    (content,) = con.execute(f"select content from read_text({source})").fetchone()
    valid, kind = con.execute("select json_valid($1), json_type($1)", [content]).fetchone()
    if not valid:
        raise UnreadableFileError(f"{landing_file.relative_path} is not valid JSON")
    if kind == "ARRAY":
        documents = f"""
            select element_number as source_row, coalesce(cast(element as varchar), 'null') as text
            from (select cast(content as json) as doc from read_text({source})),
                 unnest(cast(doc as json[])) with ordinality as t(element, element_number)"""
        # A JSON null element unnests as SQL NULL: kept as the text 'null' so it is quarantined, not lost.
        return _json_documents_segment(con, documents, file_id, target, row_noun="array element")
    documents = f"select 1 as source_row, content as text from read_text({source})"
    return _json_documents_segment(con, documents, file_id, target)

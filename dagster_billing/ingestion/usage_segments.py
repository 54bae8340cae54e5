"""Turning a landing file into a warehouse-owned, immutable Parquet segment.

Parquet files are copied byte for byte: rewriting millions of rows costs several times more than reading them,
and the copy keeps the warehouse independent of the landing folder. CSV and JSON files are parsed once with
DuckDB's readers into a text segment (every field as text, plus its source row), so that the same SQL
normalizes both kinds. Rows the reader rejects (not parseable in their format, a JSON key twice, CloudEvents
`data` that is not an object) never reach a segment; they come back as `RejectedRow`s with their reason.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import numpy as np

from dagster_billing.ingestion.event_normalization import REQUIRED_COLUMNS
from dagster_billing.ingestion.landing_files import LandingFile
from dagster_billing.sql_literals import sql_string_literal

TEXT_SEGMENT_COLUMNS = ("event_id", "customer_id", "metric", "quantity", "occurred_at", "properties")
# The longest line of a CSV or JSON Lines file, and the largest element of a JSON array, in bytes (1 MiB):
# an event is a few hundred bytes, so a longer record is a broken file (a missing newline), quarantined alone.
MAX_RECORD_BYTES = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"


class UnreadableFileError(Exception):
    """The whole file cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class RejectedRow:
    """A row decided while reading, before the event checks: quarantined with this code and reason."""

    source_row: int
    raw_record: str
    reason: str
    reason_code: str = "unparseable_row"


@dataclass
class Segment:
    file_id: int
    path: Path
    kind: str  # "parquet": the landing file itself; "text": fields as text with a source_row column
    columns: dict[str, str]
    rows: int
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.rows + len(self.rejected)


def segment_path(segments_dir: Path, file_id: int, landing_file: LandingFile) -> Path:
    # Hive-style folder: readers get `file_id` as a constant column per file for free.
    return segments_dir / f"file_id={file_id}" / f"{landing_file.sha256[:16]}.parquet"


def _check_required_columns(columns: dict[str, str], landing_file: LandingFile) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise UnreadableFileError(
            f"required column(s) {', '.join(missing)} missing from {landing_file.relative_path}"
        )


def build_segment(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, file_id: int, segments_dir: Path
) -> Segment:
    if landing_file.refused:
        raise UnreadableFileError(landing_file.refused)
    target = segment_path(segments_dir, file_id, landing_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    builders = {
        "parquet": _parquet_segment,
        "csv": _csv_segment,
        "jsonl": _jsonl_segment,
        "json": _json_segment,
    }
    try:
        screened, rejected_lines = _screen_text(landing_file, target)
        segment = builders[landing_file.file_format](con, screened, file_id, target)
    except duckdb.Error as error:
        shutil.rmtree(target.parent, ignore_errors=True)
        first_line = str(error).splitlines()[0]
        raise UnreadableFileError(
            f"{landing_file.relative_path} could not be read as {landing_file.file_format.upper()}: {first_line}"
        ) from error
    except UnreadableFileError:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    if screened.path != landing_file.path:
        screened.path.unlink()
    segment.rejected = sorted(rejected_lines + segment.rejected, key=lambda row: row.source_row)
    return segment


def _screen_text(landing_file: LandingFile, target: Path) -> tuple[LandingFile, list[RejectedRow]]:
    """The file to parse, and the lines rejected before parsing: a line that is not UTF-8 or is longer than
    `MAX_RECORD_BYTES` is quarantined alone (DuckDB's text reader refuses a whole file for one bad byte).

    A file whose lines are all good is parsed where it is. Otherwise a copy with each bad line left blank (so
    every other line keeps its number, and a blank line is no row) is parsed instead. A `.json` file is one
    document: one bad byte makes it unreadable as a whole."""
    if landing_file.file_format == "parquet":
        return landing_file, []
    # A JSON array may well be one long line; its elements' sizes are checked once parsed.
    bad_line = _first_bad_line(landing_file.path, check_length=landing_file.file_format != "json")
    if bad_line is None:
        return landing_file, []
    if landing_file.file_format == "json":
        raise UnreadableFileError(
            f"{landing_file.relative_path} is not valid UTF-8 (line {bad_line}): a JSON file is one document, so "
            "none of it is read; send JSON Lines to have a bad line quarantined alone"
        )
    copy = target.with_name(target.stem + ".screened")
    rejected = _blank_bad_lines(landing_file.path, copy)
    if landing_file.file_format == "csv" and rejected and rejected[0].source_row == 1:
        copy.unlink()
        raise UnreadableFileError(
            f"{landing_file.relative_path}: the header row (line 1) is unreadable: "
            + rejected[0].reason.removeprefix("line 1 ")
        )
    return replace(landing_file, path=copy), rejected


def _first_bad_line(path: Path, check_length: bool) -> int | None:
    """None if every line is UTF-8 and (`check_length`) at most `MAX_RECORD_BYTES` long, else the number of a
    line that is not (the first one). Checked a chunk at a time by C code (the UTF-8 decoder, NumPy's search for
    newlines): no Python loop over lines for a good file."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line_length, newlines_before = 0, 0  # bytes of the current line so far; lines ended in earlier chunks
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return newlines_before + int(np.searchsorted(newlines, error.start)) + 1
            if check_length:
                # Lengths of the lines ending in this chunk, the first one's start carried over from the last.
                lengths = np.diff(newlines, prepend=-1 - line_length) - 1
                too_long = np.flatnonzero(lengths > MAX_RECORD_BYTES)
                line_length = (
                    len(chunk) - int(newlines[-1]) - 1 if newlines.size else line_length + len(chunk)
                )
                if too_long.size:
                    return newlines_before + int(too_long[0]) + 1
                if line_length > MAX_RECORD_BYTES:
                    return newlines_before + newlines.size + 1
            newlines_before += newlines.size
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return newlines_before + 1
    return None


def _blank_bad_lines(source: Path, copy: Path) -> list[RejectedRow]:
    """Copy `source` to `copy` with every line that is not UTF-8 or is too long left blank; those lines come
    back as rejected rows (only broken files pay for this line-by-line pass)."""
    rejected = []
    with source.open("rb") as reader, copy.open("wb") as writer:
        for number in itertools.count(1):
            line = reader.readline(MAX_RECORD_BYTES + 2)
            if not line:
                break
            content = line.removesuffix(b"\n")
            if len(content) > MAX_RECORD_BYTES:
                while not line.endswith(b"\n") and (line := reader.readline(8 << 20)):
                    pass
                reason = f"line {number} is longer than the maximum {MAX_RECORD_BYTES} bytes"
            else:
                try:
                    content.decode("utf-8")
                except UnicodeDecodeError:
                    reason = f"line {number} is not valid UTF-8"
                else:
                    writer.write(line)
                    continue
            raw = content[:1000].decode("utf-8", errors="backslashreplace")
            rejected.append(RejectedRow(number, raw, reason))
            writer.write(b"\n")
    return rejected


def _parquet_segment(con, landing_file: LandingFile, file_id: int, target: Path) -> Segment:
    source = sql_string_literal(landing_file.path)
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
        f"to {sql_string_literal(target)} (format parquet)"
    )
    (rows,) = con.execute(f"select count(*) from read_parquet({sql_string_literal(target)})").fetchone()
    return int(rows)


def _text_segment(file_id: int, target: Path, rows: int, rejected: list[RejectedRow]) -> Segment:
    return Segment(
        file_id=file_id,
        path=target,
        kind="text",
        columns=dict.fromkeys(TEXT_SEGMENT_COLUMNS, "VARCHAR"),
        rows=rows,
        rejected=rejected,
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
    source = sql_string_literal(landing_file.path)
    suffix = f"{file_id}_{landing_file.sha256[:8]}"
    rejects, scan = f"csv_rejects_{suffix}", f"csv_scan_{suffix}"
    header = _csv_header(landing_file)
    columns = dict.fromkeys(header, "VARCHAR")
    _check_required_columns(columns, landing_file)
    column_spec = "{" + ", ".join(f"{sql_string_literal(name)}: 'VARCHAR'" for name in header) + "}"
    con.execute(
        f"create or replace temp table csv_rows_{suffix} as select row_number() over () as data_row, * "
        f"from read_csv({source}, header = true, auto_detect = false, columns = {column_spec}, "
        f"delim = ',', quote = '\"', escape = '\"', "
        f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scan}')"
    )
    unparseable = [
        RejectedRow(int(line), raw, f"line {int(line)} cannot be parsed as CSV: {message}")
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
_IS_CLOUDEVENT = "(doc->>'specversion' is not null)"


def _json_number_text_sql(path: str, transform_spec: str, field_path: str) -> str:
    """The text of the JSON value at `path`, with a number's digits as written.

    `->>` gives a JSON number's own text only for integers; a number with a fraction or an exponent was parsed as
    a double (`12345678901234567.123456789012` came back as `12345678901234568.0`). `json_transform` to a
    DECIMAL reads the digits as written, so such a number is taken from there (trailing zeros dropped); a number
    beyond DECIMAL(38, 12) keeps `->>`'s text, which the quantity checks then find above the maximum."""
    exact = f"cast(json_transform(doc, '{transform_spec}').{field_path} as varchar)"
    return (
        f"case when json_type(doc, '{path}') = 'DOUBLE' "
        f"then coalesce(rtrim(rtrim({exact}, '0'), '.'), doc->>'{path}') else doc->>'{path}' end"
    )


_CLOUDEVENT_QUANTITY = _json_number_text_sql(
    "$.data.quantity", '{"data": {"quantity": "DECIMAL(38, 12)"}}', "data.quantity"
)
_FLAT_QUANTITY = _json_number_text_sql("$.quantity", '{"quantity": "DECIMAL(38, 12)"}', "quantity")
_QUANTITY_TEXT = f"case when {_IS_CLOUDEVENT} then {_CLOUDEVENT_QUANTITY} else {_FLAT_QUANTITY} end"

_JSON_EVENT_FIELDS = f"""
    case when {_IS_CLOUDEVENT} then doc->>'id' else doc->>'event_id' end as event_id,
    case when {_IS_CLOUDEVENT} then doc->>'subject' else doc->>'customer_id' end as customer_id,
    case when {_IS_CLOUDEVENT} then doc->>'type' else doc->>'metric' end as metric,
    {_QUANTITY_TEXT} as quantity,
    case when {_IS_CLOUDEVENT} then doc->>'time' else doc->>'occurred_at' end as occurred_at,
    case when not {_IS_CLOUDEVENT} and json_type(doc->'properties') <> 'NULL'
         then cast(doc->'properties' as varchar)
         when json_type(doc->'data') = 'OBJECT'
         then cast(json_merge_patch(doc->'data', '{{"quantity": null}}') as varchar) end as properties
"""


def _json_kind_words(json_type: str) -> str:
    """SQL for `a JSON string` (etc.) from a `json_type` value."""
    return (
        f"'a JSON ' || case {json_type} when 'OBJECT' then 'object' when 'ARRAY' then 'array' "
        "when 'VARCHAR' then 'string' when 'BOOLEAN' then 'boolean' when 'NULL' then 'null' else 'number' end"
    )


def _repeated_key(keys: str) -> str:
    """SQL: the first key of the list `keys` that already occurred in it (an object with a key twice), or null."""
    return f"list_filter({keys}, lambda key, i: list_position({keys}, key) < i)[1]"


def _document_checks_sql(row_label: str) -> list[tuple[str, str, str]]:
    """(reason_code, condition, reason) of a JSON document `text` (`doc`: the same, parsed once it is an
    object), checked in this order.

    Decided while reading, because they are about the JSON itself: a key sent twice is read as one of its values
    by every JSON reader (DuckDB keeps the first), and CloudEvents `data` that is not an object has no quantity
    to read, so billing it as 1 would be a guess."""
    data_kind = _json_kind_words("json_type(doc->'data')")
    checks = [
        (
            "unparseable_row",
            f"strlen(text) > {MAX_RECORD_BYTES}",
            f"{row_label} || ' is longer than the maximum {MAX_RECORD_BYTES} bytes'",
        ),
        ("unparseable_row", "not json_valid(text)", f"{row_label} || ' is not valid JSON'"),
        (
            "unparseable_row",
            "json_type(text) <> 'OBJECT'",
            f"{row_label} || ' is ' || {_json_kind_words('json_type(text)')} || ', not an object'",
        ),
        (
            "duplicate_json_key",
            f"{_repeated_key('json_keys(doc)')} is not null",
            f"{row_label} || ' has the key ''' || {_repeated_key('json_keys(doc)')} || ''' more than once'",
        ),
        (
            "invalid_cloudevent_data",
            f"{_IS_CLOUDEVENT} and json_type(doc->'data') not in ('OBJECT', 'NULL')",
            f"{row_label} || ': data is ' || {data_kind} || ', not an object'",
        ),
    ]
    for member, applies in (("data", _IS_CLOUDEVENT), ("properties", f"not {_IS_CLOUDEVENT}")):
        repeated = _repeated_key(f"json_keys(doc->'{member}')")
        checks.append(
            (
                "duplicate_json_key",
                f"{applies} and {repeated} is not null",
                f"{row_label} || ': {member} has the key ''' || {repeated} || ''' more than once'",
            )
        )
    return checks


def _json_documents_segment(
    con, documents_sql: str, file_id: int, target: Path, row_noun: str = "line"
) -> Segment:
    """`documents_sql` yields (source_row, text); objects that pass `_document_checks` become rows, the others
    come back rejected with their reason."""
    checks = _document_checks_sql(f"'{row_noun} ' || source_row")
    code = "case " + " ".join(f"when {cond} then '{name}'" for name, cond, _ in checks) + " end"
    reason = "case " + " ".join(f"when {cond} then {words}" for _, cond, words in checks) + " end"
    # `doc` exists only for objects; the checks before the ones that read it keep the CASE away from the others.
    parsed = (
        "select *, case when json_valid(text) and json_type(text) = 'OBJECT' then cast(text as json) end as doc "
        "from {}"
    )
    con.execute(
        f"create or replace temp table json_docs as select source_row, text, {code} as reason_code "
        f"from ({parsed.format('(' + documents_sql + ')')})"
    )
    rejected = [
        RejectedRow(int(row), raw[:1000], words, reason_code)
        for row, raw, words, reason_code in con.execute(
            f"select source_row, text, {reason}, reason_code "
            f"from ({parsed.format('json_docs')}) where reason_code is not null order by source_row"
        ).fetchall()
    ]
    relation = (
        f"select source_row, {_JSON_EVENT_FIELDS} from (select source_row, cast(text as json) as doc from json_docs "
        "where reason_code is null)"
    )
    rows = _write_text_segment(con, relation, target)
    con.execute("drop table json_docs")
    return _text_segment(file_id, target, rows, rejected)


def _jsonl_segment(con, landing_file: LandingFile, file_id: int, target: Path) -> Segment:
    """One event per line, numbered by physical line; blank lines are not rows."""
    documents = f"""
        select line_number as source_row, text
        from (select string_split(content, chr(10)) as lines from read_text({sql_string_literal(landing_file.path)})),
             unnest(lines) with ordinality as t(line_text, line_number),
             -- a byte-order mark (U+FEFF) may open the file: it is not part of line 1's JSON
             (select trim(case when line_number = 1 then ltrim(line_text, chr(65279)) else line_text end,
                          chr(13) || ' ') as text)
        where text <> ''"""
    return _json_documents_segment(con, documents, file_id, target)


def _starts_with_array(path: Path) -> bool:
    with path.open("rb") as handle:
        start = handle.read(4096).removeprefix(UTF8_BOM).lstrip()
    return start.startswith(b"[")


def _json_segment(con, landing_file: LandingFile, file_id: int, target: Path) -> Segment:
    """A `.json` file holds one event object, or an array of them (a CloudEvents batch); row = 1-based position.

    Array elements are read as the text they were written with (`read_json_objects`), so numbers keep their
    digits and a key written twice is still seen twice. A file that is not one valid JSON document (invalid
    UTF-8 included) is unreadable as a whole: where one element ends and the next begins cannot be trusted."""
    source = sql_string_literal(landing_file.path)
    if _starts_with_array(landing_file.path):
        # An element over the maximum record size is still read (up to the file's size) and then quarantined.
        documents = f"""
            select row_number() over () as source_row, json as text
            from read_json_objects({source}, format = 'array',
                                   maximum_object_size = {int(max(landing_file.size_bytes, MAX_RECORD_BYTES) + 1)})"""
        return _json_documents_segment(con, documents, file_id, target, row_noun="array element")
    (valid,) = con.execute(
        f"select json_valid(ltrim(content, chr(65279))) from read_text({source})"
    ).fetchone()
    if not valid:
        raise UnreadableFileError(f"{landing_file.relative_path} is not valid JSON")
    documents = f"select 1 as source_row, ltrim(content, chr(65279)) as text from read_text({source})"
    return _json_documents_segment(con, documents, file_id, target)

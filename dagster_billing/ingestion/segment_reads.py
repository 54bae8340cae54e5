"""SQL reading a set of segments as normalized events, grouped by schema so each group is one Parquet scan."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from dagster_billing.ingestion.event_normalization import (
    QUANTITY_TYPE,
    accepted_columns_sql,
    normalized_columns_sql,
)
from dagster_billing.sql_literals import sql_string_literal


@dataclass(frozen=True)
class SegmentRef:
    file_id: int
    path: Path
    kind: str
    columns: dict[str, str]


def _scan(
    kind: str, columns: dict[str, str], paths: list[Path], accepted: bool, only_rows: str | None
) -> str:
    files = ", ".join(sql_string_literal(path) for path in paths)
    source_row = "cast(r.source_row as bigint)" if kind == "text" else "cast(r.file_row_number + 1 as bigint)"
    select_list = accepted_columns_sql(columns) if accepted else normalized_columns_sql(columns)
    # Rows are filtered before the select list is computed, so only the kept rows pay for normalizing.
    keep = (
        f"semi join ({only_rows}) as keep on keep.file_id = cast(r.file_id as integer) "
        f"and keep.source_row = {source_row}"
        if only_rows
        else ""
    )
    return (
        f"select cast(file_id as integer) as file_id, {source_row} as source_row, {select_list} "
        f"from read_parquet([{files}], hive_partitioning = true, file_row_number = true) as r {keep}"
    )


def _empty_sql(accepted: bool) -> str:
    columns = (
        "cast(null as integer) as file_id, cast(null as bigint) as source_row, "
        "cast(null as varchar) as event_id, cast(null as varchar) as customer_id, cast(null as varchar) as metric, "
        f"cast(null as {QUANTITY_TYPE}) as quantity, cast(null as timestamp) as occurred_at, "
        "cast(null as varchar) as properties"
    )
    if not accepted:
        columns += (
            ", cast(null as varchar) as quantity_raw, cast(null as varchar) as occurred_at_raw, "
            "false as occurred_at_is_missing, false as occurred_at_is_epoch_text, false as quantity_is_non_finite, "
            "cast(null as double) as quantity_approximate, false as properties_are_invalid"
        )
    return f"select {columns} where false"


def normalized_segments_sql(
    segments: list[SegmentRef], *, accepted: bool = False, only_rows: str | None = None
) -> str:
    """One relation of all rows of `segments` with the normalized columns (see event_normalization).

    `accepted`: only the value columns, without validity flags (for rows that passed ingestion).
    `only_rows`: a relation with (file_id, source_row); only those rows are read."""
    if not segments:
        return _empty_sql(accepted)
    groups: dict[tuple, list[SegmentRef]] = defaultdict(list)
    for segment in segments:
        groups[(segment.kind, json.dumps(segment.columns, sort_keys=True))].append(segment)
    scans = [
        _scan(kind, json.loads(columns), [s.path for s in group], accepted, only_rows)
        for (kind, columns), group in groups.items()
    ]
    return "\nunion all\n".join(scans)

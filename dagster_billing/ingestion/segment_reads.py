"""SQL reading a set of segments as normalized events, grouped by schema so each group is one Parquet scan."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from dagster_billing.ingestion.event_normalization import QUANTITY_TYPE, normalized_columns_sql


@dataclass(frozen=True)
class SegmentRef:
    file_id: int
    path: Path
    kind: str
    columns: dict[str, str]


def _scan(kind: str, columns: dict[str, str], paths: list[Path]) -> str:
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    source_row = "source_row" if kind == "text" else "file_row_number + 1"
    return (
        f"select cast(file_id as integer) as file_id, cast({source_row} as bigint) as source_row, "
        f"{normalized_columns_sql(columns)} "
        f"from read_parquet([{files}], hive_partitioning = true, file_row_number = true)"
    )


def normalized_segments_sql(segments: list[SegmentRef]) -> str:
    """One relation of all rows of `segments` with the normalized columns (see event_normalization)."""
    if not segments:
        return (
            "select cast(null as integer) as file_id, cast(null as bigint) as source_row, "
            "cast(null as varchar) as event_id, cast(null as varchar) as customer_id, cast(null as varchar) as metric, "
            f"cast(null as {QUANTITY_TYPE}) as quantity, cast(null as timestamp) as occurred_at, "
            "cast(null as varchar) as properties, cast(null as varchar) as quantity_raw, "
            "cast(null as varchar) as occurred_at_raw, false as occurred_at_is_missing, false as quantity_is_non_finite, "
            "false as properties_are_invalid where false"
        )
    groups: dict[tuple, list[SegmentRef]] = defaultdict(list)
    for segment in segments:
        groups[(segment.kind, json.dumps(segment.columns, sort_keys=True))].append(segment)
    scans = [
        _scan(kind, json.loads(columns), [s.path for s in group]) for (kind, columns), group in groups.items()
    ]
    return "\nunion all\n".join(scans)

"""Writing one planned usage file in its format with a single DuckDB `COPY`: one code path per format, from a
demo-sized CSV to a multi-million-row Parquet file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_billing.generator.event_sql import occurred_at_text_sql, quantity_text_sql
from dagster_billing.sql_literals import sql_string_literal

CLOUDEVENTS_SOURCE = "https://usage-gateway.example.com"

# Select lists over the generated events, per format, in the contract's field names.
_FLAT_FIELDS = "event_id, customer_id, metric"
_SELECTS = {
    # DECIMAL(18,6) quantity and a UTC TIMESTAMP in every Parquet file; properties as JSON text.
    "parquet": f"{_FLAT_FIELDS}, quantity, occurred_at, cast(properties as varchar) as properties",
    "csv": f"{_FLAT_FIELDS}, {quantity_text_sql()} as quantity, {occurred_at_text_sql()} as occurred_at, "
    "cast(properties as varchar) as properties",
    # A JSON number; doubles print the shortest text that round-trips, so 12.5 stays 12.5.
    "jsonl": f"{_FLAT_FIELDS}, cast(quantity as double) as quantity, "
    f"{occurred_at_text_sql()} as occurred_at, properties",
    # `data.quantity` is left out when it is 1 (the contract's default), as many SDKs do for counters.
    "cloudevents": "'1.0' as specversion, event_id as id, "
    f"'{CLOUDEVENTS_SOURCE}/' || json_extract_string(properties, '$.region') as source, "
    "metric as type, customer_id as subject, "
    f"{occurred_at_text_sql()} as time, 'application/json' as datacontenttype, "
    "case when quantity = 1 then properties "
    "else json_merge_patch(properties, json_object('quantity', cast(quantity as double))) end as data",
}
_COPY_OPTIONS = {
    "parquet": "format parquet, compression snappy",
    "csv": "format csv, header true",
    "jsonl": "format json",
    "cloudevents": "format json",
}


def write_usage_file(con: duckdb.DuckDBPyConnection, events_sql: str, file_format: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy (select {_SELECTS[file_format]} from ({events_sql})) to {sql_string_literal(target)} "
        f"({_COPY_OPTIONS[file_format]})"
    )

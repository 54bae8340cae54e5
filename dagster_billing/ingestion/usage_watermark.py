"""How far the incremental usage models have folded the landing files in (see int_usage_aggregates_accumulated)."""

import duckdb

ACCUMULATED_USAGE_TABLE = ("intermediate", "int_usage_aggregates_accumulated")


def usage_folded_through_file_id(con: duckdb.DuckDBPyConnection) -> int:
    """The newest landing file whose events the stored usage aggregates hold; -1 before the first build."""
    schema, table = ACCUMULATED_USAGE_TABLE
    (exists,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    if not exists:
        return -1
    (folded,) = con.execute(
        "select coalesce(max(max_source_file_id), -1) from intermediate.int_usage_aggregates_accumulated"
    ).fetchone()
    return int(folded)

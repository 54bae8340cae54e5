"""Creating the warehouse file in a storage format that the DuckDB CLI and BI tools can open.

The engine (duckdb 2.x) is much faster for ingestion than 1.5, but the DuckDB CLI on PyPI and most BI tools embed
1.4/1.5, which cannot open a file in 2.x's storage format. A file created with an older storage compatibility
version keeps that format when later opened by 2.x, so the warehouse is created here, before anything else opens it.
"""

from pathlib import Path

import duckdb

from dagster_billing.settings import duckdb_memory_limit

STORAGE_COMPATIBILITY_VERSION = "v1.4.0"


def ensure_warehouse_file(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}).close()


def configure_session(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Settings every warehouse connection needs (dbt sets the same in profiles.yml).

    UTC: naive TIMESTAMP columns hold UTC, and offset-less strings cast to TIMESTAMPTZ must read as UTC. (This
    cannot go in the connect-time config: DuckDB applies that before ICU, which owns time zones, is loaded.)
    Memory limit: bounded, spilling to disk beyond it, instead of DuckDB's default of 80% of the machine.
    """
    con.execute("set TimeZone = 'UTC'")
    con.execute("set memory_limit = ?", [duckdb_memory_limit()])
    return con

"""Creating the warehouse file in a storage format that the DuckDB CLI and BI tools can open.

The engine (duckdb 2.x) is much faster for ingestion than 1.5, but the DuckDB CLI on PyPI and most BI tools embed
1.4/1.5, which cannot open a file in 2.x's storage format. A file created with an older storage compatibility
version keeps that format when later opened by 2.x, so the warehouse is created here, before anything else opens it.
"""

from pathlib import Path

import duckdb

STORAGE_COMPATIBILITY_VERSION = "v1.4.0"


def ensure_warehouse_file(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}).close()

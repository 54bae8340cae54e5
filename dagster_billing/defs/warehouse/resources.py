"""The DuckDB warehouse file every Python asset writes to (dbt reaches the same file through profiles.yml)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from dagster_billing.settings import WAREHOUSE_PATH_ENV, billing_paths
from dagster_billing.warehouse_file import configure_session, ensure_warehouse_file

# Every step that opens the warehouse runs in this Dagster concurrency pool. DuckDB lets one process write a file at a
# time, so with the pool limited to 1 (dagster_home/dagster.yaml) a sensor-triggered ingestion and the nightly run
# queue behind each other instead of failing on the file lock.
WAREHOUSE_POOL = "duckdb_warehouse"


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connections are set up by `configure_session` (UTC, bounded memory) and whose file is
    created in a storage format older DuckDB tools can read."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        ensure_warehouse_file(Path(self.database))
        with super().get_connection() as connection:
            yield configure_session(connection)


def warehouse_resource() -> WarehouseResource:
    return WarehouseResource(
        database=dg.EnvVar(WAREHOUSE_PATH_ENV).get_value(str(billing_paths().warehouse_path))
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources={"warehouse": warehouse_resource()})

"""The `dbt build` command of a run: a small pure function, so what a daily run and a full refresh each ask dbt
for is unit-tested without running dbt (dagster-open-platform keeps its partition arguments the same way)."""

import json
from datetime import datetime, timezone


def dbt_build_args(
    as_of: str, *, full_refresh: bool = False, events_tested_after_file_id: int = -1
) -> list[str]:
    """`as_of` is always passed, so a rebuild for the same date gives the same rows.

    A daily (incremental) run folds the new files' events into the stored usage aggregates and tests only what
    it can have changed: the event-grain tests read the events of files after `events_tested_after_file_id`
    (those before were tested by the run that folded them), and the unit tests, which test the SQL against fixed
    inputs and not the warehouse's data, are left to CI (`make test`) and to full refreshes. A full refresh
    rebuilds the incremental models from every event and runs every test on every row."""
    as_of = as_of or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    if full_refresh:
        return ["build", "--full-refresh", "--vars", json.dumps({"as_of": as_of})]
    dbt_vars = {"as_of": as_of, "usage_events_tested_after_file_id": events_tested_after_file_id}
    return ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars)]

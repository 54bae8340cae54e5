"""The `dbt build` command of a run: a small pure function, so what a daily run and a full refresh each ask dbt
for is unit-tested without running dbt (dagster-open-platform keeps its partition arguments the same way)."""

from dataclasses import dataclass, field
from datetime import datetime, timezone

# What changes from run to run reaches dbt as environment variables, not `--vars`: dbt re-parses the whole
# project (about 3 s here) whenever a var changes, but only the files that read a changed environment variable.
AS_OF_ENV = "DBT_BILLING_AS_OF"
EVENTS_TESTED_AFTER_FILE_ID_ENV = "DBT_BILLING_EVENTS_TESTED_AFTER_FILE_ID"


@dataclass(frozen=True)
class DbtBuild:
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)


def dbt_build_args(
    as_of: str, *, full_refresh: bool = False, events_tested_after_file_id: int = -1
) -> DbtBuild:
    """`as_of` is always passed, so a rebuild for the same date gives the same rows.

    A daily (incremental) run folds the new files' events into the stored usage aggregates and tests only what
    it can have changed: the event-grain tests read the events of files after `events_tested_after_file_id`
    (those before were tested by the run that folded them), and the unit tests, which test the SQL against fixed
    inputs and not the warehouse's data, are left to CI (`make test`) and to full refreshes. A full refresh
    rebuilds the incremental models from every event and runs every test on every row."""
    as_of = as_of or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    if full_refresh:
        return DbtBuild(
            ["build", "--full-refresh"], {AS_OF_ENV: as_of, EVENTS_TESTED_AFTER_FILE_ID_ENV: "-1"}
        )
    env = {AS_OF_ENV: as_of, EVENTS_TESTED_AFTER_FILE_ID_ENV: str(events_tested_after_file_id)}
    return DbtBuild(["build", "--exclude-resource-type", "unit_test"], env)

"""What a daily run and a full refresh each ask dbt for (dagster_billing/defs/dbt/build_args.py)."""

import json

from dagster_billing.defs.dbt.build_args import dbt_build_args


def _vars(args: list[str]) -> dict:
    return json.loads(args[args.index("--vars") + 1])


def test_a_daily_run_tests_only_the_new_files_events_and_leaves_unit_tests_to_ci() -> None:
    args = dbt_build_args("2026-10-02", events_tested_after_file_id=41)
    assert args[0] == "build" and "--full-refresh" not in args
    assert args[args.index("--exclude-resource-type") + 1] == "unit_test"
    assert _vars(args) == {"as_of": "2026-10-02", "usage_events_tested_after_file_id": 41}


def test_a_full_refresh_rebuilds_and_tests_everything() -> None:
    args = dbt_build_args("2026-10-02", full_refresh=True, events_tested_after_file_id=41)
    assert "--full-refresh" in args and "--exclude-resource-type" not in args
    assert _vars(args) == {"as_of": "2026-10-02"}  # the event tests' default: every file


def test_an_empty_as_of_is_today() -> None:
    assert len(_vars(dbt_build_args(""))["as_of"]) == 10

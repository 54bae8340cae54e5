"""What a daily run and a full refresh each ask dbt for (dagster_billing/defs/dbt/build_args.py), and how the
dbt steps keep their fixed cost down (dagster_billing/defs/dbt/project.py)."""

import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from dagster_dbt import DbtCliResource, DbtProject

from dagster_billing.defs.dbt.build_args import AS_OF_ENV, EVENTS_TESTED_AFTER_FILE_ID_ENV, dbt_build_args
from dagster_billing.defs.dbt.project import (
    BillingDbtCliResource,
    dbt_executable,
    keep_partial_parse,
    prune_command_folders,
)
from dagster_billing.settings import DBT_PROJECT_DIR


def test_a_daily_run_tests_only_the_new_files_events_and_leaves_unit_tests_to_ci() -> None:
    build = dbt_build_args("2026-10-02", events_tested_after_file_id=41)
    assert build.args == ["build", "--exclude-resource-type", "unit_test"]
    assert build.env == {AS_OF_ENV: "2026-10-02", EVENTS_TESTED_AFTER_FILE_ID_ENV: "41"}


def test_a_full_refresh_rebuilds_and_tests_everything() -> None:
    build = dbt_build_args("2026-10-02", full_refresh=True, events_tested_after_file_id=41)
    assert build.args == ["build", "--full-refresh"]
    assert build.env == {AS_OF_ENV: "2026-10-02", EVENTS_TESTED_AFTER_FILE_ID_ENV: "-1"}  # every event


def test_an_empty_as_of_is_today() -> None:
    assert len(dbt_build_args("").env[AS_OF_ENV]) == 10


def test_the_dbt_models_read_the_run_values_from_the_environment_variables() -> None:
    """The names in build_args.py are the ones the dbt project reads (a typo would bill as of today)."""
    macro = (DBT_PROJECT_DIR / "macros" / "as_of_timestamp.sql").read_text()
    staging = (DBT_PROJECT_DIR / "models" / "staging" / "_staging__models.yml").read_text()
    assert f"env_var('{AS_OF_ENV}'" in macro
    assert staging.count(f"env_var('{EVENTS_TESTED_AFTER_FILE_ID_ENV}', '-1')") == 5


def test_the_in_process_adapter_hook_still_exists_in_dagster_dbt() -> None:
    """BillingDbtCliResource overrides a private method of the pinned dagster-dbt; an upgrade that renames it
    would silently bring back the 2 s per dbt command."""
    assert callable(getattr(DbtCliResource, "_initialize_dbt_core_adapter", None))
    resource = BillingDbtCliResource(project_dir=os.fspath(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def _project(tmp_path: Path) -> DbtProject:
    # the two attributes used, without a dbt project to parse
    return cast(DbtProject, SimpleNamespace(project_dir=tmp_path, target_path=Path("target")))


def test_a_finished_commands_parse_seeds_the_next_command(tmp_path: Path) -> None:
    project = _project(tmp_path)
    command_folder = tmp_path / "target" / "billing_dbt_models-abc-123"
    command_folder.mkdir(parents=True)
    (command_folder / "partial_parse.msgpack").write_bytes(b"parsed with today's as_of")
    keep_partial_parse(project, command_folder)
    assert (tmp_path / "target" / "partial_parse.msgpack").read_bytes() == b"parsed with today's as_of"
    assert [p.name for p in (tmp_path / "target").iterdir() if p.is_file()] == ["partial_parse.msgpack"]


def test_a_command_without_a_parse_leaves_the_kept_one(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "partial_parse.msgpack").write_bytes(b"yesterday")
    keep_partial_parse(project, tmp_path / "target" / "failed-before-parsing")
    assert (tmp_path / "target" / "partial_parse.msgpack").read_bytes() == b"yesterday"


def test_only_the_newest_command_folders_are_kept(tmp_path: Path) -> None:
    project = _project(tmp_path)
    now = time.time()
    for age in range(5):
        folder = tmp_path / "target" / f"billing_dbt_marts-run{age}-x"
        folder.mkdir(parents=True)
        os.utime(folder, (now - age * 60, now - age * 60))
    (tmp_path / "target" / "compiled").mkdir()  # dbt's own folders are not dagster-dbt's command folders
    prune_command_folders(project, keep=2)
    left = sorted(p.name for p in (tmp_path / "target").iterdir())
    assert left == ["billing_dbt_marts-run0-x", "billing_dbt_marts-run1-x", "compiled"]

"""Pricing config loader: the sample configs, every validation rule's message, the tables and the asset."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from dagster_duckdb import DuckDBResource

from dagster_billing.defs.pricing.assets import pricing_tables
from dagster_billing.pricing import PricingConfigError, load_pricing_configs, write_pricing_tables
from dagster_billing.pricing.currencies import CURRENCY_MINOR_UNITS, ISO_4217_CODES
from dagster_billing.settings import PRICING_DIR_ENV, REPO_ROOT

SAMPLE_DIR = REPO_ROOT / "pricing_configs"

BASE_CONFIG = {
    "version": "2025-01",
    "effective_from": dt.date(2025, 1, 1),
    "metrics": [
        {"code": "api_calls", "name": "API calls", "aggregation": "sum"},
        {
            "code": "active_users",
            "name": "Active users",
            "aggregation": "unique_count",
            "unique_property": "user_id",
        },
    ],
    "plans": [
        {"id": "starter", "name": "Starter", "currency": "USD", "interval": "month"},
        {"id": "growth", "name": "Growth", "currency": "usd", "interval": "month", "interval_count": 1},
        {"id": "annual_enterprise", "name": "Annual", "currency": "EUR", "interval": "year"},
    ],
}


def write_config(pricing_dir: Path, name: str, config: dict) -> Path:
    pricing_dir.mkdir(parents=True, exist_ok=True)
    path = pricing_dir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def a_config(version: str = "2025-01", effective_from: dt.date = dt.date(2025, 1, 1)) -> dict:
    config = copy.deepcopy(BASE_CONFIG)
    config.update(version=version, effective_from=effective_from)
    return config


def load_problems(pricing_dir: Path) -> list[str]:
    with pytest.raises(PricingConfigError) as raised:
        load_pricing_configs(pricing_dir)
    assert all(problem in str(raised.value) for problem in raised.value.problems)
    return raised.value.problems


def only_problem(pricing_dir: Path) -> str:
    problems = load_problems(pricing_dir)
    assert len(problems) == 1, problems
    return problems[0]


# --- the sample configs -------------------------------------------------------------------------------------


def test_sample_configs_load_sorted_with_defaults():
    configs = load_pricing_configs(SAMPLE_DIR)
    assert [(c.version, c.effective_from, c.source_file) for c in configs] == [
        ("2025-01", dt.date(2025, 1, 1), "pricing_configs/2025-01.yaml"),
        ("2026-01", dt.date(2026, 1, 1), "pricing_configs/2026-01.yaml"),
    ]
    for config in configs:
        plans = {plan.id: plan for plan in config.plans}
        assert set(plans) == {
            "starter",
            "growth",
            "scale",
            "annual_enterprise",
            "weekly_dev",
            "calendar_team",
        }
        assert (plans["annual_enterprise"].interval, plans["annual_enterprise"].interval_count) == ("year", 1)
        assert plans["weekly_dev"].interval == "week"
        assert plans["calendar_team"].billing_time == "calendar"
        assert plans["scale"].billing_time == "anniversary"
        assert {m.code: m.aggregation for m in config.metrics} == {
            "api_calls": "sum",
            "compute_minutes": "sum",
            "storage_gb": "max",
            "active_users": "unique_count",
            "seats_in_use": "latest",
        }


def test_currency_is_upper_cased_and_minor_units_are_known(tmp_path):
    write_config(tmp_path / "pricing_configs", "2025-01.yaml", a_config())
    (config,) = load_pricing_configs(tmp_path / "pricing_configs")
    assert [plan.currency for plan in config.plans] == ["USD", "USD", "EUR"]
    assert CURRENCY_MINOR_UNITS["JPY"] == CURRENCY_MINOR_UNITS["KRW"] == 0
    assert CURRENCY_MINOR_UNITS["BHD"] == CURRENCY_MINOR_UNITS["KWD"] == CURRENCY_MINOR_UNITS["JOD"] == 3
    assert CURRENCY_MINOR_UNITS["USD"] == CURRENCY_MINOR_UNITS["EUR"] == 2
    assert "XAU" not in ISO_4217_CODES


# --- one test per rule within a file ------------------------------------------------------------------------


def _set(path: tuple, value):
    def mutate(config: dict) -> None:
        *parents, last = path
        target = config
        for key in parents:
            target = target[key]
        target[last] = value

    return mutate


def _delete(path: tuple):
    def mutate(config: dict) -> None:
        *parents, last = path
        target = config
        for key in parents:
            target = target[key]
        del target[last]

    return mutate


FILE_ERRORS = {
    "interval not allowed": (
        _set(("plans", 1, "interval"), "monthly"),
        "pricing_configs/2025-01.yaml: plan 'growth': field 'interval': "
        "'monthly' is not one of month, year, week",
    ),
    "unknown currency": (
        _set(("plans", 0, "currency"), "usx"),
        "pricing_configs/2025-01.yaml: plan 'starter': field 'currency': "
        "'usx' is not an ISO 4217 currency code",
    ),
    "interval_count below 1": (
        _set(("plans", 0, "interval_count"), 0),
        "plan 'starter': field 'interval_count': 0 must be a whole number of at least 1",
    ),
    "interval_count not whole": (
        _set(("plans", 0, "interval_count"), 1.5),
        "plan 'starter': field 'interval_count': 1.5 must be a whole number",
    ),
    "billing_time not allowed": (
        _set(("plans", 0, "billing_time"), "fixed"),
        "plan 'starter': field 'billing_time': 'fixed' is not one of anniversary, calendar",
    ),
    "calendar billing with interval_count 3": (
        lambda c: c["plans"][0].update(interval_count=3, billing_time="calendar"),
        "plan 'starter': field 'billing_time': "
        "calendar billing needs interval_count 1, but interval_count is 3",
    ),
    "aggregation not allowed": (
        _set(("metrics", 0, "aggregation"), "avg"),
        "metric 'api_calls': field 'aggregation': 'avg' is not one of sum, count, max, unique_count, latest",
    ),
    "unique_count without unique_property": (
        _delete(("metrics", 1, "unique_property")),
        "metric 'active_users': field 'unique_property': is required when aggregation is unique_count",
    ),
    "unique_property on a sum": (
        _set(("metrics", 0, "unique_property"), "user_id"),
        "metric 'api_calls': field 'unique_property': is only allowed with aggregation unique_count, not sum",
    ),
    "misspelt field": (
        _set(("plans", 2, "intervall"), "year"),
        "plan 'annual_enterprise': field 'intervall': is not a known field (check the spelling)",
    ),
    "duplicate plan id": (
        _set(("plans", 2, "id"), "starter"),
        "pricing_configs/2025-01.yaml: plan 'starter': field 'id': appears 2 times",
    ),
    "duplicate metric code": (
        _set(("metrics", 1, "code"), "api_calls"),
        "pricing_configs/2025-01.yaml: metric 'api_calls': field 'code': appears 2 times",
    ),
    "plan without id": (
        _delete(("plans", 1, "id")),
        "pricing_configs/2025-01.yaml: plan #2: field 'id': is required but missing",
    ),
    "missing version": (
        _delete(("version",)),
        "pricing_configs/2025-01.yaml: field 'version': is required but missing",
    ),
    "missing effective_from": (
        _delete(("effective_from",)),
        "pricing_configs/2025-01.yaml: field 'effective_from': is required but missing",
    ),
    "effective_from not a date": (
        _set(("effective_from",), "first of January"),
        "field 'effective_from': 'first of January' is not a valid date (write it as YYYY-MM-DD)",
    ),
    "no plans": (
        _set(("plans",), []),
        "pricing_configs/2025-01.yaml: field 'plans': must list at least one entry",
    ),
}


@pytest.mark.parametrize("mutate, expected", FILE_ERRORS.values(), ids=FILE_ERRORS.keys())
def test_config_error_names_file_entry_and_field(tmp_path, mutate, expected):
    config = a_config()
    mutate(config)
    write_config(tmp_path / "pricing_configs", "2025-01.yaml", config)
    assert expected in only_problem(tmp_path / "pricing_configs")


# --- rules between files ------------------------------------------------------------------------------------


def test_version_and_effective_from_must_be_unique(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    write_config(pricing_dir, "a.yaml", a_config("2025-01", dt.date(2025, 1, 1)))
    write_config(pricing_dir, "b.yaml", a_config("2025-01", dt.date(2025, 6, 1)))
    write_config(pricing_dir, "c.yaml", a_config("2025-07", dt.date(2025, 6, 1)))
    problems = load_problems(pricing_dir)
    assert len(problems) == 2
    assert problems[0].startswith(
        "pricing_configs/b.yaml: field 'version': '2025-01' is already used by pricing_configs/a.yaml"
    )
    assert problems[1].startswith(
        "pricing_configs/c.yaml: field 'effective_from': 2025-06-01 is already used by pricing_configs/b.yaml"
    )


def test_plan_billing_window_cannot_change_between_versions(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    later = a_config("2026-01", dt.date(2026, 1, 1))
    later["plans"][1]["interval"] = "year"
    write_config(pricing_dir, "2025-01.yaml", a_config())
    write_config(pricing_dir, "2026-01.yaml", later)
    assert only_problem(pricing_dir).startswith(
        "pricing_configs/2026-01.yaml: plan 'growth': field 'interval': is 'year' in version '2026-01' "
        "but 'month' in version '2025-01' (pricing_configs/2025-01.yaml)"
    )


def test_metric_aggregation_cannot_change_between_versions(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    later = a_config("2026-01", dt.date(2026, 1, 1))
    later["metrics"][1].update(aggregation="count")
    del later["metrics"][1]["unique_property"]
    write_config(pricing_dir, "2025-01.yaml", a_config())
    write_config(pricing_dir, "2026-01.yaml", later)
    problems = load_problems(pricing_dir)
    assert [p.split(": is ")[0] for p in problems] == [
        "pricing_configs/2026-01.yaml: metric 'active_users': field 'aggregation'",
        "pricing_configs/2026-01.yaml: metric 'active_users': field 'unique_property'",
    ]
    assert "is 'count' in version '2026-01' but 'unique_count' in version '2025-01'" in problems[0]
    assert "is not set in version '2026-01' but 'user_id' in version '2025-01'" in problems[1]


def test_every_problem_of_every_file_is_reported_together(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    broken = a_config("2024-01", dt.date(2024, 1, 1))
    broken["plans"][0]["currency"] = "XXX1"
    broken["metrics"][0]["aggregation"] = "avg"
    changed = a_config("2026-01", dt.date(2026, 1, 1))
    changed["plans"][1]["interval"] = "week"
    write_config(pricing_dir, "2024-01.yaml", broken)
    write_config(pricing_dir, "2025-01.yaml", a_config())
    write_config(pricing_dir, "2026-01.yaml", changed)
    problems = load_problems(pricing_dir)
    assert [problem.split(": field")[0] for problem in problems] == [
        "pricing_configs/2024-01.yaml: metric 'api_calls'",
        "pricing_configs/2024-01.yaml: plan 'starter'",
        "pricing_configs/2026-01.yaml: plan 'growth'",
    ]
    assert "3 problems in the pricing configs" in str(PricingConfigError(problems))


# --- files that cannot be read ------------------------------------------------------------------------------


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "pricing_configs").mkdir()
    assert only_problem(tmp_path / "pricing_configs").startswith("pricing_configs/: no pricing config files")


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    pricing_dir.mkdir()
    (pricing_dir / "2025-01.yaml").write_text(
        'version: "2025-01"\neffective_from: 2025-01-01\nplans: [\n  {id: a\n'
    )
    problem = only_problem(pricing_dir)
    assert problem.startswith("pricing_configs/2025-01.yaml: line ")
    assert "the YAML cannot be read" in problem


def test_repeated_yaml_key_is_an_error_not_a_silent_override(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    pricing_dir.mkdir()
    text = yaml.safe_dump(a_config(), sort_keys=False).replace(
        "version: 2025-01", "version: 2025-01\nversion: x"
    )
    (pricing_dir / "2025-01.yaml").write_text(text)
    assert only_problem(pricing_dir) == (
        "pricing_configs/2025-01.yaml: line 2, column 1: the YAML cannot be read: "
        "key 'version' appears twice (first on line 1)"
    )


def test_impossible_date_names_the_line(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    pricing_dir.mkdir()
    (pricing_dir / "2025-01.yaml").write_text('version: "2025-01"\neffective_from: 2025-13-01\n')
    assert only_problem(pricing_dir).startswith(
        "pricing_configs/2025-01.yaml: line 2, column 17: the YAML cannot be read: "
        "'2025-13-01' is not a valid date"
    )


def test_empty_file_is_an_error(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    pricing_dir.mkdir()
    (pricing_dir / "2025-01.yaml").write_text("# nothing yet\n")
    assert only_problem(pricing_dir) == "pricing_configs/2025-01.yaml: the file is empty"


# --- tables -------------------------------------------------------------------------------------------------


def table_rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database)) as con:
        return con.execute(sql).fetchall()


def test_tables_are_written_with_one_row_per_plan_and_metric_per_version(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        counts = write_pricing_tables(con, load_pricing_configs(SAMPLE_DIR))
    assert counts == {"pricing_versions": 2, "pricing_plans": 12, "pricing_metrics": 10}

    assert table_rows(database, "select * from raw.pricing_versions order by effective_from") == [
        ("2025-01", dt.date(2025, 1, 1), "pricing_configs/2025-01.yaml"),
        ("2026-01", dt.date(2026, 1, 1), "pricing_configs/2026-01.yaml"),
    ]
    assert table_rows(
        database,
        "select * from raw.pricing_plans where pricing_version = '2025-01' and plan_id = 'calendar_team'",
    ) == [
        (
            "2025-01",
            dt.date(2025, 1, 1),
            "calendar_team",
            "Calendar Team",
            "USD",
            "month",
            1,
            "calendar",
            "pricing_configs/2025-01.yaml",
        ),
    ]
    assert table_rows(
        database, "select * from raw.pricing_metrics where metric = 'active_users' order by 1"
    ) == [
        (
            "2025-01",
            "active_users",
            "Active users",
            "unique_count",
            "user_id",
            "pricing_configs/2025-01.yaml",
        ),
        (
            "2026-01",
            "active_users",
            "Active users",
            "unique_count",
            "user_id",
            "pricing_configs/2026-01.yaml",
        ),
    ]
    plan_columns = [row[0] for row in table_rows(database, "describe raw.pricing_plans")]
    assert plan_columns == [
        "pricing_version",
        "effective_from",
        "plan_id",
        "plan_name",
        "currency",
        "interval_unit",
        "interval_count",
        "billing_time",
        "source_file",
    ]


def test_a_write_that_fails_leaves_the_previous_tables(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    configs = load_pricing_configs(SAMPLE_DIR)
    with duckdb.connect(str(database)) as con:
        write_pricing_tables(con, configs[:1])
        with pytest.raises(duckdb.ConstraintException):
            write_pricing_tables(con, [configs[1], configs[1]])  # same version twice: primary key violation
    assert table_rows(database, "select pricing_version from raw.pricing_versions") == [("2025-01",)]
    assert table_rows(database, "select count(*) from raw.pricing_plans") == [(6,)]


# --- the Dagster asset --------------------------------------------------------------------------------------


def materialize_pricing(database: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [pricing_tables],
        resources={"warehouse": DuckDBResource(database=str(database))},
        raise_on_error=False,
    )


def test_asset_writes_the_tables_and_reports_counts(tmp_path, monkeypatch):
    pricing_dir = tmp_path / "pricing_configs"
    shutil.copytree(SAMPLE_DIR, pricing_dir)
    monkeypatch.setenv(PRICING_DIR_ENV, str(pricing_dir))
    database = tmp_path / "warehouse.duckdb"

    result = materialize_pricing(database)

    assert result.success
    plans_metadata = result.asset_materializations_for_node("pricing_tables")[0].metadata
    by_key = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("pricing_tables")}
    assert by_key[dg.AssetKey(["raw", "pricing_plans"])]["plan_count"].value == 6
    assert by_key[dg.AssetKey(["raw", "pricing_plans"])]["dagster/row_count"].value == 12
    assert by_key[dg.AssetKey(["raw", "pricing_metrics"])]["metric_count"].value == 5
    assert "2025-01 (from 2025-01-01), 2026-01 (from 2026-01-01)" == plans_metadata["versions"].value
    assert table_rows(database, "select count(*) from raw.pricing_plans") == [(12,)]
    assert table_rows(database, "select count(*) from raw.pricing_metrics") == [(10,)]


def test_asset_with_a_bad_config_fails_and_writes_nothing(tmp_path, monkeypatch):
    pricing_dir = tmp_path / "pricing_configs"
    shutil.copytree(SAMPLE_DIR, pricing_dir)
    monkeypatch.setenv(PRICING_DIR_ENV, str(pricing_dir))
    database = tmp_path / "warehouse.duckdb"
    assert materialize_pricing(database).success

    later = pricing_dir / "2026-01.yaml"
    later.write_text(later.read_text().replace("interval: week", "interval: weekly"))
    (pricing_dir / "2027-01.yaml").write_text(
        (pricing_dir / "2025-01.yaml").read_text().replace("2025-01", "2027-01")
    )
    result = materialize_pricing(database)

    assert not result.success
    failure = result.failure_data_for_node("pricing_tables").error
    assert "plan 'weekly_dev': field 'interval': 'weekly' is not one of month, year, week" in failure.message
    assert table_rows(database, "select distinct pricing_version from raw.pricing_plans order by 1") == [
        ("2025-01",),
        ("2026-01",),
    ]


def test_pricing_definitions_load_with_the_warehouse_resource():
    from dagster_billing.defs.pricing import assets
    from dagster_billing.defs.warehouse import resources

    defs = dg.Definitions.merge(assets.defs(), resources.defs())
    assert defs.resolve_asset_graph().get_all_asset_keys() == {
        dg.AssetKey(["raw", "pricing_plans"]),
        dg.AssetKey(["raw", "pricing_metrics"]),
    }
    defs.resolve_implicit_global_asset_job_def()

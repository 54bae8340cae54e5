"""`billing whatif` on a real pipeline run: exact changes for exact scenarios, ties to the ledger, the report,
and a warehouse left byte for byte as it was.

One what-if run (the CLI, four scenarios) serves the module. The range starts in February 2026 so that most
invoices are priced by the 2026-01 version alone, which every test scenario copies: on those invoices a change
can only come from what the scenario changes. Invoices with a line priced by 2025-01 (grandfathered customers,
yearly windows started in 2025) are left out of the exactness checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dagster_billing.cli import main
from dagster_billing.defs.dbt.project import dbt_executable
from dagster_billing.settings import REPO_ROOT
from dagster_billing.whatif import read_comparison, whatif_database_path
from dagster_billing.whatif.summary import money
from dagster_billing.whatif.workspace import WhatifRange, run_whatif_dbt

DATE_FROM, DATE_TO = date(2026, 2, 1), date(2026, 10, 1)
SCENARIO_SETTINGS = {
    "same_as_2026": "whatif:\n  description: the 2026-01 price list unchanged\n",
    "double_growth_storage": "whatif:\n  description: growth's storage price doubled in USD\n",
    "starter_to_growth": "whatif:\n  assign:\n    - {from_plan: starter, to_plan: growth}\n",
    "elastic": 'whatif:\n  elasticity: {api_calls: "50", compute_minutes: "-12.5"}\n',
    "unreached_tier": "whatif:\n  description: growth's third API-calls tier (above 10M calls) dearer in USD\n",
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def whatif_run(pipeline_scenario, tmp_path_factory):
    root = tmp_path_factory.mktemp("whatif")
    pricing = root / "pricing_configs"
    (pricing / "scenarios").mkdir(parents=True)
    for path in (REPO_ROOT / "pricing_configs").glob("*.yaml"):
        shutil.copy(path, pricing / path.name)
    base = (REPO_ROOT / "pricing_configs" / "2026-01.yaml").read_text()
    for name, settings in SCENARIO_SETTINGS.items():
        text = base
        if name == "double_growth_storage":
            old = '{metric: storage_gb, model: per_unit, unit_amount: "0.10", included_units: "50"}'
            assert text.count(old) == 1
            text = text.replace(old, old.replace('"0.10"', '"0.20"'))
        if name == "unreached_tier":
            old = '{up_to: null, unit_amount: "0.0004", flat_amount: "50.00"}'
            assert text.count(old) == 1
            text = text.replace(old, old.replace('"0.0004"', '"0.0009"'))
        (pricing / "scenarios" / f"{name}.yaml").write_text(text + settings)
    warehouse = pipeline_scenario.paths.warehouse_path
    built_by_the_billing_run = whatif_database_path(warehouse).exists()
    before = _sha256(warehouse)
    report = root / "report.html"
    argv = ["whatif", *SCENARIO_SETTINGS, "--warehouse", str(warehouse), "--pricing", str(pricing)]
    argv += ["--from", DATE_FROM.isoformat(), "--to", DATE_TO.isoformat(), "--report", str(report)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(argv)
    stdout = printed.getvalue()
    database = whatif_database_path(warehouse)
    comparison = read_comparison(database, WhatifRange(DATE_FROM, DATE_TO), [])
    return {
        "code": code,
        "stdout": stdout,
        "warehouse": warehouse,
        "hash_before": before,
        "built_by_the_billing_run": built_by_the_billing_run,
        "pricing": pricing,
        "report": report,
        "database": database,
        "comparison": comparison,
        "scenario": pipeline_scenario,
    }


def _whatif_query(run, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(run["database"]), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _only_2026_invoices(run) -> set[tuple[str, date]]:
    """(customer, billing date) of invoices in the range whose every actual line is priced by 2026-01."""
    rows = run["scenario"].query(
        "select customer_id, billing_date from intermediate.int_invoice_lines_computed "
        "where scenario = 'actual' and billing_date >= ? and billing_date < ? "
        "group by all having bool_and(coalesce(pricing_version, '2026-01') = '2026-01')",
        [DATE_FROM, DATE_TO],
    )
    return set(rows)


def _changes(run, scenario: str) -> dict[tuple[str, date], int]:
    invoices = run["comparison"].invoices
    rows = invoices[invoices["scenario"] == scenario]
    return {
        (
            row.customer_id,
            row.billing_date.date() if hasattr(row.billing_date, "date") else row.billing_date,
        ): int(row.change_minor)
        for row in rows.itertuples()
    }


def test_the_cli_succeeds_and_leaves_the_warehouse_byte_for_byte(whatif_run, capsys):
    assert whatif_run["code"] == 0
    assert not whatif_run["built_by_the_billing_run"]  # `billing run` leaves the what-if asset out
    assert _sha256(whatif_run["warehouse"]) == whatif_run["hash_before"]
    # the billing run built no what-if model, and the warehouse's pricing tables hold `actual` only
    assert (
        whatif_run["scenario"].scalar(
            "select count(*) from information_schema.tables where table_schema = 'whatif'"
        )
        == 0
    )
    assert whatif_run["scenario"].query("select distinct scenario from raw.pricing_versions") == [("actual",)]


def test_a_scenario_identical_to_actual_changes_nothing(whatif_run):
    same = _changes(whatif_run, "same_as_2026")
    comparable = _only_2026_invoices(whatif_run) & set(same)
    assert len(comparable) > 200
    assert {key: same[key] for key in comparable} == dict.fromkeys(comparable, 0)


def test_doubling_one_unit_price_doubles_exactly_those_lines(whatif_run):
    pairs = _whatif_query(
        whatif_run,
        """
        with priced as (
            select * from intermediate.int_fixed_fees_prorated
            union all by name select * from intermediate.int_usage_charges_priced
            union all by name select * from intermediate.int_minimum_spend_trued_up
        ),
        lines as (
            select
                substr(customer_id, 1, strpos(customer_id, '/') - 1) as scenario,
                substr(customer_id, strpos(customer_id, '/') + 1) as customer,
                *
            from priced
            where billing_date >= ? and billing_date < ?
        )
        select
            a.plan_id = 'growth' and a.currency = 'USD' and a.metric = 'storage_gb' and a.line_type = 'usage',
            a.amount, d.amount, a.pricing_version
        from lines as a
        inner join lines as d
            on a.customer = d.customer and a.billing_date = d.billing_date and a.line_type = d.line_type
            and a.subscription_id = d.subscription_id and a.metric is not distinct from d.metric
            and a.tier is not distinct from d.tier and a.period_start = d.period_start
        where a.scenario = 'actual' and d.scenario = 'double_growth_storage'
        """,
        [DATE_FROM, DATE_TO],
    )
    doubled = [
        (actual, scenario)
        for is_target, actual, scenario, version in pairs
        if is_target and version == "2026-01"
    ]
    others = [
        (actual, scenario)
        for is_target, actual, scenario, version in pairs
        if not is_target and version == "2026-01"
    ]
    assert len(doubled) >= 5 and any(actual > 0 for actual, _ in doubled)
    assert all(scenario == 2 * actual for actual, scenario in doubled)
    assert all(scenario == actual for actual, scenario in others)


def test_moving_a_plans_customers_changes_only_them(whatif_run):
    starter = {
        customer
        for (customer,) in whatif_run["scenario"].query(
            "select distinct customer_id from staging.stg_subscriptions where plan_id = 'starter'"
        )
    }
    moved = _changes(whatif_run, "starter_to_growth")
    comparable = _only_2026_invoices(whatif_run) & set(moved)
    changed = {
        customer for (customer, _), change in moved.items() if change != 0 and (customer, _) in comparable
    }
    assert changed and changed <= starter
    plans = whatif_run["comparison"].customers
    moved_rows = plans[(plans["scenario"] == "starter_to_growth") & (plans["plan_id"] == "starter")]
    assert set(moved_rows["scenario_plan_id"]) == {"growth"}


def test_elasticity_scales_each_windows_usage(whatif_run):
    rows = _whatif_query(
        whatif_run,
        """
        select e.metric, a.billed_quantity, e.billed_quantity
        from intermediate.int_usage_aggregated_to_billing_windows as e
        inner join intermediate.int_usage_aggregated_to_billing_windows as a
            on e.customer_id = 'elastic/' || substr(a.customer_id, 8) and e.window_start = a.window_start
            and e.subscription_id = a.subscription_id and e.metric = a.metric
        where a.customer_id like 'actual/%'
        """,
    )
    factors = {"api_calls": "1.5", "compute_minutes": "0.875"}
    assert {metric for metric, _, _ in rows} >= {"api_calls", "compute_minutes", "storage_gb"}
    for metric, actual, elastic in rows:
        from decimal import Decimal

        expected = (actual * Decimal(factors.get(metric, "1"))).quantize(Decimal("1e-12"))
        assert elastic == expected, (metric, actual, elastic)


def test_actual_figures_tie_out_to_the_ledger(whatif_run):
    issued = dict(
        whatif_run["scenario"].query(
            "select currency, sum(total_minor) from billing.issued_invoices "
            "where billing_date >= ? and billing_date < ? group by currency",
            [DATE_FROM, DATE_TO],
        )
    )
    invoices = whatif_run["comparison"].invoices
    for scenario in SCENARIO_SETTINGS:
        rows = invoices[invoices["scenario"] == scenario]
        assert {c: int(v) for c, v in rows.groupby("currency")["actual_minor"].sum().items()} == issued
    customers = whatif_run["comparison"].customers
    months = whatif_run["comparison"].months
    for scenario in SCENARIO_SETTINGS:
        by_customer = customers[customers["scenario"] == scenario]
        by_month = months[(months["scenario"] == scenario) & (months["breakdown"] == "all")]
        assert int(by_customer["actual_reporting_minor"].sum()) == int(
            by_month["actual_revenue_reporting_minor"].sum()
        )
        assert int(by_customer["scenario_reporting_minor"].sum()) == int(
            by_month["scenario_revenue_reporting_minor"].sum()
        )


def test_the_report_holds_its_charts_tables_and_the_warehouse_totals(whatif_run):
    html = whatif_run["report"].read_text()
    assert html.count("<svg") == 3
    assert "<script" not in html and "<link" not in html
    for heading in (
        "Scenarios side by side",
        "Revenue per month",
        "Distribution of per-customer change",
        "Winners and losers",
        "Customers most affected",
        "By plan",
        "By currency",
        "By size band",
        "What a backtest cannot know",
    ):
        assert heading in html
    customers = whatif_run["comparison"].customers
    same = customers[customers["scenario"] == "same_as_2026"]
    assert money(int(same["actual_reporting_minor"].sum()), "USD") in html
    for name in SCENARIO_SETTINGS:
        assert f"<td>{name}</td>" in html


def test_the_whatif_models_grain_tests_pass(whatif_run, tmp_path):
    args = [
        "test",
        "--select",
        "tag:whatif",
        "--vars",
        '{"whatif_from": "2026-02-01", "whatif_to": "2026-10-01"}',
    ]
    run_whatif_dbt(whatif_run["database"], args, dbt_executable(), tmp_path / "dbt.log")


def test_expected_failures_print_one_line(whatif_run, capsys):
    base = ["--warehouse", str(whatif_run["warehouse"]), "--pricing", str(whatif_run["pricing"])]
    assert main(["whatif", "nope", *base]) == 1
    err = capsys.readouterr().err
    assert err.startswith("billing whatif: pricing_configs/scenarios/nope.yaml: no such scenario file")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    missing = whatif_run["report"].with_name("none.duckdb")
    assert (
        main(["whatif", "same_as_2026", "--warehouse", str(missing), "--pricing", str(whatif_run["pricing"])])
        == 1
    )
    assert "run `billing run`" in capsys.readouterr().err


def test_a_scenario_that_reaches_no_usage_is_warned_about(whatif_run):
    changes = _changes(whatif_run, "unreached_tier")
    assert changes and set(changes.values()) == {0}
    warning = "unreached_tier: This scenario changes nothing in the range"
    assert f"warning: {warning}" in whatif_run["stdout"]
    assert "plan 'growth' (USD) charge 'api_calls') is not reached by this usage" in whatif_run["stdout"]
    assert "This scenario changes nothing in the range" in whatif_run["report"].read_text()
    assert "tier1_price_rise" not in whatif_run["stdout"]  # only the scenarios asked for
    assert "same_as_2026" in whatif_run["stdout"] and "Report: " in whatif_run["stdout"]


def test_zz_the_dagster_asset_materializes_with_its_figures_as_metadata(whatif_run):
    """Last in the module: it rebuilds the what-if database the tests above read."""
    import dagster as dg

    from dagster_billing.defs.warehouse.resources import WarehouseResource
    from dagster_billing.defs.whatif.assets import scenario_comparison

    config = {"scenarios": ["tier1_price_rise"], "date_from": "2026-02-01", "date_to": "2026-10-01"}
    result = dg.materialize(
        [scenario_comparison],
        resources={"warehouse": WarehouseResource(database=str(whatif_run["warehouse"]))},
        run_config={"ops": {"whatif__scenario_comparison": {"config": config}}},
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("whatif__scenario_comparison")
    metadata = materialization.metadata
    assert "tier1_price_rise" in metadata["comparison"].value
    assert metadata["charts"].value.count("data:image/svg+xml;base64,") == 2
    assert Path(metadata["report"].value).exists()
    assert metadata["change_reporting_minor/tier1_price_rise"].value > 0
    assert _sha256(whatif_run["warehouse"]) == whatif_run["hash_before"]

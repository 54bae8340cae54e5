"""What-if scenario files: the examples load, and every kind of mistake is reported with its file and field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dagster_billing.pricing import load_pricing_configs
from dagster_billing.settings import REPO_ROOT
from dagster_billing.whatif import ScenarioError, available_scenarios, load_scenarios
from dagster_billing.whatif.assignment import (
    Subscription,
    assigned_plans,
    scenario_warehouse_problems,
    share_bucket,
)

PRICING_DIR = REPO_ROOT / "pricing_configs"
EXAMPLES = ["growth_volume_api_calls", "starter_to_starter_plus", "tier1_price_rise"]


@pytest.fixture(scope="module")
def actual_configs():
    return load_pricing_configs(PRICING_DIR)


def _pricing_dir_with(tmp_path: Path, name: str, extra: str, edit=lambda text: text) -> Path:
    """A pricing folder holding the actual configs and one scenario: 2026-01 edited, plus a `whatif:` section."""
    pricing = tmp_path / "pricing_configs"
    (pricing / "scenarios").mkdir(parents=True)
    for path in PRICING_DIR.glob("*.yaml"):
        (pricing / path.name).write_text(path.read_text())
    text = edit((PRICING_DIR / "2026-01.yaml").read_text())
    (pricing / "scenarios" / f"{name}.yaml").write_text(text + extra)
    return pricing


def _problems(pricing: Path, names: list[str]) -> list[str]:
    with pytest.raises(ScenarioError) as raised:
        load_scenarios(pricing, names, load_pricing_configs(pricing))
    return raised.value.problems


def test_the_examples_load(actual_configs):
    assert available_scenarios(PRICING_DIR) == EXAMPLES
    scenarios = load_scenarios(PRICING_DIR, EXAMPLES, actual_configs)
    assert [scenario.name for scenario in scenarios] == EXAMPLES
    moved = scenarios[1].settings.assign[0]
    assert (moved.from_plan, moved.to_plan) == ("starter", "starter_plus")
    # the candidate is loaded under the scenario's name, in force for no date of its own
    assert scenarios[0].candidate.version == "growth_volume_api_calls"
    assert scenarios[0].candidate.source_file == "pricing_configs/scenarios/growth_volume_api_calls.yaml"


def test_a_scenario_is_validated_like_a_pricing_config(tmp_path):
    pricing = _pricing_dir_with(
        tmp_path,
        "bad_tiers",
        "",
        lambda text: text.replace(
            '{up_to: "10000000", unit_amount: "0.0007"', '{up_to: "10", unit_amount: "0.0007"', 1
        ),
    )
    (problem,) = _problems(pricing, ["bad_tiers"])
    assert problem.startswith(
        "pricing_configs/scenarios/bad_tiers.yaml: plan 'growth' (USD): charge 'api_calls'"
    )
    assert "tiers must be in increasing order" in problem


@pytest.mark.parametrize(
    ("whatif", "expected"),
    [
        (
            "whatif:\n  assign:\n    - {from_plan: starter, to_plan: nowhere}\n",
            "field 'whatif.assign[1].to_plan': 'nowhere' is not a plan of this scenario",
        ),
        (
            "whatif:\n  assign:\n    - {from_plan: gold, to_plan: growth}\n",
            "field 'whatif.assign[1].from_plan': 'gold' is not a plan of pricing_configs/",
        ),
        (
            "whatif:\n  assign:\n    - {from_plan: weekly_dev, to_plan: growth}\n",
            "field 'whatif.assign[1].to_plan': 'growth' has interval 'month' but 'weekly_dev' has 'week'",
        ),
        (
            'whatif:\n  elasticity: {api_callz: "-10"}\n',
            "field 'whatif.elasticity.api_callz': 'api_callz' is not a metric of this scenario",
        ),
        (
            'whatif:\n  elasticity: {api_calls: "-150"}\n',
            "field 'whatif.elasticity.api_calls': Input should be greater than -100",
        ),
        (
            "whatif:\n  assign:\n    - {to_plan: growth}\n",
            "field 'whatif.assign[1]': name who moves: from_plan (every customer of a plan) or customers",
        ),
        ("whatif:\n  asign: []\n", "field 'whatif.asign': Extra inputs are not permitted"),
    ],
)
def test_invalid_whatif_settings_name_the_file_and_field(tmp_path, whatif, expected):
    pricing = _pricing_dir_with(tmp_path, "broken", whatif)
    problems = _problems(pricing, ["broken"])
    assert any(problem.startswith("pricing_configs/scenarios/broken.yaml: ") for problem in problems), (
        problems
    )
    assert any(expected in problem for problem in problems), problems


def test_an_unknown_scenario_lists_the_known_ones():
    (problem,) = _problems(PRICING_DIR, ["no_such_scenario"])
    assert problem == (
        "pricing_configs/scenarios/no_such_scenario.yaml: no such scenario file "
        "(scenarios there: growth_volume_api_calls, starter_to_starter_plus, tier1_price_rise)"
    )


def test_a_percentage_charge_is_refused(tmp_path):
    pricing = _pricing_dir_with(
        tmp_path,
        "fees",
        "",
        lambda text: text.replace(
            '{metric: compute_minutes, model: per_unit, unit_amount: "0.014", included_units: "500"}',
            '{metric: compute_minutes, model: percentage, rate: "1"}',
        ),
    )
    (problem,) = _problems(pricing, ["fees"])
    assert "charge 'compute_minutes': field 'model': percentage is priced per event" in problem


def test_unknown_customers_and_unpriced_plans_are_warehouse_problems(tmp_path, actual_configs):
    pricing = _pricing_dir_with(
        tmp_path, "listed", "whatif:\n  assign:\n    - {customers: [cus_1, cus_404], to_plan: growth}\n"
    )
    (scenario,) = load_scenarios(pricing, ["listed"], actual_configs)
    subscriptions = [
        Subscription("sub_1", "cus_1", "starter", "USD"),
        Subscription("sub_2", "cus_2", "gold", "CHF"),
        Subscription("sub_3", "cus_3", "silver", "CHF"),  # grandfathered: priced by its own version
    ]
    customers = {"cus_1": None, "cus_2": None, "cus_3": "2025-01"}
    problems = scenario_warehouse_problems(scenario, customers, subscriptions)
    assert problems == [
        "pricing_configs/scenarios/listed.yaml: field 'whatif.assign[1].customers': 'cus_404' is not a customer "
        "in the warehouse (customers.csv)",
        "pricing_configs/scenarios/listed.yaml: plan 'gold' (CHF): customers are on it in CHF (for example cus_2) "
        "but the scenario has no price for it in CHF; add the plan in that currency",
    ]


def test_a_share_is_deterministic_and_about_its_size(tmp_path, actual_configs):
    pricing = _pricing_dir_with(
        tmp_path,
        "quarter",
        'whatif:\n  assign:\n    - {from_plan: starter, to_plan: growth, share_percent: "25"}\n',
    )
    (scenario,) = load_scenarios(pricing, ["quarter"], actual_configs)
    subscriptions = [Subscription(f"sub_{n}", f"cus_{n}", "starter", "USD") for n in range(2000)]
    subscriptions.append(Subscription("sub_x", "cus_x", "scale", "USD"))
    moved = assigned_plans(scenario, subscriptions)
    assert moved == assigned_plans(scenario, list(reversed(subscriptions)))
    assert set(moved.values()) == {"growth"} and "sub_x" not in moved
    assert 400 < len(moved) < 600
    assert all((share_bucket("quarter", f"cus_{sub[4:]}") < 2500) for sub in moved)


def test_elasticity_is_a_usage_factor(tmp_path, actual_configs):
    pricing = _pricing_dir_with(
        tmp_path, "react", 'whatif:\n  elasticity: {api_calls: "-12.5", storage_gb: 20}\n'
    )
    (scenario,) = load_scenarios(pricing, ["react"], actual_configs)
    assert scenario.usage_factor("api_calls") == Decimal("0.875")
    assert scenario.usage_factor("storage_gb") == Decimal("1.2")
    assert scenario.usage_factor("compute_minutes") == 1


@pytest.mark.parametrize(
    ("last_issued", "expected"),
    [
        ("2026-09-30", ("2025-10-01", "2026-10-01")),  # September is whole
        ("2026-10-01", ("2025-10-01", "2026-10-01")),  # one day of October is left out
        ("2026-10-15", ("2025-10-01", "2026-10-01")),
    ],
)
def test_the_default_range_is_twelve_whole_months(last_issued, expected):
    import duckdb

    from dagster_billing.whatif.workspace import default_range

    con = duckdb.connect()
    con.execute("attach ':memory:' as warehouse")
    con.execute("create schema warehouse.billing")
    con.execute(
        "create table warehouse.billing.issued_invoices as select ?::date as billing_date", [last_issued]
    )
    whatif_range = default_range(con, None, None)
    assert (whatif_range.date_from.isoformat(), whatif_range.date_to.isoformat()) == expected
    assert default_range(con, date(2026, 2, 1), None).date_from == date(2026, 2, 1)

"""Pricing config loader: the sample configs, every validation rule's message, the tables and the asset."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import time
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from dagster_duckdb import DuckDBResource
from pydantic import ValidationError

from dagster_billing.defs.pricing.assets import pricing_tables
from dagster_billing.pricing import (
    PricingConfig,
    PricingConfigError,
    load_pricing_configs,
    write_pricing_tables,
)
from dagster_billing.pricing.config_errors import describe_validation_error
from dagster_billing.pricing.currencies import (
    CURRENCY_MINOR_UNITS,
    ISO_4217_CODES,
    ROUNDED_TO_TEN_MINOR_UNITS,
)
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
        {"code": "payment_volume", "name": "Payment volume", "aggregation": "sum"},
        {"code": "payout_volume", "name": "Payout volume", "aggregation": "sum"},
    ],
    "plans": [
        {
            "id": "starter",
            "name": "Starter",
            "currency": "USD",
            "interval": "month",
            "base_fee": {"amount": "19.00"},
            "charges": [
                {"metric": "api_calls", "model": "per_unit", "unit_amount": "0.002", "included_units": "1000"}
            ],
        },
        {
            "id": "growth",
            "name": "Growth",
            "currency": "usd",
            "interval": "month",
            "interval_count": 1,
            "charges": [
                {
                    "metric": "api_calls",
                    "model": "graduated",
                    "tiers": [
                        {"up_to": "1000", "unit_amount": "0.001", "flat_amount": "5"},
                        {"up_to": "5000", "unit_amount": "0.0008"},
                        {"up_to": None, "unit_amount": "0.0005"},
                    ],
                }
            ],
        },
        {
            "id": "annual_enterprise",
            "name": "Annual",
            "currency": "EUR",
            "interval": "year",
            "proration": "by_day",
            "rounding": "half_even",
            "base_fee": {"amount": "480", "timing": "in_arrears"},
            "minimum_spend": "100",
            "charges": [
                {
                    "metric": "api_calls",
                    "model": "volume",
                    "included_units": "10",
                    "tiers": [
                        {"up_to": "100", "unit_amount": "0.01"},
                        {"up_to": None, "unit_amount": "0.005", "flat_amount": "2.5"},
                    ],
                },
                {
                    "metric": "active_users",
                    "model": "package",
                    "package_size": "10",
                    "package_amount": "7.50",
                    "rounding": "down",
                },
            ],
        },
        {
            "id": "payments",
            "name": "Payments",
            "currency": "GBP",
            "interval": "month",
            "charges": [
                {
                    "metric": "payment_volume",
                    "model": "percentage",
                    "rate": "2.9",
                    "fixed_fee_per_event": "0.30",
                    "per_event_min": "0.50",
                    "per_event_max": "20",
                },
                {
                    "metric": "payout_volume",
                    "model": "graduated_percentage",
                    "tiers": [
                        {"up_to": "10000", "rate": "3", "flat_amount": "1"},
                        {"up_to": None, "rate": "2"},
                    ],
                },
            ],
        },
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

SAMPLE_PLANS = {"starter", "growth", "scale", "annual_enterprise", "weekly_dev", "calendar_team"}


def test_sample_configs_load_sorted_with_every_plan_in_four_currencies():
    configs = load_pricing_configs(SAMPLE_DIR)
    assert [(c.version, c.effective_from, c.source_file) for c in configs] == [
        ("2025-01", dt.date(2025, 1, 1), "pricing_configs/2025-01.yaml"),
        ("2026-01", dt.date(2026, 1, 1), "pricing_configs/2026-01.yaml"),
    ]
    for config in configs:
        assert {(p.id, p.currency) for p in config.plans} == {
            (plan_id, currency) for plan_id in SAMPLE_PLANS for currency in ("USD", "EUR", "GBP", "JPY")
        }
        plans = {plan.id: plan for plan in config.plans if plan.currency == "USD"}
        assert (plans["annual_enterprise"].interval, plans["annual_enterprise"].interval_count) == ("year", 1)
        assert plans["weekly_dev"].interval == "week"
        assert plans["calendar_team"].billing_time == "calendar"
        assert {m.code: m.aggregation for m in config.metrics} == {
            "api_calls": "sum",
            "compute_minutes": "sum",
            "storage_gb": "max",
            "active_users": "unique_count",
            "seats_in_use": "latest",
        }


def test_sample_configs_cover_every_feature_the_readme_promises():
    config = load_pricing_configs(SAMPLE_DIR)[0]
    charges = [charge for plan in config.plans for charge in plan.charges]
    assert {c.model for c in charges} == {"per_unit", "graduated", "volume", "package"}
    assert any(t.flat_amount > 0 for c in charges if c.model in ("graduated", "volume") for t in c.tiers)
    assert any(c.included_units > 0 for c in charges)
    by_id = {plan.id: plan for plan in config.plans if plan.currency == "USD"}
    assert by_id["weekly_dev"].base_fee.timing == "in_arrears"
    assert by_id["starter"].base_fee.timing == "in_advance"
    assert by_id["annual_enterprise"].proration == "by_day"
    assert by_id["scale"].minimum_spend == Decimal("500.00")
    assert (config.rounding, config.rounding_of(by_id["scale"]), config.rounding_of(by_id["growth"])) == (
        "half_up",
        "half_even",
        "half_up",
    )


def test_jpy_sample_fees_are_whole_yen():
    for config in load_pricing_configs(SAMPLE_DIR):
        for plan in config.plans:
            if plan.currency == "JPY":
                fees = [plan.base_fee_amount, plan.minimum_spend or Decimal(0)]
                fees += [getattr(c, "package_amount", Decimal(0)) for c in plan.charges]
                fees += [t.flat_amount for c in plan.charges for t in getattr(c, "tiers", [])]
                assert all(fee == fee.to_integral_value() for fee in fees), plan


def test_2026_raises_base_fees_over_2025():
    old, new = load_pricing_configs(SAMPLE_DIR)
    old_fees = {(p.id, p.currency): p.base_fee_amount for p in old.plans}
    raised = [p for p in new.plans if p.base_fee_amount > old_fees[(p.id, p.currency)]]
    assert len(raised) == len(new.plans) == 24


def test_dbt_rounds_to_ten_minor_units_the_same_currencies_as_the_reference():
    """fct_invoice_lines takes the list from a dbt var, the Python reference from currencies.py: they must agree."""
    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert set(project["vars"]["currencies_rounded_to_ten_minor_units"]) == ROUNDED_TO_TEN_MINOR_UNITS


def test_currency_is_upper_cased_and_minor_units_are_known(tmp_path):
    write_config(tmp_path / "pricing_configs", "2025-01.yaml", a_config())
    (config,) = load_pricing_configs(tmp_path / "pricing_configs")
    assert [plan.currency for plan in config.plans] == ["USD", "USD", "EUR", "GBP"]
    assert CURRENCY_MINOR_UNITS["JPY"] == CURRENCY_MINOR_UNITS["KRW"] == 0
    assert CURRENCY_MINOR_UNITS["BHD"] == CURRENCY_MINOR_UNITS["KWD"] == CURRENCY_MINOR_UNITS["JOD"] == 3
    assert CURRENCY_MINOR_UNITS["USD"] == CURRENCY_MINOR_UNITS["EUR"] == 2
    assert "XAU" not in ISO_4217_CODES


def test_same_plan_id_in_another_currency_is_a_separate_price(tmp_path):
    config = a_config()
    config["plans"].append({**copy.deepcopy(config["plans"][0]), "currency": "JPY"})
    config["plans"][-1]["base_fee"] = {"amount": "2900"}
    write_config(tmp_path / "pricing_configs", "2025-01.yaml", config)
    (loaded,) = load_pricing_configs(tmp_path / "pricing_configs")
    assert [(p.id, p.currency, p.base_fee_amount) for p in loaded.plans if p.id == "starter"] == [
        ("starter", "USD", Decimal("19.00")),
        ("starter", "JPY", Decimal("2900")),
    ]


# --- amounts are exact --------------------------------------------------------------------------------------


def test_unquoted_yaml_numbers_are_read_from_their_exact_text(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    text = yaml.safe_dump(a_config(), sort_keys=False)
    # 0.1 and 0.0125 have no exact binary float; written unquoted they must still be exactly 0.1 and 0.0125
    text = text.replace("unit_amount: '0.002'", "unit_amount: 0.0125").replace(
        "amount: '19.00'", "amount: 0.1"
    )
    pricing_dir.mkdir()
    (pricing_dir / "2025-01.yaml").write_text(text)
    (config,) = load_pricing_configs(pricing_dir)
    starter = config.plans[0]
    assert starter.base_fee.amount == Decimal("0.1")
    assert str(starter.charges[0].unit_amount) == "0.0125"


def test_yaml_numbers_that_are_not_plain_decimals_are_refused(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    pricing_dir.mkdir()
    text = yaml.safe_dump(a_config(), sort_keys=False).replace(
        "included_units: '1000'", "included_units: 010"
    )
    (pricing_dir / "2025-01.yaml").write_text(text)
    problem = only_problem(pricing_dir)
    assert problem.startswith("pricing_configs/2025-01.yaml: line ")
    assert "'010' is not a plain decimal number" in problem


def test_python_float_amount_is_refused_with_how_to_write_it():
    config = a_config()
    config["plans"][0]["base_fee"]["amount"] = 0.1
    with pytest.raises(ValidationError) as raised:
        PricingConfig.model_validate(config)
    problems = describe_validation_error("whatif.yaml", config, raised.value)
    assert problems == [
        "whatif.yaml: plan 'starter' (USD): field 'base_fee.amount': 0.1 is a binary floating-point number, "
        "which cannot hold most decimal amounts exactly; write it as text in quotes, e.g. '0.1'"
    ]


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


STARTER_API = ("plans", 0, "charges", 0)
GROWTH_TIERS = ("plans", 1, "charges", 0, "tiers")
ANNUAL = ("plans", 2)
PERCENTAGE = ("plans", 3, "charges", 0)
FILE = "pricing_configs/2025-01.yaml"

FILE_ERRORS = {
    "interval not allowed": (
        _set(("plans", 1, "interval"), "monthly"),
        f"{FILE}: plan 'growth' (USD): field 'interval': 'monthly' is not one of month, year, week",
    ),
    "unknown currency": (
        _set(("plans", 0, "currency"), "usx"),
        f"{FILE}: plan 'starter' (USX): field 'currency': 'usx' is not an ISO 4217 currency code",
    ),
    "missing currency": (
        _delete(("plans", 0, "currency")),
        f"{FILE}: plan 'starter': field 'currency': is required but missing",
    ),
    "interval_count below 1": (
        _set(("plans", 0, "interval_count"), 0),
        "plan 'starter' (USD): field 'interval_count': 0 must be a whole number of at least 1",
    ),
    "interval_count not whole": (
        _set(("plans", 0, "interval_count"), "1.5"),
        "plan 'starter' (USD): field 'interval_count': '1.5' must be a whole number",
    ),
    "billing_time not allowed": (
        _set(("plans", 0, "billing_time"), "fixed"),
        "plan 'starter' (USD): field 'billing_time': 'fixed' is not one of anniversary, calendar",
    ),
    "calendar billing every 5 months": (
        lambda c: c["plans"][0].update(interval_count=5, billing_time="calendar"),
        "plan 'starter' (USD): field 'billing_time': calendar billing needs interval_count 1, or a number of "
        "months that divides a year (2, 3, 4, 6 or 12: calendar quarters are interval month, interval_count 3), "
        "but it is every 5 months",
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
    "misspelt plan field": (
        _set(("plans", 2, "intervall"), "year"),
        "plan 'annual_enterprise' (EUR): field 'intervall': is not a known field (check the spelling)",
    ),
    "duplicate plan id in one currency": (
        _set(("plans", 1, "id"), "starter"),
        f"{FILE}: plan 'starter' (USD): field 'id': appears 2 times; a plan id may appear once per currency",
    ),
    "duplicate metric code": (
        lambda c: c["metrics"].append({**c["metrics"][0], "name": "Calls again"}),
        f"{FILE}: metric 'api_calls': field 'code': appears 2 times",
    ),
    "plan without id": (
        _delete(("plans", 1, "id")),
        f"{FILE}: plan #2 (USD): field 'id': is required but missing",
    ),
    "missing version": (
        _delete(("version",)),
        f"{FILE}: field 'version': is required but missing",
    ),
    "missing effective_from": (
        _delete(("effective_from",)),
        f"{FILE}: field 'effective_from': is required but missing",
    ),
    "effective_from not a date": (
        _set(("effective_from",), "first of January"),
        "field 'effective_from': 'first of January' is not a valid date (write it as YYYY-MM-DD)",
    ),
    "no plans": (
        _set(("plans",), []),
        f"{FILE}: field 'plans': must list at least one entry",
    ),
    "version rounding not allowed": (
        _set(("rounding",), "bankers"),
        f"{FILE}: field 'rounding': 'bankers' is not one of half_up, half_even, up, down",
    ),
    "plan rounding not allowed": (
        _set((*ANNUAL, "rounding"), "nearest"),
        "plan 'annual_enterprise' (EUR): field 'rounding': 'nearest' is not one of half_up, half_even, up, down",
    ),
    "proration not allowed": (
        _set((*ANNUAL, "proration"), "by_hour"),
        "plan 'annual_enterprise' (EUR): field 'proration': 'by_hour' is not one of by_second, by_day",
    ),
    "base fee timing not allowed": (
        _set((*ANNUAL, "base_fee", "timing"), "monthly"),
        "plan 'annual_enterprise' (EUR): field 'base_fee.timing': 'monthly' is not one of in_advance, in_arrears",
    ),
    "negative base fee": (
        _set(("plans", 0, "base_fee", "amount"), "-19"),
        f"{FILE}: plan 'starter' (USD): field 'base_fee.amount': '-19' must not be negative",
    ),
    "negative minimum spend": (
        _set((*ANNUAL, "minimum_spend"), "-1"),
        "plan 'annual_enterprise' (EUR): field 'minimum_spend': '-1' must not be negative",
    ),
    "amount is not a number": (
        _set(("plans", 0, "base_fee", "amount"), "$19"),
        "plan 'starter' (USD): field 'base_fee.amount': '$19' is not a number; write digits with '.' for "
        "decimals, e.g. '49.00' (no currency sign, no thousands separator)",
    ),
    "unknown charge model": (
        _set((*STARTER_API, "model"), "tiered"),
        f"{FILE}: plan 'starter' (USD): charge 'api_calls': field 'model': 'tiered' is not a charge model; use "
        "one of per_unit, graduated, volume, package, percentage, graduated_percentage",
    ),
    "charge without model": (
        _delete((*STARTER_API, "model")),
        f"{FILE}: plan 'starter' (USD): charge 'api_calls': field 'model': is required but missing; use one of",
    ),
    "field of another charge model": (
        _set((*STARTER_API, "tiers"), []),
        "plan 'starter' (USD): charge 'api_calls': field 'tiers': is not a known field (check the spelling); "
        "allowed fields: metric, included_units, model, unit_amount",
    ),
    "negative unit amount": (
        _set((*STARTER_API, "unit_amount"), "-0.002"),
        f"{FILE}: plan 'starter' (USD): charge 'api_calls': field 'unit_amount': '-0.002' must not be negative",
    ),
    "more than 12 decimal places": (
        _set((*STARTER_API, "unit_amount"), "0.0000000000001"),
        "plan 'starter' (USD): charge 'api_calls': field 'unit_amount': '0.0000000000001' has 13 decimal "
        "places; at most 12 are allowed",
    ),
    "unknown metric": (
        _set((*STARTER_API, "metric"), "api_cals"),
        f"{FILE}: plan 'starter' (USD): charge 'api_cals': field 'metric': 'api_cals' is not one of this "
        "version's metrics (active_users, api_calls, payment_volume, payout_volume)",
    ),
    "two charges for one metric": (
        lambda c: c["plans"][0]["charges"].append(copy.deepcopy(c["plans"][0]["charges"][0])),
        f"{FILE}: plan 'starter' (USD): charge 'api_calls': field 'metric': 2 charges for the same metric; a "
        "plan has at most one charge per metric",
    ),
    "tiers out of order": (
        _set((*GROWTH_TIERS, 1, "up_to"), "500"),
        f"{FILE}: plan 'growth' (USD): charge 'api_calls': field 'tiers': tier 2's up_to '500' must be above "
        "tier 1's up_to '1000'; tiers must be in increasing order without overlaps",
    ),
    "tiers overlapping": (
        _set((*GROWTH_TIERS, 1, "up_to"), "1000"),
        "charge 'api_calls': field 'tiers': tier 2's up_to '1000' must be above tier 1's up_to '1000'",
    ),
    "first tier up to 0": (
        _set((*GROWTH_TIERS, 0, "up_to"), "0"),
        "charge 'api_calls': field 'tiers': tier 1's up_to '0' must be above 0",
    ),
    "unbounded tier before the last": (
        _set((*GROWTH_TIERS, 1, "up_to"), None),
        "plan 'growth' (USD): charge 'api_calls': field 'tiers': tier 2 has no up_to (unbounded) but is not "
        "the last tier; only the last tier may be unbounded",
    ),
    "last tier bounded": (
        _set((*GROWTH_TIERS, 2, "up_to"), "9000"),
        "plan 'growth' (USD): charge 'api_calls': field 'tiers': the last tier (tier 3) has up_to '9000'; it "
        "must be unbounded (up_to: null)",
    ),
    "tier without up_to": (
        _delete((*GROWTH_TIERS, 2, "up_to")),
        "plan 'growth' (USD): charge 'api_calls': tier 3: field 'up_to': is required but missing",
    ),
    "negative flat amount in a tier": (
        _set((*GROWTH_TIERS, 0, "flat_amount"), "-5"),
        "plan 'growth' (USD): charge 'api_calls': tier 1: field 'flat_amount': '-5' must not be negative",
    ),
    "package size 0": (
        _set((*ANNUAL, "charges", 1, "package_size"), "0"),
        "plan 'annual_enterprise' (EUR): charge 'active_users': field 'package_size': '0' must be greater than 0",
    ),
    "package rounding not allowed": (
        _set((*ANNUAL, "charges", 1, "rounding"), "nearest"),
        "charge 'active_users': field 'rounding': 'nearest' is not one of up, down",
    ),
    "negative rate": (
        _set((*PERCENTAGE, "rate"), "-2.9"),
        "plan 'payments' (GBP): charge 'payment_volume': field 'rate': '-2.9' must not be negative",
    ),
    "per_event_min above per_event_max": (
        _set((*PERCENTAGE, "per_event_min"), "25"),
        "plan 'payments' (GBP): charge 'payment_volume': field 'per_event_max': '20' is below per_event_min "
        "'25'; the maximum must be at least the minimum",
    ),
    "included_units on a percentage charge": (
        _set((*PERCENTAGE, "included_units"), "100"),
        "plan 'payments' (GBP): charge 'payment_volume': field 'included_units': is not allowed on percentage "
        "charges",
    ),
    "included_units on a graduated_percentage charge": (
        _set(("plans", 3, "charges", 1, "included_units"), "0"),
        "plan 'payments' (GBP): charge 'payout_volume': field 'included_units': is not allowed on percentage "
        "charges",
    ),
    "graduated_percentage tier without rate": (
        _delete(("plans", 3, "charges", 1, "tiers", 0, "rate")),
        "plan 'payments' (GBP): charge 'payout_volume': tier 1: field 'rate': is required but missing",
    ),
}


@pytest.mark.parametrize("mutate, expected", FILE_ERRORS.values(), ids=FILE_ERRORS.keys())
def test_config_error_names_file_entry_and_field(tmp_path, mutate, expected):
    config = a_config()
    mutate(config)
    write_config(tmp_path / "pricing_configs", "2025-01.yaml", config)
    assert expected in only_problem(tmp_path / "pricing_configs")


def test_problems_of_many_charges_are_reported_together(tmp_path):
    config = a_config()
    config["plans"][0]["charges"][0]["metric"] = "api_cals"
    config["plans"][1]["charges"][0]["tiers"][2]["up_to"] = "10"
    config["plans"][2]["charges"][1]["package_size"] = "-1"
    config["plans"][3]["charges"][0]["per_event_max"] = "0.10"
    write_config(tmp_path / "pricing_configs", "2025-01.yaml", config)
    problems = load_problems(tmp_path / "pricing_configs")
    assert [problem.split(": field")[0] for problem in problems] == [
        f"{FILE}: plan 'starter' (USD): charge 'api_cals'",
        f"{FILE}: plan 'growth' (USD): charge 'api_calls'",
        f"{FILE}: plan 'annual_enterprise' (EUR): charge 'active_users'",
        f"{FILE}: plan 'payments' (GBP): charge 'payment_volume'",
    ]


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
    assert only_problem(pricing_dir) == (
        "pricing_configs/2026-01.yaml: plan 'growth' (USD): field 'interval': is 'year' in version '2026-01' "
        "(USD) but 'month' in version '2025-01' (USD) (pricing_configs/2025-01.yaml); a plan's interval must "
        "be the same in every version and currency, use a new plan id instead"
    )


def test_plan_billing_window_must_agree_across_currencies(tmp_path):
    config = a_config()
    config["plans"].append({**copy.deepcopy(config["plans"][2]), "currency": "JPY", "interval": "month"})
    write_config(tmp_path / "pricing_configs", "2025-01.yaml", config)
    assert only_problem(tmp_path / "pricing_configs").startswith(
        f"{FILE}: plan 'annual_enterprise' (JPY): field 'interval': is 'month' in version '2025-01' (JPY) but "
        f"'year' in version '2025-01' (EUR)"
    )


def test_base_fee_timing_cannot_change_between_versions(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    later = a_config("2026-01", dt.date(2026, 1, 1))
    later["plans"][0]["base_fee"]["timing"] = "in_arrears"
    write_config(pricing_dir, "2025-01.yaml", a_config())
    write_config(pricing_dir, "2026-01.yaml", later)
    assert only_problem(pricing_dir).startswith(
        "pricing_configs/2026-01.yaml: plan 'starter' (USD): field 'base_fee.timing': is 'in_arrears' in "
        "version '2026-01' (USD) but 'in_advance' in version '2025-01' (USD)"
    )


def test_prices_may_change_between_versions(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    later = a_config("2026-01", dt.date(2026, 1, 1))
    later["plans"][0]["base_fee"]["amount"] = "24.00"
    later["plans"][0]["charges"][0]["unit_amount"] = "0.0025"
    write_config(pricing_dir, "2025-01.yaml", a_config())
    write_config(pricing_dir, "2026-01.yaml", later)
    assert [c.plans[0].base_fee_amount for c in load_pricing_configs(pricing_dir)] == [
        Decimal("19.00"),
        Decimal("24.00"),
    ]


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
        "pricing_configs/2024-01.yaml: plan 'starter' (XXX1)",
        "pricing_configs/2026-01.yaml: plan 'growth' (USD)",
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


def test_yaml_anchors_and_merge_keys_share_plan_headers(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    pricing_dir.mkdir()
    (pricing_dir / "2025-01.yaml").write_text(
        'version: "2025-01"\neffective_from: 2025-01-01\n'
        "metrics: [{code: api_calls, name: API calls, aggregation: sum}]\n"
        "plans:\n"
        "  - &growth {id: growth, name: Growth, interval: month, currency: USD, base_fee: {amount: '49.00'}}\n"
        "  - {<<: *growth, currency: JPY, base_fee: {amount: '7400'}}\n"
    )
    (config,) = load_pricing_configs(pricing_dir)
    assert [(p.id, p.currency, p.interval, p.base_fee_amount) for p in config.plans] == [
        ("growth", "USD", "month", Decimal("49.00")),
        ("growth", "JPY", "month", Decimal("7400")),
    ]


BILLION_LAUGHS = (
    'version: "2025-01"\neffective_from: 2025-01-01\n'
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "metrics: *i\nplans: []\n"
)


def test_a_yaml_bomb_is_refused_fast_with_its_file_and_line(tmp_path):
    """Billion laughs: nine levels of nine aliases expand to 9^9 values; refused before anything walks them."""
    pricing_dir = tmp_path / "pricing_configs"
    pricing_dir.mkdir()
    (pricing_dir / "2025-01.yaml").write_text(BILLION_LAUGHS)
    started = time.perf_counter()
    problem = only_problem(pricing_dir)
    assert time.perf_counter() - started < 0.5
    assert problem.startswith("pricing_configs/2025-01.yaml: line ")
    assert "aliases" in problem and "100,000" in problem


def test_deeply_nested_yaml_is_a_problem_not_a_crash(tmp_path):
    pricing_dir = tmp_path / "pricing_configs"
    pricing_dir.mkdir()
    (pricing_dir / "2025-01.yaml").write_text("version: " + "[" * 5000 + "]" * 5000 + "\n")
    assert only_problem(pricing_dir).startswith("pricing_configs/2025-01.yaml: ")


# --- tables -------------------------------------------------------------------------------------------------


def table_rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database)) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def base_tables(tmp_path) -> Path:
    """The warehouse after writing a_config() as the actual scenario."""
    write_config(tmp_path / "pricing_configs", "2025-01.yaml", a_config())
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        counts = write_pricing_tables(con, load_pricing_configs(tmp_path / "pricing_configs"))
    assert counts == {
        "pricing_versions": 1,
        "pricing_plans": 4,
        "pricing_metrics": 4,
        "pricing_charges": 6,
        "pricing_charge_tiers": 7,
    }
    return database


D = Decimal
ACTUAL_2025 = ("actual", "2025-01")


def test_versions_and_plans_rows(base_tables):
    assert table_rows(base_tables, "select * from raw.pricing_versions") == [
        (*ACTUAL_2025, dt.date(2025, 1, 1), "half_up", FILE)
    ]
    assert table_rows(base_tables, "select * from raw.pricing_plans order by plan_id, currency") == [
        (*ACTUAL_2025, dt.date(2025, 1, 1), "annual_enterprise", "EUR", "Annual", "year", 1, "anniversary", 2,
         "half_even", "day", D("480"), "in_arrears", D("100"), FILE),
        (*ACTUAL_2025, dt.date(2025, 1, 1), "growth", "USD", "Growth", "month", 1, "anniversary", 2, "half_up",
         "second", D("0"), "in_advance", None, FILE),
        (*ACTUAL_2025, dt.date(2025, 1, 1), "payments", "GBP", "Payments", "month", 1, "anniversary", 2,
         "half_up", "second", D("0"), "in_advance", None, FILE),
        (*ACTUAL_2025, dt.date(2025, 1, 1), "starter", "USD", "Starter", "month", 1, "anniversary", 2,
         "half_up", "second", D("19.00"), "in_advance", None, FILE),
    ]  # fmt: skip


def test_charges_rows_keep_exact_decimals_and_null_unused_fields(base_tables):
    assert table_rows(base_tables, "select * from raw.pricing_charges order by plan_id, metric") == [
        (*ACTUAL_2025, "annual_enterprise", "EUR", "active_users", "package", D("0"), None, D("10"), D("7.50"),
         "down", None, None, None, None, None, None, FILE),
        (*ACTUAL_2025, "annual_enterprise", "EUR", "api_calls", "volume", D("10"), None, None, None, None, None,
         None, None, None, None, None, FILE),
        (*ACTUAL_2025, "growth", "USD", "api_calls", "graduated", D("0"), None, None, None, None, None, None,
         None, None, None, None, FILE),
        (*ACTUAL_2025, "payments", "GBP", "payment_volume", "percentage", D("0"), None, None, None, None,
         D("2.9"), D("0.30"), D("0.50"), D("20"), None, None, FILE),
        (*ACTUAL_2025, "payments", "GBP", "payout_volume", "graduated_percentage", D("0"), None, None, None,
         None, None, None, None, None, None, None, FILE),
        (*ACTUAL_2025, "starter", "USD", "api_calls", "per_unit", D("1000"), D("0.002"), None, None, None, None,
         None, None, None, None, None, FILE),
    ]  # fmt: skip
    # decimal(38, 12) holds a 12-place unit price exactly
    assert table_rows(
        base_tables, "select unit_amount::varchar from raw.pricing_charges where plan_id = 'starter'"
    ) == [("0.002000000000",)]


def test_tier_rows_carry_lower_bounds_and_defaults(base_tables):
    assert table_rows(base_tables, "select * from raw.pricing_charge_tiers order by plan_id, metric, tier_number") == [
        (*ACTUAL_2025, "annual_enterprise", "EUR", "api_calls", 1, D("0"), D("100"), D("0.01"), None, D("0")),
        (*ACTUAL_2025, "annual_enterprise", "EUR", "api_calls", 2, D("100"), None, D("0.005"), None, D("2.5")),
        (*ACTUAL_2025, "growth", "USD", "api_calls", 1, D("0"), D("1000"), D("0.001"), None, D("5")),
        (*ACTUAL_2025, "growth", "USD", "api_calls", 2, D("1000"), D("5000"), D("0.0008"), None, D("0")),
        (*ACTUAL_2025, "growth", "USD", "api_calls", 3, D("5000"), None, D("0.0005"), None, D("0")),
        (*ACTUAL_2025, "payments", "GBP", "payout_volume", 1, D("0"), D("10000"), None, D("3"), D("1")),
        (*ACTUAL_2025, "payments", "GBP", "payout_volume", 2, D("10000"), None, None, D("2"), D("0")),
    ]  # fmt: skip


def test_table_columns_are_the_contract(base_tables):
    columns = {
        table: [name for (name, *_) in table_rows(base_tables, f"describe raw.{table}")]
        for table in (
            "pricing_versions",
            "pricing_plans",
            "pricing_metrics",
            "pricing_charges",
            "pricing_charge_tiers",
        )
    }
    assert columns == {
        "pricing_versions": ["scenario", "pricing_version", "effective_from", "rounding_mode", "source_file"],
        "pricing_plans": ["scenario", "pricing_version", "effective_from", "plan_id", "currency", "plan_name",
                          "interval_unit", "interval_count", "billing_time", "minor_unit_digits", "rounding_mode",
                          "proration_unit", "base_fee_amount", "base_fee_timing", "minimum_spend_amount",
                          "source_file"],
        "pricing_metrics": ["scenario", "pricing_version", "metric", "metric_name", "aggregation",
                            "unique_property", "source_file"],
        "pricing_charges": ["scenario", "pricing_version", "plan_id", "currency", "metric", "charge_model",
                            "included_units", "unit_amount", "package_size", "package_amount", "package_rounding",
                            "rate", "fixed_fee_per_event", "per_event_min_amount", "per_event_max_amount",
                            "free_units_per_events", "free_units_per_total_aggregation", "source_file"],
        "pricing_charge_tiers": ["scenario", "pricing_version", "plan_id", "currency", "metric", "tier_number",
                                 "lower_bound", "up_to", "unit_amount", "rate", "flat_amount"],
    }  # fmt: skip


def test_sample_configs_write_one_row_per_plan_currency_and_version(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        counts = write_pricing_tables(con, load_pricing_configs(SAMPLE_DIR))
    assert counts["pricing_versions"] == 2
    assert counts["pricing_plans"] == 2 * 6 * 4
    assert counts["pricing_metrics"] == 2 * 5
    assert table_rows(
        database,
        "select currency, minor_unit_digits, base_fee_amount from raw.pricing_plans "
        "where pricing_version = '2026-01' and plan_id = 'growth' order by currency",
    ) == [("EUR", 2, D("55.00")), ("GBP", 2, D("47.00")), ("JPY", 0, D("8900")), ("USD", 2, D("59.00"))]


def test_a_what_if_scenario_is_written_beside_actual(base_tables, tmp_path):
    later = a_config("2026-01", dt.date(2026, 1, 1))
    later["plans"][0]["base_fee"]["amount"] = "29.00"
    write_config(tmp_path / "what_if", "2026-01.yaml", later)
    with duckdb.connect(str(base_tables)) as con:
        write_pricing_tables(con, load_pricing_configs(tmp_path / "what_if"), scenario="price_rise")
        write_pricing_tables(
            con, load_pricing_configs(tmp_path / "what_if"), scenario="price_rise"
        )  # replaces
    assert table_rows(
        base_tables,
        "select scenario, pricing_version, base_fee_amount, source_file from raw.pricing_plans "
        "where plan_id = 'starter' order by scenario",
    ) == [
        ("actual", "2025-01", D("19.00"), FILE),
        ("price_rise", "2026-01", D("29.00"), "what_if/2026-01.yaml"),
    ]
    assert table_rows(
        base_tables, "select scenario, count(*) from raw.pricing_charge_tiers group by 1 order by 1"
    ) == [
        ("actual", 7),
        ("price_rise", 7),
    ]


def test_tables_of_an_older_layout_are_replaced(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.pricing_plans (pricing_version varchar, plan_id varchar)")
        con.execute("insert into raw.pricing_plans values ('2024-01', 'old')")
        write_pricing_tables(con, load_pricing_configs(SAMPLE_DIR))
    assert table_rows(database, "select count(*), count(distinct scenario) from raw.pricing_plans") == [
        (48, 1)
    ]


def test_a_write_that_fails_leaves_the_previous_tables(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    configs = load_pricing_configs(SAMPLE_DIR)
    with duckdb.connect(str(database)) as con:
        write_pricing_tables(con, configs[:1])
        with pytest.raises(duckdb.ConstraintException):
            write_pricing_tables(con, [configs[1], configs[1]])  # same version twice: primary key violation
    assert table_rows(database, "select pricing_version from raw.pricing_versions") == [("2025-01",)]
    assert table_rows(database, "select count(*) from raw.pricing_plans") == [(24,)]
    assert table_rows(
        database, "select count(*) from raw.pricing_charge_tiers where pricing_version = '2026-01'"
    ) == [(0,)]


# --- the Dagster asset --------------------------------------------------------------------------------------

ALL_KEYS = {
    dg.AssetKey(["raw", table])
    for table in (
        "pricing_versions",
        "pricing_plans",
        "pricing_metrics",
        "pricing_charges",
        "pricing_charge_tiers",
    )
}


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
    by_key = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("pricing_tables")}
    assert set(by_key) == ALL_KEYS
    plans = by_key[dg.AssetKey(["raw", "pricing_plans"])]
    assert plans["plan_count"].value == 6
    assert plans["currencies"].value == ["EUR", "GBP", "JPY", "USD"]
    assert plans["dagster/row_count"].value == 48
    assert plans["versions"].value == "2025-01 (from 2025-01-01), 2026-01 (from 2026-01-01)"
    assert by_key[dg.AssetKey(["raw", "pricing_metrics"])]["metric_count"].value == 5
    charges = table_rows(database, "select count(*) from raw.pricing_charges")[0][0]
    assert by_key[dg.AssetKey(["raw", "pricing_charges"])]["dagster/row_count"].value == charges > 0
    assert table_rows(database, "select count(*) from raw.pricing_plans") == [(48,)]


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
    assert (
        "plan 'weekly_dev' (JPY): field 'interval': 'weekly' is not one of month, year, week"
        in failure.message
    )
    assert table_rows(database, "select distinct pricing_version from raw.pricing_plans order by 1") == [
        ("2025-01",),
        ("2026-01",),
    ]


def test_pricing_definitions_load_with_the_warehouse_resource():
    from dagster_billing.defs.pricing import assets
    from dagster_billing.defs.warehouse import resources

    defs = dg.Definitions.merge(assets.defs(), resources.defs())
    assert defs.resolve_asset_graph().get_all_asset_keys() == ALL_KEYS
    defs.resolve_implicit_global_asset_job_def()

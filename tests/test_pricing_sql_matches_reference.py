"""The dbt pricing SQL against the independent Python reference (dagster_billing.pricing.reference): named worked
examples from Stripe's and Lago's documentation, then random tiers, quantities, currencies and rounding modes
(hypothesis). Every comparison is on exact amounts and on the rounded minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pricing_sql_harness import PricingCase, PricingSql
from pricing_strategies import priced_cases
from test_pricing_reference import LAGO_VOLUME_TIERS, STRIPE_FLAT_TIERS, STRIPE_FONT_TIERS

from dagster_billing.pricing.currencies import rounding_increment
from dagster_billing.pricing.reference import Charge, Tier, price_charge, round_to_minor

D = Decimal


@pytest.fixture(scope="module")
def pricing_sql() -> PricingSql:
    return PricingSql()


def reference_lines(case: PricingCase) -> list[tuple]:
    lines = price_charge(case.charge, case.window_quantity, case.event_quantities)
    increment = rounding_increment(case.currency)  # KWD lines are rounded to 10 fils, as Stripe charges them
    return [
        (
            line.tier,
            line.quantity,
            line.amount,
            round_to_minor(line.amount, case.digits, case.mode, increment),
        )
        for line in lines
        # the invoice leaves off lines with neither quantity nor amount
        if line.quantity != 0 or line.amount != 0
    ]


LINE_LIMIT_MINOR = 10**11


def fits_well_below_the_line_limit(case: PricingCase) -> bool:
    return all(abs(minor) * 2 < LINE_LIMIT_MINOR for *_, minor in reference_lines(case))


def sql_lines(pricing_sql: PricingSql, cases: list[PricingCase]) -> list[list[tuple]]:
    return [
        [(line.tier, line.quantity, line.amount, line.amount_minor) for line in lines]
        for lines in pricing_sql.price(cases)
    ]


def usd(charge: Charge, quantity, events=()) -> PricingCase:
    return PricingCase(charge, D(quantity), tuple(D(e) for e in events), "USD", 2, "half_up")


LAGO_GRADUATED_PERCENTAGE_TIERS = (
    Tier(D(1000), rate=D(1), flat_amount=D(200)),
    Tier(D(10_000), rate=D(2), flat_amount=D(300)),
    Tier(None, rate=D(3), flat_amount=D(400)),
)

# (name, case, expected minor units per line): the documented figures, checked against the SQL directly.
DOCUMENTED_EXAMPLES = [
    ("stripe_volume_6_fonts", usd(Charge("volume", tiers=STRIPE_FONT_TIERS), 6), [3900]),
    ("stripe_volume_25_fonts", usd(Charge("volume", tiers=STRIPE_FONT_TIERS), 25), [15000]),
    ("stripe_graduated_6_fonts", usd(Charge("graduated", tiers=STRIPE_FONT_TIERS), 6), [3500, 650]),
    ("stripe_graduated_25_fonts", usd(Charge("graduated", tiers=STRIPE_FONT_TIERS), 25), [3500, 3250, 9000]),
    ("stripe_volume_flat_rate_12", usd(Charge("volume", tiers=STRIPE_FLAT_TIERS), 12), [6600]),
    (
        "stripe_graduated_flat_rate_12",
        usd(Charge("graduated", tiers=STRIPE_FLAT_TIERS), 12),
        [3500, 4000, 3600],
    ),
    ("stripe_volume_zero_bills_first_flat", usd(Charge("volume", tiers=STRIPE_FLAT_TIERS), 0), [1000]),
    ("stripe_graduated_zero_bills_first_flat", usd(Charge("graduated", tiers=STRIPE_FLAT_TIERS), 0), [1000]),
    ("lago_standard_1000_calls", usd(Charge("per_unit", unit_amount=D("0.05")), 1000), [5000]),
    (
        "lago_graduated_250_units",
        usd(
            Charge("graduated", tiers=(Tier(D(100), D(1)), Tier(D(200), D("0.50")), Tier(None, D("0.10")))),
            250,
        ),
        [10000, 5000, 500],
    ),
    ("lago_volume_65000_calls", usd(Charge("volume", tiers=LAGO_VOLUME_TIERS), 65_000), [4900]),
    (
        "lago_package_201_units_100_free",
        usd(Charge("package", included_units=D(100), package_size=D(100), package_amount=D(5)), 201),
        [1000],
    ),
    (
        "lago_percentage_1_2_pct_plus_fee",
        usd(Charge("percentage", rate=D("1.2"), fixed_fee_per_event=D("0.10")), 0, [50]),
        [70],
    ),
    (
        "lago_percentage_per_transaction_min_max",
        usd(
            Charge(
                "percentage",
                rate=D("2.9"),
                fixed_fee_per_event=D("0.30"),
                per_event_min=D("0.50"),
                per_event_max=D(20),
            ),
            0,
            [5, 100, 1000],
        ),
        [2370],
    ),
    (
        "lago_graduated_percentage_5050",
        usd(Charge("graduated_percentage", tiers=LAGO_GRADUATED_PERCENTAGE_TIERS), 5050),
        [21000, 38100],
    ),
]


@pytest.mark.parametrize(
    ("case", "expected_minor"),
    [pytest.param(case, minor, id=name) for name, case, minor in DOCUMENTED_EXAMPLES],
)
def test_documented_example_in_sql(pricing_sql, case, expected_minor):
    [lines] = sql_lines(pricing_sql, [case])
    assert [minor for *_, minor in lines] == expected_minor
    assert lines == reference_lines(case)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(priced_cases(), min_size=1, max_size=20))
def test_sql_pricing_matches_the_python_reference(pricing_sql, cases):
    cases = [
        PricingCase(c.charge, c.window_quantity, c.event_quantities, c.currency, c.digits, c.mode)
        for c in cases
    ]
    # A line above the 10^11 minor-unit limit is held with amount 0 (tests/test_invoice_held_for_huge_usage.py);
    # the strategies can reach it in KWD (10^7 units at 10^4 KWD). Near the limit the SQL decides on a
    # floating-point estimate, so cases within a factor of 2 of it are left to that test as well.
    cases = [case for case in cases if fits_well_below_the_line_limit(case)]
    assume(cases)
    assert sql_lines(pricing_sql, cases) == [reference_lines(case) for case in cases]

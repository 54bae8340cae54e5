"""The reference pricing (dagster_billing/pricing/reference.py) against the worked examples of the public docs it
follows, plus rounding and proration edge cases. Amounts are asserted exactly, in minor units."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pricing_strategies import (
    CURRENCIES,
    ROUNDING_MODES,
    graduated_tiers,
    priced_cases,
    quantities_for,
)

from dagster_billing.pricing.currencies import CURRENCY_MINOR_UNITS, rounding_increment
from dagster_billing.pricing.reference import (
    Charge,
    Tier,
    apply_included_units,
    minimum_spend_true_up,
    packages_in,
    percentage_free_units,
    price_charge,
    price_graduated,
    price_graduated_percentage,
    price_package,
    price_per_unit,
    price_percentage,
    price_volume,
    prorate_amount,
    prorate_fraction,
    round_to_minor,
)

D = Decimal
STRIPE_TIERED = "https://docs.stripe.com/subscriptions/pricing-models/tiered-pricing"
LAGO_MODELS = "https://getlago.com/docs/guide/plans/charges/charge-models"


def usd_cents(amount: Decimal) -> int:
    return round_to_minor(amount, 2, "half_up")


def total(lines) -> Decimal:
    return sum((line.amount for line in lines), D(0))


# --- Stripe: https://docs.stripe.com/subscriptions/pricing-models/tiered-pricing ---------------------------------

# "First tier 1-5: 7 USD, second tier 6-10: 6.5 USD, third tier 11+: 6 USD" (Typographic fonts)
STRIPE_FONT_TIERS = (Tier(D(5), D("7")), Tier(D(10), D("6.5")), Tier(None, D("6")))
# "Add a flat rate": 1-5 5 USD + 10 flat, 6-10 4 + 20, 10-15 3 + 30, 15-20 2 + 40, 20+ 1 + 50
STRIPE_FLAT_TIERS = (
    Tier(D(5), D(5), D(10)),
    Tier(D(10), D(4), D(20)),
    Tier(D(15), D(3), D(30)),
    Tier(D(20), D(2), D(40)),
    Tier(None, D(1), D(50)),
)


@pytest.mark.parametrize(("fonts", "cents"), [(1, 700), (5, 3500), (6, 3900), (20, 12000), (25, 15000)])
def test_stripe_volume_fonts_table(fonts: int, cents: int) -> None:
    """Stripe volume-based pricing table, "Quantity and usage at end of the period" (STRIPE_TIERED)."""
    assert usd_cents(price_volume(D(fonts), STRIPE_FONT_TIERS).amount) == cents


@pytest.mark.parametrize(("fonts", "cents"), [(1, 700), (5, 3500), (6, 4150), (20, 12750), (25, 15750)])
def test_stripe_graduated_fonts_table(fonts: int, cents: int) -> None:
    """Stripe graduated pricing table: "a customer with 6 fonts 41.5 USD" ... 25 fonts 157.5 USD (STRIPE_TIERED)."""
    assert usd_cents(total(price_graduated(D(fonts), STRIPE_FONT_TIERS))) == cents


def test_stripe_graduated_six_fonts_lines() -> None:
    """Stripe: "35 USD for the first 5 fonts and 6.5 USD for the 6th font": one line per entered tier."""
    lines = price_graduated(D(6), STRIPE_FONT_TIERS)
    assert [(line.tier, line.units, usd_cents(line.amount)) for line in lines] == [(1, 5, 3500), (2, 1, 650)]


def test_stripe_volume_flat_rate_example() -> None:
    """Stripe "Volume-based pricing flat rate example": 12 x 3 USD + 30 USD = 66 USD (STRIPE_TIERED)."""
    line = price_volume(D(12), STRIPE_FLAT_TIERS)
    assert (line.tier, usd_cents(line.amount)) == (3, 6600)


def test_stripe_graduated_flat_rate_example() -> None:
    """Stripe "Graduated pricing flat rate example": (5x5+10) + (5x4+20) + (2x3+30) = 111 USD (STRIPE_TIERED)."""
    lines = price_graduated(D(12), STRIPE_FLAT_TIERS)
    assert [usd_cents(line.amount) for line in lines] == [3500, 4000, 3600]
    assert usd_cents(total(lines)) == 11100


@pytest.mark.parametrize("price", [price_volume, price_graduated])
def test_stripe_zero_quantity_bills_first_flat_rate(price) -> None:
    """Stripe: "If quantity is 0, the total amount is 10 USD regardless of the tiered pricing model used"."""
    result = price(D(0), STRIPE_FLAT_TIERS)
    lines = result if isinstance(result, list) else [result]
    assert [(line.tier, usd_cents(line.amount)) for line in lines] == [(1, 1000)]


# --- Lago charge models: https://getlago.com/docs/guide/plans/charges/charge-models/<model> ------------------------


def test_lago_graduated_api_company() -> None:
    """Lago graduated (LAGO_MODELS/graduated): $1 for the first 100 units, $0.50 for the next 100, $0.10 beyond.
    The page gives no total; 250 units = 100 + 50 + 5 = $155 follows from its tiers."""
    tiers = (Tier(D(100), D(1)), Tier(D(200), D("0.50")), Tier(None, D("0.10")))
    lines = price_graduated(D(250), tiers)
    assert [(line.tier, line.units, usd_cents(line.amount)) for line in lines] == [
        (1, 100, 10000),
        (2, 100, 5000),
        (3, 50, 500),
    ]


LAGO_VOLUME_TIERS = (
    Tier(D(10_000), D("0.0010"), D(10)),
    Tier(D(50_000), D("0.0008"), D(10)),
    Tier(D(100_000), D("0.0006"), D(10)),
    Tier(None, D("0.0004"), D(10)),
)


def test_lago_volume_65000_api_calls() -> None:
    """Lago volume (LAGO_MODELS/volume): "65,000 API calls would cost 65,000 x $0.0006 + $10 = $49"."""
    line = price_volume(D(65_000), LAGO_VOLUME_TIERS)
    assert (line.tier, usd_cents(line.amount)) == (3, 4900)


def test_lago_package_with_free_units() -> None:
    """Lago package (LAGO_MODELS/package): "$5 per 100 units and offer the first 100 units ... 201 units would cost
    $0 (first 100 units) + $5 (next 100 units) + $5 (last unit) = $10". Free units are our included_units."""
    charge = Charge(
        "package", included_units=D(100), package_size=D(100), package_amount=D(5), package_rounding="up"
    )
    [line] = price_charge(charge, D(201))
    assert (line.quantity, usd_cents(line.amount)) == (2, 1000)


def test_lago_percentage_rate_and_fixed_fee() -> None:
    """Lago percentage (LAGO_MODELS/percentage): "$0.10 x 1 event + 1.2% of $50 = $0.70"."""
    assert usd_cents(price_percentage([D(50)], D("1.2"), D("0.10"))) == 70


def test_percentage_per_transaction_min_and_max() -> None:
    """Lago's per-transaction spending minimum and maximum (LAGO_MODELS/percentage; changelog
    https://getlago.com/changelog/minimum-maximum-price-per-transaction) clamp each event's fee; the window's
    line is the sum. 2.9 % + $0.30 with min $0.50 and max $20: a $5 payment pays 0.445 -> 0.50, a $100 payment
    3.20, a $1,000 payment 29.30 -> 20. The page has no worked numbers; these follow from the definitions."""
    fees = price_percentage([D(5), D(100), D(1000)], D("2.9"), D("0.30"), D("0.50"), D(20))
    assert fees == D("23.70")
    assert usd_cents(fees) == 2370


def test_percentage_without_events_is_zero() -> None:
    assert price_percentage([], D("2.9"), D("0.30"), D("0.50")) == 0


def test_lago_graduated_percentage_example() -> None:
    """Lago graduated percentage (LAGO_MODELS/graduated-percentage): tiers 0-1,000 1% + $200, 1,001-10,000 2% +
    $300, 10,001+ 3% + $400; transactions of $500, $550 and $4,000 cost $205 + $306 + $80. Priced on the window's
    total of $5,050, the same $591: 10 + 200 (tier 1) and 81 + 300 (tier 2)."""
    tiers = (
        Tier(D(1000), rate=D(1), flat_amount=D(200)),
        Tier(D(10_000), rate=D(2), flat_amount=D(300)),
        Tier(None, rate=D(3), flat_amount=D(400)),
    )
    lines = price_graduated_percentage(D(5050), tiers)
    assert [(line.tier, usd_cents(line.amount)) for line in lines] == [(1, 21000), (2, 38100)]
    assert usd_cents(total(lines)) == 59100
    # the first transaction alone: "(500 units x 1%) + $200 flat fee = $205.00"
    assert usd_cents(total(price_graduated_percentage(D(500), tiers))) == 20500


def test_lago_standard_per_unit() -> None:
    """Lago standard (LAGO_MODELS/standard): "$0.05 x 1,000 API calls = $50"."""
    assert usd_cents(price_per_unit(D(1000), D("0.05"))) == 5000


# --- contract rules beyond the doc examples ---------------------------------------------------------------------


def test_graduated_quantity_on_a_boundary_does_not_enter_the_next_tier() -> None:
    """up_to is inclusive: exactly 5 fonts stays in tier 1, so tier 2's flat amount is not owed."""
    lines = price_graduated(D(5), STRIPE_FLAT_TIERS)
    assert [(line.tier, usd_cents(line.amount)) for line in lines] == [(1, 3500)]
    assert price_volume(D(5), STRIPE_FLAT_TIERS).tier == 1
    assert price_volume(D("5.000000000001"), STRIPE_FLAT_TIERS).tier == 2


def test_graduated_decimal_quantity_in_a_tier() -> None:
    lines = price_graduated(D("5.5"), STRIPE_FLAT_TIERS)
    assert [(line.tier, line.units, line.amount) for line in lines] == [(1, 5, D(35)), (2, D("0.5"), D(22))]


def test_included_units_never_make_a_negative_quantity() -> None:
    assert apply_included_units(D(80), D(100)) == 0
    assert apply_included_units(D("100.5"), D(100)) == D("0.5")


def test_per_unit_with_twelve_decimal_unit_amount_is_exact() -> None:
    amount = price_per_unit(D("123456.789012"), D("0.000000012345"))
    assert amount == D("0.001524074060353140")  # 123456.789012 * 0.000000012345, every digit kept
    assert round_to_minor(amount, 2, "up") == 1
    assert round_to_minor(amount, 3, "half_up") == 2


@pytest.mark.parametrize(
    ("quantity", "rounding", "packages"),
    [
        (D(0), "up", 0),
        (D(100), "up", 1),
        (D("100.000000000001"), "up", 2),
        (D(199), "down", 1),
        (D(99), "down", 0),
    ],
)
def test_packages_round_up_or_down(quantity: Decimal, rounding: str, packages: int) -> None:
    assert packages_in(quantity, D(100), rounding) == packages
    assert price_package(quantity, D(100), D("5.00"), rounding) == packages * D(5)


def test_charge_rejects_included_units_on_percentage() -> None:
    with pytest.raises(ValueError, match="included_units"):
        price_charge(Charge("percentage", included_units=D(1), rate=D(1)), D(0), [D(1)])


def test_graduated_charge_applies_included_units_first() -> None:
    """Contract example: api_calls graduated with 1000 included; 101,000 calls -> 100,000 billable, all in tier 1
    (0.001 each + $5 flat) = $105."""
    charge = Charge(
        "graduated",
        included_units=D(1000),
        tiers=(Tier(D(100_000), D("0.001"), D(5)), Tier(None, D("0.0005"))),
    )
    lines = price_charge(charge, D(101_000))
    assert [(line.tier, line.quantity, usd_cents(line.amount)) for line in lines] == [(1, 100_000, 10500)]


def test_invalid_tier_tables_are_rejected() -> None:
    with pytest.raises(ValueError, match="last tier must be unbounded"):
        price_graduated(D(1), (Tier(D(5), D(1)),))
    with pytest.raises(ValueError, match="must be greater than"):
        price_volume(D(1), (Tier(D(5), D(1)), Tier(D(5), D(1)), Tier(None, D(1))))


def test_minimum_spend_true_up() -> None:
    """Lago minimum commitment: the difference is billed only when the usage charges fall short."""
    assert minimum_spend_true_up(D("63.2"), D(100)) == D("36.8")
    assert minimum_spend_true_up(D(100), D(100)) is None
    assert minimum_spend_true_up(D(150), D(100)) is None
    assert minimum_spend_true_up(D(150), None) is None


# --- rounding ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "mode", "cents"),
    [
        (D("0.005"), "half_up", 1),
        (D("-0.005"), "half_up", -1),  # the contract's example: ties away from zero on the signed amount
        (D("0.015"), "half_even", 2),
        (D("0.025"), "half_even", 2),
        (D("-0.025"), "half_even", -2),
        (D("0.0051"), "half_even", 1),
        (D("0.001"), "up", 1),
        (D("-0.001"), "up", -1),
        (D("0.009"), "down", 0),
        (D("-0.009"), "down", 0),
        (D("12.34"), "up", 1234),  # already whole cents: no mode changes it
        (D("0"), "up", 0),
    ],
)
def test_round_usd(amount: Decimal, mode: str, cents: int) -> None:
    assert round_to_minor(amount, 2, mode) == cents


@pytest.mark.parametrize(
    ("amount", "mode", "yen"),
    [
        (D("2.5"), "half_up", 3),
        (D("2.5"), "half_even", 2),
        (D("3.5"), "half_even", 4),
        (D("-2.5"), "half_up", -3),
    ],
)
def test_round_jpy_zero_digits(amount: Decimal, mode: str, yen: int) -> None:
    assert round_to_minor(amount, 0, mode) == yen


@pytest.mark.parametrize(
    ("amount", "mode", "fils"),
    [
        (D("1.2345"), "half_up", 1235),
        (D("1.2345"), "half_even", 1234),
        (D("1.2341"), "up", 1235),
        (D("-1.2349"), "down", -1234),
    ],
)
def test_round_kwd_three_digits(amount: Decimal, mode: str, fils: int) -> None:
    assert round_to_minor(amount, 3, mode) == fils


@pytest.mark.parametrize(
    ("amount", "mode", "fils"),
    [
        # Stripe's example: "5.124 KWD must be rounded to 5120 or 5130"
        (D("5.124"), "half_up", 5120),
        (D("5.125"), "half_up", 5130),
        (D("5.125"), "half_even", 5120),
        (D("5.135"), "half_even", 5140),
        (D("5.121"), "up", 5130),
        (D("5.129"), "down", 5120),
        (D("-5.125"), "half_up", -5130),
        (D("-5.121"), "up", -5130),
        (D("5.120"), "up", 5120),
    ],
)
def test_round_kwd_to_ten_fils_as_stripe_charges_it(amount: Decimal, mode: str, fils: int) -> None:
    assert round_to_minor(amount, 3, mode, rounding_increment("KWD")) == fils


def test_only_stripes_three_decimal_currencies_round_to_ten_minor_units() -> None:
    assert {code for code in CURRENCY_MINOR_UNITS if rounding_increment(code) == 10} == {
        "BHD",
        "JOD",
        "KWD",
        "OMR",
        "TND",
    }
    # IQD and LYD have three ISO digits too, but Stripe does not charge in them: rounded to the fils
    assert rounding_increment("IQD") == rounding_increment("USD") == rounding_increment("JPY") == 1


def test_rounding_rejects_floats_and_unknown_modes() -> None:
    with pytest.raises(TypeError, match="never float"):
        round_to_minor(0.1, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown rounding mode"):
        round_to_minor(D(1), 2, "bankers")
    with pytest.raises(ValueError, match="increment must be >= 1"):
        round_to_minor(D(1), 3, "half_up", 0)


@given(st.sampled_from(ROUNDING_MODES), st.sampled_from(CURRENCIES), st.integers(-(10**9), 10**9))
def test_rounding_is_odd_symmetric_and_exact_on_whole_minor_units(mode, currency, minor) -> None:
    """Every mode acts on the magnitude (round(-x) = -round(x)) and leaves whole minor amounts unchanged."""
    code, digits = currency
    increment = rounding_increment(code)
    amount = Decimal(minor * increment).scaleb(-digits)
    assert round_to_minor(amount, digits, mode, increment) == minor * increment
    nudged = amount + Decimal(increment).scaleb(-digits - 1) * 5  # a tie
    assert round_to_minor(-nudged, digits, mode, increment) == -round_to_minor(
        nudged, digits, mode, increment
    )
    assert round_to_minor(nudged, digits, mode, increment) % increment == 0


# --- proration --------------------------------------------------------------------------------------------------


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args)


def test_prorate_by_second_half_of_a_utc_month() -> None:
    """Stripe (https://docs.stripe.com/billing/scripts/prorations): "Stripe calculates proration down to the
    second". UTC has no DST: 2025-03-16 12:00 to 2025-04-01 is 15.5 of March's 31 days = 1/2."""
    fraction = prorate_fraction(
        utc(2025, 3, 16, 12), utc(2025, 4, 1), utc(2025, 3, 1), utc(2025, 4, 1), "second"
    )
    assert fraction == Fraction(1, 2)
    assert usd_cents(prorate_amount(D("49.00"), fraction)) == 2450


def test_prorate_by_second_counts_clock_seconds() -> None:
    """Instants are truncated to their second, as DuckDB's date_diff('second', ...) counts boundaries."""
    fraction = prorate_fraction(
        dt.datetime(2025, 1, 1, 0, 0, 0, 900_000),
        utc(2025, 1, 1, 0, 0, 2),
        utc(2025, 1, 1),
        utc(2025, 1, 2),
        "second",
    )
    assert fraction == Fraction(2, 86_400)


def test_prorate_by_day_lago_sign_up_counts_the_first_day() -> None:
    """Lago (https://getlago.com/docs/guide/subscriptions/assign-plan): "signs up ... on August 10th. There are 22
    days left until the end of the month, including August 10th ... 22 days x $50 / 31 days = $35.48". A sign-up
    late on August 10th still counts that whole day."""
    fraction = prorate_fraction(
        utc(2025, 8, 10, 17, 45), utc(2025, 9, 1), utc(2025, 8, 1), utc(2025, 9, 1), "day"
    )
    assert fraction == Fraction(22, 31)
    assert usd_cents(prorate_amount(D(50), fraction)) == 3548


def test_prorate_by_day_lago_upgrade_day_belongs_to_the_new_plan() -> None:
    """Lago (https://getlago.com/docs/guide/subscriptions/upgrades-downgrades): upgrade on January 15th from Plan A
    (100/month, in arrears): "Invoice for Plan A: 14 days prorated = €45.16 (14/31 × €100)". Plan B (200/month)
    then covers the other 17 days: 17/31 x 200 = 109.68 (derived: the page's figure for B is not quoted here)."""
    jan, upgrade, feb = utc(2025, 1, 1), utc(2025, 1, 15, 9, 30), utc(2025, 2, 1)
    old = prorate_fraction(jan, upgrade, jan, feb, "day")
    new = prorate_fraction(upgrade, feb, jan, feb, "day")
    assert (old, new) == (Fraction(14, 31), Fraction(17, 31))
    assert [usd_cents(prorate_amount(D(100), old)), usd_cents(prorate_amount(D(200), new))] == [4516, 10968]


def test_prorate_by_day_lago_counts_the_termination_day() -> None:
    """Lago counts days inclusively and one day less only for an upgrade (lago-api
    `Subscription#date_diff_with_timezone`), so the day a subscription is terminated is used. A quarterly plan at
    91.00 over Q1 2024 (91 days): terminated on Mar 31 -> 91/91, nothing credited; terminated on Feb 15 -> 46/91
    used, 45/91 = 45.00 credited (a plan change on Feb 15 would leave 45 days used)."""
    q1, q2 = utc(2024, 1, 1), utc(2024, 4, 1)
    last_day = prorate_fraction(q1, utc(2024, 3, 31, 10), q1, q2, "day", ends_in_termination=True)
    mid = prorate_fraction(q1, utc(2024, 2, 15, 14), q1, q2, "day", ends_in_termination=True)
    changed = prorate_fraction(q1, utc(2024, 2, 15, 14), q1, q2, "day")
    assert (last_day, mid, changed) == (Fraction(91, 91), Fraction(46, 91), Fraction(45, 91))
    assert usd_cents(prorate_amount(D(91), 1 - mid)) == 4500
    assert prorate_fraction(q1, q2, q1, q2, "day", ends_in_termination=True) == 1


def test_prorate_leap_february() -> None:
    """February 2024 has 29 days: ten days from Feb 20 are 10/29 by day and by second."""
    args = (utc(2024, 2, 20), utc(2024, 3, 1), utc(2024, 2, 1), utc(2024, 3, 1))
    assert prorate_fraction(*args, "day") == Fraction(10, 29)
    assert prorate_fraction(*args, "second") == Fraction(10, 29)
    assert prorate_amount(D("49.00"), Fraction(10, 29)) == D(
        "16.896551724137931034"
    )  # truncated at 18 decimals


def test_prorate_by_day_in_a_local_zone_ignores_dst() -> None:
    """A New York customer's March (local midnights, stored in UTC) has 31 days but 31 x 24 - 1 hours: by day a
    half month is 15/31 exactly, by second it is not."""
    period_start, period_end = utc(2025, 3, 1, 5), utc(2025, 4, 1, 4)  # local midnights (EST, then EDT)
    change = utc(2025, 3, 17, 4)  # local midnight of March 17 (EDT)
    by_day = prorate_fraction(change, period_end, period_start, period_end, "day", "America/New_York")
    by_second = prorate_fraction(change, period_end, period_start, period_end, "second", "America/New_York")
    assert by_day == Fraction(15, 31)
    assert by_second == Fraction(15 * 86_400, 31 * 86_400 - 3600)


def test_prorate_credit_truncates_toward_zero() -> None:
    assert prorate_amount(D("-49.00"), Fraction(10, 29)) == D("-16.896551724137931034")
    assert usd_cents(prorate_amount(D("-49.00"), Fraction(10, 29))) == -1690


# --- the hypothesis strategies themselves ----------------------------------------------------------------------


@given(st.data())
def test_graduated_lines_add_up_to_the_whole_quantity(data) -> None:
    """Graduated units over the entered tiers sum to the quantity, and pricing is monotone in the quantity."""
    tiers = data.draw(graduated_tiers())
    quantity = data.draw(quantities_for(tiers))
    lines = price_graduated(quantity, tiers)
    assert sum(line.units for line in lines) == quantity
    assert lines[0].tier == 1 and [line.tier for line in lines] == list(range(1, len(lines) + 1))
    bigger = quantity + D("0.000000000001")
    assert total(price_graduated(bigger, tiers)) >= total(lines)


@given(priced_cases())
def test_every_drawn_case_prices_exactly_within_the_warehouse_types(case) -> None:
    """No drawn charge makes the exact context round (it would raise Inexact), and every line fits the contract's
    `amount decimal(38, 26)`: at most 26 decimals and 12 integer digits."""
    lines = price_charge(case.charge, case.window_quantity, case.event_quantities)
    assert lines
    for line in lines:
        exponent = line.amount.as_tuple().exponent
        assert -exponent <= 26 and abs(line.amount) < 10**12
        round_to_minor(line.amount, case.digits, case.mode, rounding_increment(case.currency))


# --- Lago's percentage options with zero, few and many events (2 %, events in occurred_at order) -----------------

PERCENTAGE_OPTIONS = {
    # name: (keyword arguments, {events: cents})
    "free_units_per_events": (
        {"fixed_fee_per_event": D("0.30"), "free_events": 2},
        {(): 0, (10, 20): 0, (10, 20, 30, 40, 50): 330},
    ),
    "free_units_per_total_aggregation": (
        {"fixed_fee_per_event": D("0.30"), "free_amount": D(25)},
        {(): 0, (10,): 0, (10, 20, 30, 40): 240},
    ),
    "both_free_units": (
        {"fixed_fee_per_event": D("0.30"), "free_events": 1, "free_amount": D(25)},
        {(): 0, (10,): 0, (10, 20, 30, 40): 270},
    ),
    "fixed_fee_per_transaction": (
        {"fixed_fee_per_event": D("0.30")},
        {(): 0, (10,): 50, (10, 20, 30): 210},
    ),
    "per_transaction_minimum": (
        {"per_event_min": D("0.50")},
        {(): 0, (10,): 50, (10, 50, 100): 350},
    ),
    "per_transaction_maximum": (
        {"per_event_max": D("1.00")},
        {(): 0, (10,): 20, (10, 50, 100): 220},
    ),
}


@pytest.mark.parametrize("option", list(PERCENTAGE_OPTIONS))
def test_percentage_options_with_zero_few_and_many_events(option: str) -> None:
    kwargs, cases = PERCENTAGE_OPTIONS[option]
    for events, cents in cases.items():
        amount = price_percentage([D(q) for q in events], D(2), **kwargs)
        assert usd_cents(amount) == cents, (option, events)


def test_free_units_rate_only_the_part_above_the_free_amount() -> None:
    """25 free: the event that crosses it is rated on its part above (30 - 25 = 5 of 20), and pays the fixed fee."""
    assert percentage_free_units([D(10), D(20), D(30)], free_amount=D(25)) == [
        (D(0), True),
        (D(5), False),
        (D(30), False),
    ]

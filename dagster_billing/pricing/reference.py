"""Reference pricing: the charge semantics of /work/contracts.md ("Charge semantics", "Money and rounding") as
plain Python over exact decimals. It is the spec in code: the dbt pricing models are property-tested against it
(tests/pricing_strategies.py) and the pandas benchmark (bench/pandas_pricing.py) prices through it.

Rules kept everywhere in this module:
- Amounts are `decimal.Decimal` in MAJOR units; no float ever enters. Arithmetic runs in a local context of
  60 significant digits with `Inexact` trapped, so an operation that would have to round raises instead of
  silently losing a digit (config values have at most 12 decimals; products of two fit easily).
- Nothing is rounded until `round_to_minor`, which each invoice line's exact amount goes through once.
- Prorations are rational (49.00 * 10 / 31): `prorate_fraction` returns an exact `Fraction` and
  `prorate_amount` truncates the product toward zero at 18 decimals, as the contract's `amount` column does.
Sources for every choice (Stripe and Lago documentation) are in DECISIONLOG.md ("Charge models", "Pricing and invoices").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from zoneinfo import ZoneInfo

PRECISION = 60
PRORATION_DECIMALS = 18
ZERO = Decimal(0)
HUNDRED = Decimal(100)

# Signed-amount rounding modes of the contract -> decimal module constants. Python's ROUND_HALF_UP rounds ties
# away from zero and ROUND_UP/ROUND_DOWN are away from / toward zero, which is exactly the contract's meaning.
ROUNDING_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "up": ROUND_UP,
    "down": ROUND_DOWN,
}
PACKAGE_ROUNDINGS = ("up", "down")
PRORATION_UNITS = ("second", "day")


def _exact() -> localcontext:
    """A context in which every operation must be exact: rounding anywhere before round_to_minor is a bug."""
    return localcontext(Context(prec=PRECISION, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow]))


def _dec(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):  # a float has already lost the decimal the config said
        raise TypeError(f"amounts must be Decimal, int or str, never float (got {value!r})")
    return value if isinstance(value, Decimal) else Decimal(value)


# --- rounding --------------------------------------------------------------------------------------------------


def round_to_minor(amount: Decimal, minor_unit_digits: int, mode: str = "half_up", increment: int = 1) -> int:
    """`amount` (major units, exact) as an integer number of minor units, rounded once with `mode` to a multiple
    of `increment` minor units (10 for Stripe's three-decimal currencies, see currencies.rounding_increment).

    Modes act on the signed amount: half_up = ties away from zero (-0.005 USD -> -1 cent), half_even = ties to
    the even neighbour, up = away from zero, down = toward zero.
    """
    if mode not in ROUNDING_MODES:
        raise ValueError(f"unknown rounding mode {mode!r}; expected one of {', '.join(ROUNDING_MODES)}")
    if minor_unit_digits < 0:
        raise ValueError(f"minor_unit_digits must be >= 0, got {minor_unit_digits}")
    if increment < 1:
        raise ValueError(f"increment must be >= 1, got {increment}")
    with _exact():
        scaled = _dec(amount).scaleb(minor_unit_digits) / increment
    # quantize signals Inexact on purpose here; this is the one place rounding is allowed
    with localcontext(Context(prec=PRECISION, traps=[InvalidOperation])):
        return int(scaled.quantize(Decimal(1), rounding=ROUNDING_MODES[mode])) * increment


# --- tiers -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """One row of a tier table. `up_to` is inclusive (None = unbounded, only on the last tier); the tier's lower
    bound is the previous tier's `up_to` (0 for the first), exclusive. `rate` is a percentage (2.9 = 2.9 %) and
    is used by graduated_percentage instead of `unit_amount`."""

    up_to: Decimal | None
    unit_amount: Decimal = ZERO
    flat_amount: Decimal = ZERO
    rate: Decimal | None = None


@dataclass(frozen=True)
class TierLine:
    """One invoice line of a tiered charge: `units` priced at `unit_price` (a unit amount, or rate / 100 for
    graduated_percentage) plus `flat_amount`; `amount` is exact, not rounded."""

    tier: int
    units: Decimal
    unit_price: Decimal
    flat_amount: Decimal
    amount: Decimal


def validate_tiers(tiers: Sequence[Tier]) -> None:
    """Tiers must be non-empty, with strictly increasing positive bounds and only the last one unbounded."""
    if not tiers:
        raise ValueError("a tiered charge needs at least one tier")
    if tiers[-1].up_to is not None:
        raise ValueError("the last tier must be unbounded (up_to: null)")
    lower = ZERO
    for number, tier in enumerate(tiers[:-1], start=1):
        if tier.up_to is None:
            raise ValueError(f"tier {number}: only the last tier may be unbounded")
        if tier.up_to <= lower:
            raise ValueError(f"tier {number}: up_to {tier.up_to} must be greater than {lower}")
        lower = tier.up_to


def tier_bounds(tiers: Sequence[Tier]) -> list[tuple[int, Decimal, Decimal | None]]:
    """(tier number, exclusive lower bound, inclusive upper bound or None) per tier."""
    validate_tiers(tiers)
    lowers = [ZERO, *(tier.up_to for tier in tiers[:-1])]
    return [
        (number, lower, tier.up_to)
        for number, (lower, tier) in enumerate(zip(lowers, tiers, strict=True), start=1)
    ]


def _graduated(quantity: Decimal, tiers: Sequence[Tier], unit_price_of) -> list[TierLine]:
    """Every entered tier: units inside it at its own price plus its flat amount. A tier is entered when the
    quantity exceeds its lower bound; tier 1 always is, so a zero quantity still owes tier 1's flat amount."""
    quantity = _check_quantity(quantity)
    lines = []
    with _exact():
        for (number, lower, up_to), tier in zip(tier_bounds(tiers), tiers, strict=True):
            if number > 1 and quantity <= lower:
                break
            top = quantity if up_to is None else min(quantity, up_to)
            units = max(top - lower, ZERO)
            unit_price = unit_price_of(tier)
            flat = _dec(tier.flat_amount)
            lines.append(TierLine(number, units, unit_price, flat, units * unit_price + flat))
    return lines


def price_graduated(quantity: Decimal, tiers: Sequence[Tier]) -> list[TierLine]:
    """Graduated (Stripe `tiers_mode=graduated`, Lago `graduated`): one line per entered tier."""
    return _graduated(quantity, tiers, lambda tier: _dec(tier.unit_amount))


def price_graduated_percentage(total: Decimal, tiers: Sequence[Tier]) -> list[TierLine]:
    """Lago `graduated_percentage`: graduated tiers over the summed amount, each tier's units at `rate` percent,
    plus the flat amount of every tier entered."""

    def rate_of(tier: Tier) -> Decimal:
        if tier.rate is None:
            raise ValueError("every graduated_percentage tier needs a rate")
        return _dec(tier.rate) / HUNDRED  # exact: dividing by 100 only moves the decimal point

    return _graduated(total, tiers, rate_of)


def price_volume(quantity: Decimal, tiers: Sequence[Tier]) -> TierLine:
    """Volume (Stripe `tiers_mode=volume`, Lago `volume`): every unit at the price of the tier the quantity falls
    in (lower < q <= up_to; tier 1 when q = 0) plus only that tier's flat amount. One line."""
    quantity = _check_quantity(quantity)
    for (number, lower, up_to), tier in zip(tier_bounds(tiers), tiers, strict=True):
        if (number == 1 and quantity == 0) or (lower < quantity and (up_to is None or quantity <= up_to)):
            unit_price, flat = _dec(tier.unit_amount), _dec(tier.flat_amount)
            with _exact():
                return TierLine(number, quantity, unit_price, flat, quantity * unit_price + flat)
    raise AssertionError("unreachable: the last tier is unbounded")


# --- other charge models ---------------------------------------------------------------------------------------


def apply_included_units(window_quantity: Decimal, included_units: Decimal = ZERO) -> Decimal:
    """Billable quantity: the window's quantity less the units included in the plan, never below zero."""
    with _exact():
        return max(_check_quantity(window_quantity) - _dec(included_units), ZERO)


def price_per_unit(quantity: Decimal, unit_amount: Decimal) -> Decimal:
    """Per unit (Stripe per-unit price, Lago `standard`): quantity * unit_amount."""
    with _exact():
        return _check_quantity(quantity) * _dec(unit_amount)


def packages_in(quantity: Decimal, package_size: Decimal, rounding: str = "up") -> int:
    """Whole packages in `quantity`: a started package counts (up, Lago's rule) or only full ones (down)."""
    if rounding not in PACKAGE_ROUNDINGS:
        raise ValueError(f"package rounding must be 'up' or 'down', got {rounding!r}")
    size = _dec(package_size)
    if size <= 0:
        raise ValueError(f"package_size must be positive, got {size}")
    ratio = Fraction(_check_quantity(quantity)) / Fraction(size)
    whole = ratio.numerator // ratio.denominator
    return whole + 1 if rounding == "up" and whole != ratio else whole


def price_package(
    quantity: Decimal, package_size: Decimal, package_amount: Decimal, rounding: str = "up"
) -> Decimal:
    """Package (Stripe `transform_quantity`, Lago `package`): packages_in(...) * package_amount."""
    with _exact():
        return packages_in(quantity, package_size, rounding) * _dec(package_amount)


def percentage_fee(
    event_quantity: Decimal,
    rate: Decimal,
    fixed_fee_per_event: Decimal | None = None,
    per_event_min: Decimal | None = None,
    per_event_max: Decimal | None = None,
    rated_quantity: Decimal | None = None,
    fixed_fee_waived: bool = False,
) -> Decimal:
    """One event's fee: quantity * rate / 100 + fixed fee, then raised to the minimum and capped at the maximum
    (the cap wins if a config sets min > max, as least(greatest(fee, min), max) does). With free units the rate
    applies to `rated_quantity` (the part of the event above the free amount) and the fixed fee can be waived; an
    event entirely free (nothing rated, no fixed fee) pays 0, unclamped."""
    with _exact():
        quantity = _check_quantity(event_quantity)
        rated = quantity if rated_quantity is None else _dec(rated_quantity)
        if rated == 0 and fixed_fee_waived and rated_quantity is not None:
            return ZERO
        fixed = ZERO if fixed_fee_waived else _dec(fixed_fee_per_event or ZERO)
        fee = rated * _dec(rate) / HUNDRED + fixed
        if per_event_min is not None:
            fee = max(fee, _dec(per_event_min))
        if per_event_max is not None:
            fee = min(fee, _dec(per_event_max))
        return fee


def percentage_free_units(
    event_quantities: Sequence[Decimal], free_events: int | None = None, free_amount: Decimal | None = None
) -> list[tuple[Decimal, bool]]:
    """Lago's percentage free units, per event in occurred_at order: (the part of the event the rate applies to,
    whether its fixed fee is waived). `free_units_per_events` N: the first N events are free of the rate and of the
    fixed fee. `free_units_per_total_aggregation` A: the first A of the window's summed amount is free of the rate,
    and an event whose running total stays below A pays no fixed fee. Both: the free amount is the smaller of A
    and the first N events' total, and an event is free of the fixed fee when it is among the first N and its
    running total is below A (lago-api Charges::ChargeModels::PercentageService#free_units_value and
    #free_units_count)."""
    with _exact():
        quantities = [_check_quantity(q) for q in event_quantities]
        running, total = [], ZERO
        for quantity in quantities:
            total += quantity
            running.append(total)
        n = free_events or 0
        if not quantities or (n == 0 and free_amount is None):
            return [(q, False) for q in quantities]
        first_n_total = running[min(n, len(running)) - 1] if n else running[-1]
        free_value = first_n_total if free_amount is None else min(_dec(free_amount), first_n_total)
        result = []
        for index, (quantity, running_total) in enumerate(zip(quantities, running, strict=True)):
            before = running_total - quantity
            rated = max(ZERO, running_total - max(before, free_value))
            within_events = n == 0 or index < n
            below_amount = free_amount is None or running_total < _dec(free_amount)
            result.append((rated, within_events and below_amount))
        return result


def price_percentage(
    event_quantities: Iterable[Decimal],
    rate: Decimal,
    fixed_fee_per_event: Decimal | None = None,
    per_event_min: Decimal | None = None,
    per_event_max: Decimal | None = None,
    free_events: int | None = None,
    free_amount: Decimal | None = None,
) -> Decimal:
    """Lago `percentage`: the exact sum of every billable event's clamped fee (no event, no fee). Events come in
    occurred_at order (ties by event_id) when free units are set (see percentage_free_units)."""
    quantities = list(event_quantities)
    with _exact():
        if not free_events and free_amount is None:
            return sum(
                (
                    percentage_fee(quantity, rate, fixed_fee_per_event, per_event_min, per_event_max)
                    for quantity in quantities
                ),
                ZERO,
            )
        return sum(
            (
                percentage_fee(
                    quantity, rate, fixed_fee_per_event, per_event_min, per_event_max, rated, waived
                )
                for quantity, (rated, waived) in zip(
                    quantities, percentage_free_units(quantities, free_events, free_amount), strict=True
                )
            ),
            ZERO,
        )


def minimum_spend_true_up(charges_total: Decimal, minimum: Decimal | None) -> Decimal | None:
    """The true-up line's amount when the window's unrounded usage charges fall short of the minimum, else None
    (no line). Lago's minimum commitment on usage."""
    if minimum is None:
        return None
    with _exact():
        shortfall = _dec(minimum) - _dec(charges_total)
    return shortfall if shortfall > 0 else None


# --- one charge, end to end ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """A plan's charge on one metric, with the fields of the contract's YAML (`raw.pricing_charges` plus tiers)."""

    model: str  # per_unit | graduated | volume | package | percentage | graduated_percentage
    included_units: Decimal = ZERO
    unit_amount: Decimal | None = None
    tiers: tuple[Tier, ...] = ()
    package_size: Decimal | None = None
    package_amount: Decimal | None = None
    package_rounding: str = "up"
    rate: Decimal | None = None
    fixed_fee_per_event: Decimal | None = None
    per_event_min: Decimal | None = None
    per_event_max: Decimal | None = None
    free_units_per_events: int | None = None
    free_units_per_total_aggregation: Decimal | None = None


@dataclass(frozen=True)
class ChargeLine:
    """One usage line: `tier` is None unless tiered; `quantity` is what the line bills (billable units,
    packages, units in the tier, or the summed event quantity for percentage); `amount` exact."""

    tier: int | None
    quantity: Decimal
    amount: Decimal


def price_charge(
    charge: Charge, window_quantity: Decimal, event_quantities: Sequence[Decimal] = ()
) -> list[ChargeLine]:
    """The usage lines of one charge for one customer x window x subscription x metric. `window_quantity` is the
    metric's aggregate over the window; `event_quantities` (the window's billable events) only matter for the
    percentage model, which prices each event."""
    if charge.model == "percentage":
        if charge.included_units:
            raise ValueError("included_units is not allowed on percentage charges")
        with _exact():
            summed = sum((_dec(q) for q in event_quantities), ZERO)
        amount = price_percentage(
            event_quantities,
            charge.rate,
            charge.fixed_fee_per_event,
            charge.per_event_min,
            charge.per_event_max,
            charge.free_units_per_events,
            charge.free_units_per_total_aggregation,
        )
        return [ChargeLine(None, summed, amount)]
    if charge.model == "graduated_percentage":
        if charge.included_units:
            raise ValueError("included_units is not allowed on graduated_percentage charges")
        return [_tier_line(line) for line in price_graduated_percentage(window_quantity, charge.tiers)]
    quantity = apply_included_units(window_quantity, charge.included_units)
    if charge.model == "per_unit":
        return [ChargeLine(None, quantity, price_per_unit(quantity, charge.unit_amount))]
    if charge.model == "package":
        packages = packages_in(quantity, charge.package_size, charge.package_rounding)
        amount = price_package(quantity, charge.package_size, charge.package_amount, charge.package_rounding)
        return [ChargeLine(None, Decimal(packages), amount)]
    if charge.model == "graduated":
        return [_tier_line(line) for line in price_graduated(quantity, charge.tiers)]
    if charge.model == "volume":
        return [_tier_line(price_volume(quantity, charge.tiers))]
    raise ValueError(f"unknown charge model {charge.model!r}")


def _tier_line(line: TierLine) -> ChargeLine:
    return ChargeLine(line.tier, line.units, line.amount)


# --- proration -------------------------------------------------------------------------------------------------


def prorate_fraction(
    segment_start: dt.datetime,
    segment_end: dt.datetime,
    period_start: dt.datetime,
    period_end: dt.datetime,
    unit: str,
    timezone: str = "UTC",
    ends_in_termination: bool = False,
) -> Fraction:
    """The share of the period [period_start, period_end) that the segment [segment_start, segment_end) covers.

    Naive datetimes are UTC instants (as the warehouse stores them); aware ones are converted.
    - 'second' (Stripe: "calculates proration down to the second"): whole seconds of each interval, each instant
      truncated to its second, so covered / total are integers of elapsed clock seconds. A DST day is 23 or 25 h.
    - 'day' (Lago: "calculated on a pro rata basis according to the number of days"): whole local calendar days
      in `timezone`: days = local date of the end - local date of the start. So the day a segment starts on
      counts fully for it, however late it starts (Lago: sign-up on August 10th -> 22 of 31 days, "including
      August 10th"), and the day it ends on belongs to the next segment (Lago: upgrade on January 15th -> 14
      days on the old plan). A segment that ends because its subscription was terminated (`ends_in_termination`,
      inside the period) counts its last day as used: Lago counts days inclusively and one day less only for an
      upgrade (lago-api `Subscription#date_diff_with_timezone`). DST does not change a day count.
    """
    if unit == "second":
        covered, total = _seconds(segment_start, segment_end), _seconds(period_start, period_end)
    elif unit == "day":
        covered = _local_days(segment_start, segment_end, timezone)
        if ends_in_termination and segment_end < period_end:
            covered += 1
        total = _local_days(period_start, period_end, timezone)
    else:
        raise ValueError(f"proration unit must be one of {', '.join(PRORATION_UNITS)}, got {unit!r}")
    if total <= 0:
        raise ValueError(f"the period {period_start} -> {period_end} is empty")
    if covered < 0:
        raise ValueError(f"the segment {segment_start} -> {segment_end} ends before it starts")
    return Fraction(covered, total)


def prorate_amount(amount: Decimal, fraction: Fraction) -> Decimal:
    """`amount * fraction` truncated toward zero at 18 decimals (the contract's precision for prorations)."""
    exact = Fraction(_dec(amount)) * fraction
    scaled = exact * 10**PRORATION_DECIMALS
    truncated = scaled.numerator // scaled.denominator
    if truncated < 0 and truncated * scaled.denominator != scaled.numerator:
        truncated += 1  # floor division went away from zero; truncate toward it
    with _exact():
        return Decimal(truncated).scaleb(-PRORATION_DECIMALS)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _utc(instant: dt.datetime) -> dt.datetime:
    return instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant


def _seconds(start: dt.datetime, end: dt.datetime) -> int:
    """Elapsed whole clock seconds: second boundaries crossed, like DuckDB's date_diff('second', ...)."""
    second = dt.timedelta(seconds=1)
    return (_utc(end) - _EPOCH) // second - (_utc(start) - _EPOCH) // second


def _local_days(start: dt.datetime, end: dt.datetime, timezone: str) -> int:
    zone = ZoneInfo(timezone)
    return (_utc(end).astimezone(zone).date() - _utc(start).astimezone(zone).date()).days


def _check_quantity(quantity: Decimal) -> Decimal:
    quantity = _dec(quantity)
    if quantity < 0 or not quantity.is_finite():
        raise ValueError(f"quantities are finite and >= 0, got {quantity}")
    return quantity

"""Hypothesis strategies for pricing inputs, to compare the SQL pricing against dagster_billing.pricing.reference.

Values stay inside the warehouse's types: config decimals are `decimal(38, 12)` (at most 12 decimals), and a line
amount is `decimal(38, 26)` (12 integer digits), so quantities stay below 10^7 and unit amounts below 10^4.
Typical use:

    @given(priced_cases())
    def test_sql_matches_reference(case): ...   # case.model, case.tiers, case.quantity, case.digits, case.mode
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import strategies as st

from dagster_billing.pricing.reference import Charge, Tier

MAX_DECIMALS = 12
STEP = Decimal(1).scaleb(-MAX_DECIMALS)  # the smallest config increment
CURRENCIES = (("USD", 2), ("JPY", 0), ("KWD", 3))
ROUNDING_MODES = ("half_up", "half_even", "up", "down")
TIERED_MODELS = ("graduated", "volume", "graduated_percentage")


def decimals(
    max_value: int, max_places: int = MAX_DECIMALS, min_value: int = 0
) -> st.SearchStrategy[Decimal]:
    """Exact decimals in [min_value, max_value] with 0..max_places decimals (more short ones than long)."""

    def build(places: int) -> st.SearchStrategy[Decimal]:
        scale = 10**places
        return st.integers(min_value * scale, max_value * scale).map(lambda n: Decimal(n).scaleb(-places))

    return st.integers(0, max_places).flatmap(build)


def unit_amounts() -> st.SearchStrategy[Decimal]:
    """Unit prices in major units with up to 12 decimals, zero included (a free tier)."""
    return st.one_of(st.just(Decimal(0)), decimals(1000), decimals(1, MAX_DECIMALS))


def flat_amounts() -> st.SearchStrategy[Decimal]:
    """Flat fees are optional: mostly 0, else up to 10,000 with up to 4 decimals."""
    return st.one_of(st.just(Decimal(0)), decimals(10_000, 4))


def rates() -> st.SearchStrategy[Decimal]:
    """Percentages (2.9 = 2.9 %), up to 100 with up to 6 decimals."""
    return decimals(100, 6)


@st.composite
def tier_bounds(draw, max_tiers: int = 5) -> list[Decimal]:
    """Strictly increasing finite upper bounds (the last tier, unbounded, is added by the caller)."""
    count = draw(st.integers(0, max_tiers - 1))
    bounds = draw(st.lists(decimals(1_000_000, 4, min_value=0), min_size=count, max_size=count, unique=True))
    return sorted(bound for bound in bounds if bound > 0)


@st.composite
def tier_tables(draw, model: str = "graduated", max_tiers: int = 5) -> tuple[Tier, ...]:
    """Ordered tiers, the last unbounded, flat fees optional; graduated_percentage tiers carry a rate."""
    bounds = [*draw(tier_bounds(max_tiers)), None]
    tiers = []
    for up_to in bounds:
        flat = draw(flat_amounts())
        if model == "graduated_percentage":
            tiers.append(Tier(up_to, flat_amount=flat, rate=draw(rates())))
        else:
            tiers.append(Tier(up_to, unit_amount=draw(unit_amounts()), flat_amount=flat))
    return tuple(tiers)


def graduated_tiers() -> st.SearchStrategy[tuple[Tier, ...]]:
    return tier_tables("graduated")


def quantities() -> st.SearchStrategy[Decimal]:
    """Any window quantity: 0, whole numbers, decimals with up to 12 places."""
    return st.one_of(st.just(Decimal(0)), st.integers(0, 10_000_000).map(Decimal), decimals(2_000_000))


def quantities_for(tiers: tuple[Tier, ...]) -> st.SearchStrategy[Decimal]:
    """Quantities that hit the tier edges: 0, exactly a bound, one increment either side, or anything."""
    edges = [tier.up_to for tier in tiers if tier.up_to is not None]
    near = [edge + delta for edge in edges for delta in (-STEP, STEP) if edge + delta >= 0]
    special = [Decimal(0), *edges, *near]
    return st.one_of(st.sampled_from(special), quantities())


def currencies() -> st.SearchStrategy[tuple[str, int]]:
    """(currency, minor_unit_digits): USD 2, JPY 0, KWD 3."""
    return st.sampled_from(CURRENCIES)


def rounding_modes() -> st.SearchStrategy[str]:
    return st.sampled_from(ROUNDING_MODES)


def event_quantities() -> st.SearchStrategy[list[Decimal]]:
    """The billable events of one window for a percentage charge (transaction amounts, up to 6 decimals)."""
    return st.lists(decimals(100_000, 6), max_size=20)


@st.composite
def charges(draw, model: str | None = None) -> Charge:
    """A charge of any model, with the contract's optional fields drawn; included_units only where allowed."""
    model = model or draw(
        st.sampled_from(["per_unit", "package", "percentage", "graduated", "volume", "graduated_percentage"])
    )
    included = Decimal(0)
    if model not in ("percentage", "graduated_percentage"):
        included = draw(st.one_of(st.just(Decimal(0)), decimals(10_000, 2)))
    if model == "per_unit":
        return Charge(model, included, unit_amount=draw(unit_amounts()))
    if model == "package":
        return Charge(
            model,
            included,
            package_size=draw(decimals(1000, 2, min_value=1)),
            package_amount=draw(decimals(1000, 4)),
            package_rounding=draw(st.sampled_from(["up", "down"])),
        )
    if model == "percentage":
        optional = st.one_of(st.none(), decimals(50, 4))
        return Charge(
            model,
            rate=draw(rates()),
            fixed_fee_per_event=draw(optional),
            per_event_min=draw(optional),
            per_event_max=draw(optional),
            # Lago's free units: the first events, and the first amount of the window's total
            free_units_per_events=draw(st.one_of(st.none(), st.integers(0, 4))),
            free_units_per_total_aggregation=draw(st.one_of(st.none(), decimals(500, 2))),
        )
    return Charge(model, included, tiers=draw(tier_tables(model)))


@dataclass(frozen=True)
class PricedCase:
    """One input for the SQL-vs-reference comparison: a charge, the window's quantity and events, a currency."""

    charge: Charge
    window_quantity: Decimal
    event_quantities: tuple[Decimal, ...]
    currency: str
    digits: int
    mode: str


@st.composite
def priced_cases(draw, model: str | None = None) -> PricedCase:
    charge = draw(charges(model))
    if charge.tiers:
        window_quantity = draw(quantities_for(charge.tiers))
    else:
        window_quantity = draw(quantities())
    currency, digits = draw(currencies())
    return PricedCase(
        charge, window_quantity, tuple(draw(event_quantities())), currency, digits, draw(rounding_modes())
    )

"""The usage charges of a plan, one model per pricing scheme, told apart by their `model` field.

The schemes follow Stripe prices and Lago charge models: `per_unit`, `graduated` and `volume` tiers with flat
fees, `package`, and `percentage` / `graduated_percentage` of an amount-like metric. Each model forbids the
fields of the others, so `tiers` on a per_unit charge is an error instead of an ignored setting. How each model
turns a window's quantity into money is written down once, in /work/contracts.md "Charge semantics" and the
README; this module only guarantees the inputs make sense.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from dagster_billing.pricing.config_amounts import Amount, NonNegativeDecimal, PositiveDecimal
from dagster_billing.pricing.config_base import Code, ConfigModel


class AmountTier(ConfigModel):
    """A graduated or volume tier: units up to `up_to` (null = no upper bound) cost `unit_amount` each."""

    up_to: NonNegativeDecimal | None
    unit_amount: Amount = Decimal(0)
    flat_amount: Amount = Decimal(0)


class RateTier(ConfigModel):
    """A graduated_percentage tier: the amount up to `up_to` is charged `rate` percent."""

    up_to: NonNegativeDecimal | None
    rate: NonNegativeDecimal
    flat_amount: Amount = Decimal(0)


def tier_order_problem(tiers: list[AmountTier] | list[RateTier]) -> str | None:
    """Tiers are consecutive ranges from 0: each up_to above the previous one, only the last without one."""
    previous = Decimal(0)
    for number, tier in enumerate(tiers, start=1):
        is_last = number == len(tiers)
        if tier.up_to is None and not is_last:
            return (
                f"tier {number} has no up_to (unbounded) but is not the last tier; only the last tier may be "
                f"unbounded"
            )
        if tier.up_to is None:
            return None
        if tier.up_to <= previous:
            below = "0" if number == 1 else f"tier {number - 1}'s up_to '{previous}'"
            return (
                f"tier {number}'s up_to '{tier.up_to}' must be above {below}; tiers must be in increasing "
                f"order without overlaps"
            )
        previous = tier.up_to
    return (
        f"the last tier (tier {len(tiers)}) has up_to '{previous}'; it must be unbounded (up_to: null) so "
        f"every quantity falls in a tier"
    )


def _checked_tiers(tiers):
    problem = tier_order_problem(tiers)
    if problem:
        raise ValueError(problem)
    return tiers


class ChargeBase(ConfigModel):
    metric: Code


class UnitsCharge(ChargeBase):
    """A charge on a unit count, where the first `included_units` of every window are free."""

    included_units: NonNegativeDecimal = Decimal(0)


class PerUnitCharge(UnitsCharge):
    model: Literal["per_unit"]
    unit_amount: Amount


class GraduatedCharge(UnitsCharge):
    model: Literal["graduated"]
    tiers: Annotated[list[AmountTier], Field(min_length=1)]

    _tiers_in_order = field_validator("tiers")(_checked_tiers)


class VolumeCharge(UnitsCharge):
    model: Literal["volume"]
    tiers: Annotated[list[AmountTier], Field(min_length=1)]

    _tiers_in_order = field_validator("tiers")(_checked_tiers)


class PackageCharge(UnitsCharge):
    model: Literal["package"]
    package_size: PositiveDecimal
    package_amount: Amount
    rounding: Literal["up", "down"] = "up"


def _no_included_units(value: Decimal | None) -> Decimal | None:
    # Declared (instead of left to extra="forbid") so the message says why, not just "unknown field".
    if value is not None:
        raise ValueError(
            "is not allowed on percentage charges: the fee is a share of each amount; for free units use "
            "free_units_per_events or free_units_per_total_aggregation (Lago's), or remove the field"
        )
    return value


class PercentageCharge(ChargeBase):
    """`rate` percent of every event's quantity plus a fixed fee, clamped to [per_event_min, per_event_max]."""

    model: Literal["percentage"]
    included_units: NonNegativeDecimal | None = None
    rate: NonNegativeDecimal
    fixed_fee_per_event: Amount | None = None
    per_event_min: Amount | None = None
    per_event_max: Amount | None = None
    # Lago's free units: the window's first N events, and the first amount of its total (see DECISIONLOG.md)
    free_units_per_events: Annotated[int, Field(ge=0, strict=True)] | None = None
    free_units_per_total_aggregation: Amount | None = None

    _included_units_refused = field_validator("included_units")(_no_included_units)

    @field_validator("per_event_max")
    @classmethod
    def _max_not_below_min(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        minimum = info.data.get("per_event_min")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError(
                f"'{value}' is below per_event_min '{minimum}'; the maximum must be at least the minimum"
            )
        return value


class GraduatedPercentageCharge(ChargeBase):
    model: Literal["graduated_percentage"]
    included_units: NonNegativeDecimal | None = None
    tiers: Annotated[list[RateTier], Field(min_length=1)]

    _included_units_refused = field_validator("included_units")(_no_included_units)
    _tiers_in_order = field_validator("tiers")(_checked_tiers)


Charge = Annotated[
    PerUnitCharge
    | GraduatedCharge
    | VolumeCharge
    | PackageCharge
    | PercentageCharge
    | GraduatedPercentageCharge,
    Field(discriminator="model"),
]

#: Charge model name -> its class, in the order the README lists them.
CHARGE_CLASSES: dict[str, type[ChargeBase]] = {
    "per_unit": PerUnitCharge,
    "graduated": GraduatedCharge,
    "volume": VolumeCharge,
    "package": PackageCharge,
    "percentage": PercentageCharge,
    "graduated_percentage": GraduatedPercentageCharge,
}

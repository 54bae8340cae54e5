"""Pricing-config amounts are at most 10^11 major units (MAX_AMOUNT): the pricing SQL computes prices, flat amounts,
per-event bounds and minimums exactly outside its per-line check, safe only below that (issue 12)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from dagster_billing.pricing.config_amounts import MAX_AMOUNT
from dagster_billing.pricing.config_charges import PercentageCharge, PerUnitCharge


def test_the_maximum_amount_is_accepted_and_above_it_is_refused_with_the_limit():
    assert (
        PerUnitCharge(metric="api_calls", model="per_unit", unit_amount="100000000000").unit_amount
        == MAX_AMOUNT
    )
    with pytest.raises(
        ValidationError, match=r"'100000000000.01' is above the maximum amount 100,000,000,000"
    ):
        PerUnitCharge(metric="api_calls", model="per_unit", unit_amount="100000000000.01")


@pytest.mark.parametrize("field", ["fixed_fee_per_event", "per_event_min", "per_event_max"])
def test_per_event_amounts_are_bounded_too(field):
    with pytest.raises(ValidationError, match="above the maximum amount"):
        PercentageCharge(metric="payments", model="percentage", rate="1", **{field: str(MAX_AMOUNT * 10)})
    assert PercentageCharge(
        metric="payments", model="percentage", rate="1", **{field: "0.5"}
    ).rate == Decimal(1)

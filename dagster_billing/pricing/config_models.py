"""The shape of one pricing config file (`pricing_configs/<version>.yaml`), validated by pydantic.

Every model forbids unknown fields so a misspelt key (`intervall`, `unique_propery`) is an error instead of a
silently ignored setting. Rules that involve two fields of one plan or metric are field validators reading the
fields declared before them (`info.data`), so the error is reported on the field a person has to change.

A plan is identified by `(id, currency)`: like a Stripe product with one price per currency, the same plan id
appears once per currency it is sold in, and a subscription's plan is resolved in its customer's currency.
Rules that need the whole file (a charge's metric is one of the version's metrics, one charge per metric) are
checked on the raw file data in `file_rules`, so they are reported even when other fields are wrong.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, StringConstraints, ValidationInfo, field_validator

from dagster_billing.pricing.config_amounts import Amount
from dagster_billing.pricing.config_base import Code, ConfigModel, DisplayName
from dagster_billing.pricing.config_charges import Charge
from dagster_billing.pricing.currencies import ISO_4217_CODES

IntervalUnit = Literal["month", "year", "week"]
BillingTime = Literal["anniversary", "calendar"]
Aggregation = Literal["sum", "count", "max", "unique_count", "latest"]
#: How a line's exact amount becomes minor units: half_up (ties away from zero), half_even (banker's), up (away
#: from zero), down (toward zero); applied to the signed amount.
RoundingMode = Literal["half_up", "half_even", "up", "down"]
Proration = Literal["by_second", "by_day"]
PRORATION_UNITS = {"by_second": "second", "by_day": "day"}


class Metric(ConfigModel):
    """A billable metric: which usage events count (`code` = the events' `metric`) and how they aggregate."""

    code: Code
    name: DisplayName
    aggregation: Aggregation
    unique_property: Code | None = Field(default=None, validate_default=True)

    @field_validator("unique_property")
    @classmethod
    def _unique_property_only_for_unique_count(cls, value: str | None, info: ValidationInfo) -> str | None:
        aggregation = info.data.get("aggregation")
        if aggregation is None:  # aggregation itself is invalid; that error is already reported
            return value
        if aggregation == "unique_count" and value is None:
            raise ValueError("is required when aggregation is unique_count (the event property to count)")
        if aggregation != "unique_count" and value is not None:
            raise ValueError(f"is only allowed with aggregation unique_count, not {aggregation}")
        return value


class BaseFee(ConfigModel):
    """The recurring fee per seat (subscription quantity), billed at the start or at the end of each window."""

    amount: Amount
    timing: Literal["in_advance", "in_arrears"] = "in_advance"


class Plan(ConfigModel):
    """A plan in one currency: what subscriptions reference (`id`), how its windows recur and what it charges."""

    id: Code
    name: DisplayName
    currency: str
    interval: IntervalUnit
    interval_count: Annotated[int, Field(ge=1, strict=True)] = 1
    billing_time: BillingTime = "anniversary"
    proration: Proration = "by_second"
    rounding: RoundingMode | None = None
    base_fee: BaseFee | None = None
    minimum_spend: Amount | None = None
    charges: list[Charge] = []

    @field_validator("currency", mode="before")
    @classmethod
    def _iso_4217_currency(cls, value: object) -> object:
        if not isinstance(value, str):
            return value  # pydantic reports the wrong type
        code = value.strip().upper()
        if code not in ISO_4217_CODES:
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. USD, EUR, JPY)")
        return code

    @field_validator("billing_time")
    @classmethod
    def _calendar_only_on_calendar_periods(cls, value: str, info: ValidationInfo) -> str:
        # As Lago: calendar billing cuts windows at calendar boundaries: weeks, months, years, and the months'
        # groups that divide a year (Lago's quarterly and semiannual plans: every 3 or 6 months from January 1).
        # "Every 5 months, calendar" or "every 2 weeks, calendar" has no unambiguous start.
        interval_count = info.data.get("interval_count")
        interval = info.data.get("interval")
        if value != "calendar" or interval_count is None or interval_count == 1:
            return value
        if interval == "month" and 12 % interval_count == 0:
            return value
        raise ValueError(
            "calendar billing needs interval_count 1, or a number of months that divides a year (2, 3, 4, 6 or "
            f"12: calendar quarters are interval month, interval_count 3), but it is every {interval_count} "
            f"{interval}s"
        )

    @property
    def base_fee_timing(self) -> str:
        """The fee's timing, `in_advance` when the plan has no base fee."""
        return self.base_fee.timing if self.base_fee else "in_advance"

    @property
    def base_fee_amount(self) -> Decimal:
        return self.base_fee.amount if self.base_fee else Decimal(0)


class PricingConfig(ConfigModel):
    """One pricing version: the plans and metrics in force from `effective_from` until the next version."""

    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    effective_from: dt.date
    rounding: RoundingMode = "half_up"
    metrics: list[Metric]
    plans: Annotated[list[Plan], Field(min_length=1)]

    _source_file: str = PrivateAttr(default="")

    @property
    def source_file(self) -> str:
        """Path of the YAML file, relative to the pricing folder's parent (`pricing_configs/2025-01.yaml`)."""
        return self._source_file

    def rounding_of(self, plan: Plan) -> str:
        """The plan's own rounding mode, else the version's."""
        return plan.rounding or self.rounding

    @classmethod
    def from_file_data(cls, data: object, source_file: str) -> PricingConfig:
        config = cls.model_validate(data)
        config._source_file = source_file
        return config

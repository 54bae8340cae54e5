"""The shape of one pricing config file (`pricing_configs/<version>.yaml`), validated by pydantic.

Every model forbids unknown fields so a misspelt key (`intervall`, `unique_propery`) is an error instead of a
silently ignored setting. Rules that involve two fields of one plan or metric are field validators reading the
fields declared before them (`info.data`), so the error is reported on the field a person has to change.

Charges are not modelled yet: `Plan` is where `base_fee` and `charges` will be added, and
`PricingConfig.metrics` is what a charge's `metric` will be checked against.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from dagster_billing.pricing.currencies import ISO_4217_CODES

IntervalUnit = Literal["month", "year", "week"]
BillingTime = Literal["anniversary", "calendar"]
Aggregation = Literal["sum", "count", "max", "unique_count", "latest"]


# Ids and codes are matched against subscriptions and usage events, so stray spaces would never match.
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^\S+$")]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Plan(ConfigModel):
    """A plan header: what subscriptions reference (`id`) and how its billing windows recur."""

    id: Code
    name: DisplayName
    currency: str
    interval: IntervalUnit
    interval_count: Annotated[int, Field(ge=1, strict=True)] = 1
    billing_time: BillingTime = "anniversary"

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
    def _calendar_only_every_single_interval(cls, value: str, info: ValidationInfo) -> str:
        # As Lago: calendar billing cuts windows at month/year/week boundaries, which only lines up with a
        # single interval; "every 3 months, calendar" has no unambiguous start.
        interval_count = info.data.get("interval_count")
        if value == "calendar" and interval_count is not None and interval_count != 1:
            raise ValueError(
                f"calendar billing needs interval_count 1, but interval_count is {interval_count}"
            )
        return value


class PricingConfig(ConfigModel):
    """One pricing version: the plans and metrics in force from `effective_from` until the next version."""

    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    effective_from: dt.date
    metrics: list[Metric]
    plans: Annotated[list[Plan], Field(min_length=1)]

    _source_file: str = PrivateAttr(default="")

    @property
    def source_file(self) -> str:
        """Path of the YAML file, relative to the pricing folder's parent (`pricing_configs/2025-01.yaml`)."""
        return self._source_file

    @classmethod
    def from_file_data(cls, data: object, source_file: str) -> PricingConfig:
        config = cls.model_validate(data)
        config._source_file = source_file
        return config

"""Rules between pricing versions: each version is one point on a timeline, and a plan or metric keeps the
meaning it had before.

A plan's billing window (interval, interval_count, billing_time) must not change between versions: windows
of a running subscription are cut from it, so a change would re-cut history. A metric's aggregation must not
change either, or the same events would bill differently depending on the version. Such a change is a new
plan id or a new metric code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel

from dagster_billing.pricing.config_errors import show
from dagster_billing.pricing.config_models import PricingConfig

PLAN_FIXED_FIELDS = ("interval", "interval_count", "billing_time")
METRIC_FIXED_FIELDS = ("aggregation", "unique_property")


def cross_version_problems(configs: Iterable[PricingConfig]) -> list[str]:
    timeline = sorted(configs, key=lambda config: (config.effective_from, config.source_file))
    return [
        *_unique_across_files(timeline, "version", lambda config: config.version),
        *_unique_across_files(timeline, "effective_from", lambda config: config.effective_from),
        *_unchanged_between_versions(timeline, "plan", lambda config: config.plans, "id", PLAN_FIXED_FIELDS),
        *_unchanged_between_versions(
            timeline, "metric", lambda config: config.metrics, "code", METRIC_FIXED_FIELDS
        ),
    ]


def _unique_across_files(
    timeline: list[PricingConfig], field: str, value_of: Callable[[PricingConfig], object]
) -> list[str]:
    problems: list[str] = []
    first_file: dict[object, str] = {}
    for config in timeline:
        value = value_of(config)
        if value in first_file:
            problems.append(
                f"{config.source_file}: field '{field}': {show(value)} is already used by "
                f"{first_file[value]}; every pricing version needs its own {field}"
            )
        else:
            first_file[value] = config.source_file
    return problems


def _unchanged_between_versions(
    timeline: list[PricingConfig],
    label: str,
    entries_of: Callable[[PricingConfig], Iterable[BaseModel]],
    id_field: str,
    fixed_fields: tuple[str, ...],
) -> list[str]:
    problems: list[str] = []
    previous: dict[str, tuple[PricingConfig, BaseModel]] = {}
    for config in timeline:
        for entry in entries_of(config):
            entry_id = getattr(entry, id_field)
            if entry_id in previous:
                earlier_config, earlier = previous[entry_id]
                for field in fixed_fields:
                    now, before = getattr(entry, field), getattr(earlier, field)
                    if now != before:
                        problems.append(
                            f"{config.source_file}: {label} '{entry_id}': field '{field}': "
                            f"is {_shown(now)} in version '{config.version}' but {_shown(before)} in version "
                            f"'{earlier_config.version}' ({earlier_config.source_file}); a {label}'s {field} "
                            f"cannot change between versions, use a new {label} {id_field} instead"
                        )
            previous[entry_id] = (config, entry)
    return problems


def _shown(value: object) -> str:
    return "not set" if value is None else show(value)

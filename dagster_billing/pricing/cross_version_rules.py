"""Rules between pricing versions: each version is one point on a timeline, and a plan or metric keeps the
meaning it had before.

A plan's billing window (interval, interval_count, billing_time) must be the same in every currency and every
version: windows of a running subscription are cut from it, so a change would re-cut history. Its base fee
timing must not change either: a window billed in advance under one version and in arrears under the next
would be billed twice (or never). A metric's aggregation must not change, or the same events would bill
differently depending on the version. Such a change is a new plan id or a new metric code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel

from dagster_billing.pricing.config_errors import plan_label, show
from dagster_billing.pricing.config_models import Metric, Plan, PricingConfig

# attribute -> the field as written in the YAML
PLAN_FIXED_FIELDS = {
    "interval": "interval",
    "interval_count": "interval_count",
    "billing_time": "billing_time",
    "base_fee_timing": "base_fee.timing",
}
METRIC_FIXED_FIELDS = {"aggregation": "aggregation", "unique_property": "unique_property"}


def cross_version_problems(configs: Iterable[PricingConfig]) -> list[str]:
    timeline = sorted(configs, key=lambda config: (config.effective_from, config.source_file))
    return [
        *_unique_across_files(timeline, "version", lambda config: config.version),
        *_unique_across_files(timeline, "effective_from", lambda config: config.effective_from),
        *_unchanged_between_versions(timeline, "plan", lambda config: config.plans, _plan, PLAN_FIXED_FIELDS),
        *_unchanged_between_versions(
            timeline, "metric", lambda config: config.metrics, _metric, METRIC_FIXED_FIELDS
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


def _plan(plan: Plan) -> tuple[str, str, str]:
    """(id, label, qualifier): plans with one id share a window whatever their currency."""
    return plan.id, plan_label(plan.id, plan.currency), f" ({plan.currency})"


def _metric(metric: Metric) -> tuple[str, str, str]:
    return metric.code, f"metric '{metric.code}'", ""


def _unchanged_between_versions(
    timeline: list[PricingConfig],
    kind: str,
    entries_of: Callable[[PricingConfig], Iterable[BaseModel]],
    identify: Callable,
    fixed_fields: dict[str, str],
) -> list[str]:
    """Every entry is compared with the first one seen with its id (earliest version, first currency)."""
    problems: list[str] = []
    first: dict[str, tuple[PricingConfig, BaseModel]] = {}
    for config in timeline:
        for entry in entries_of(config):
            entry_id, label, qualifier = identify(entry)
            if entry_id not in first:
                first[entry_id] = (config, entry)
                continue
            earlier_config, earlier = first[entry_id]
            for attribute, field in fixed_fields.items():
                now, before = getattr(entry, attribute), getattr(earlier, attribute)
                if now != before:
                    problems.append(
                        f"{config.source_file}: {label}: field '{field}': is {_shown(now)} in version "
                        f"'{config.version}'{qualifier} but {_shown(before)} in version "
                        f"'{earlier_config.version}'{identify(earlier)[2]} ({earlier_config.source_file}); a "
                        f"{kind}'s {field} must be the same in every version{' and currency' if qualifier else ''},"
                        f" use a new {kind} {'id' if kind == 'plan' else 'code'} instead"
                    )
    return problems


def _shown(value: object) -> str:
    return "not set" if value is None else show(value)

"""Validated configs flattened into the rows of the raw pricing tables (see `pricing_tables.TABLE_COLUMNS`).

Amounts stay `Decimal`s; a value a charge model does not use is None (NULL), except the contract's defaults:
included_units 0, base_fee_amount 0 and flat_amount 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from dagster_billing.pricing.config_charges import (
    AmountTier,
    GraduatedCharge,
    GraduatedPercentageCharge,
    PackageCharge,
    PercentageCharge,
    PerUnitCharge,
    RateTier,
    UnitsCharge,
    VolumeCharge,
)
from dagster_billing.pricing.config_models import PRORATION_UNITS, Plan, PricingConfig
from dagster_billing.pricing.currencies import minor_unit_digits


def table_rows(configs: Sequence[PricingConfig], scenario: str) -> dict[str, list[tuple]]:
    plans = [(config, plan) for config in configs for plan in config.plans]
    charges = [(config, plan, charge) for config, plan in plans for charge in plan.charges]
    return {
        "pricing_versions": [
            (scenario, c.version, c.effective_from, c.rounding, c.source_file) for c in configs
        ],
        "pricing_plans": [_plan_row(scenario, config, plan) for config, plan in plans],
        "pricing_metrics": [
            (scenario, c.version, m.code, m.name, m.aggregation, m.unique_property, c.source_file)
            for c in configs
            for m in c.metrics
        ],
        "pricing_charges": [_charge_row(scenario, *entry) for entry in charges],
        "pricing_charge_tiers": [row for entry in charges for row in _tier_rows(scenario, *entry)],
    }


def _plan_row(scenario: str, config: PricingConfig, plan: Plan) -> tuple:
    return (
        scenario,
        config.version,
        config.effective_from,
        plan.id,
        plan.currency,
        plan.name,
        plan.interval,
        plan.interval_count,
        plan.billing_time,
        minor_unit_digits(plan.currency),
        config.rounding_of(plan),
        PRORATION_UNITS[plan.proration],
        plan.base_fee_amount,
        plan.base_fee_timing,
        plan.minimum_spend,
        config.source_file,
    )


def _charge_row(scenario: str, config: PricingConfig, plan: Plan, charge) -> tuple:
    is_package = isinstance(charge, PackageCharge)
    is_percentage = isinstance(charge, PercentageCharge)
    return (
        scenario,
        config.version,
        plan.id,
        plan.currency,
        charge.metric,
        charge.model,
        charge.included_units if isinstance(charge, UnitsCharge) else Decimal(0),
        charge.unit_amount if isinstance(charge, PerUnitCharge) else None,
        charge.package_size if is_package else None,
        charge.package_amount if is_package else None,
        charge.rounding if is_package else None,
        charge.rate if is_percentage else None,
        charge.fixed_fee_per_event if is_percentage else None,
        charge.per_event_min if is_percentage else None,
        charge.per_event_max if is_percentage else None,
        charge.free_units_per_events if is_percentage else None,
        charge.free_units_per_total_aggregation if is_percentage else None,
        config.source_file,
    )


def _tier_rows(scenario: str, config: PricingConfig, plan: Plan, charge) -> Iterator[tuple]:
    if not isinstance(charge, GraduatedCharge | VolumeCharge | GraduatedPercentageCharge):
        return
    lower_bound = Decimal(0)
    for number, tier in enumerate(charge.tiers, start=1):
        yield (
            scenario,
            config.version,
            plan.id,
            plan.currency,
            charge.metric,
            number,
            lower_bound,
            tier.up_to,
            tier.unit_amount if isinstance(tier, AmountTier) else None,
            tier.rate if isinstance(tier, RateTier) else None,
            tier.flat_amount,
        )
        lower_bound = tier.up_to

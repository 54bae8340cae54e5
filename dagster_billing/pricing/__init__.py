"""Pricing configs: versioned YAML files of plans (per currency), charges and billable metrics, validated and
written to the `raw.pricing_*` tables under a scenario (`actual` for pricing_configs/)."""

from dagster_billing.pricing.config_errors import PricingConfigError
from dagster_billing.pricing.config_loader import load_pricing_configs
from dagster_billing.pricing.config_models import Metric, Plan, PricingConfig
from dagster_billing.pricing.pricing_tables import ACTUAL_SCENARIO, write_pricing_tables

__all__ = [
    "ACTUAL_SCENARIO",
    "Metric",
    "Plan",
    "PricingConfig",
    "PricingConfigError",
    "load_pricing_configs",
    "write_pricing_tables",
]

"""Pricing configs: versioned YAML files of plans and billable metrics, validated and written to `raw`."""

from dagster_billing.pricing.config_errors import PricingConfigError
from dagster_billing.pricing.config_loader import load_pricing_configs
from dagster_billing.pricing.config_models import Metric, Plan, PricingConfig
from dagster_billing.pricing.pricing_tables import write_pricing_tables

__all__ = [
    "Metric",
    "Plan",
    "PricingConfig",
    "PricingConfigError",
    "load_pricing_configs",
    "write_pricing_tables",
]

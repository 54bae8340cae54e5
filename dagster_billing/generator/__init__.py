"""Synthetic landing data: customers, subscriptions and usage files exercising every ingestion edge case."""

from dagster_billing.generator.landing import DEFAULT_FORMATS, generate_landing, generate_scale_landing
from dagster_billing.generator.summary import (
    MALFORMED_KINDS,
    GeneratedLanding,
    MalformedRow,
    WrittenUsageFile,
)

__all__ = [
    "DEFAULT_FORMATS",
    "MALFORMED_KINDS",
    "GeneratedLanding",
    "MalformedRow",
    "WrittenUsageFile",
    "generate_landing",
    "generate_scale_landing",
]

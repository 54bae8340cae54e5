"""The Stripe resource: the official SDK's StripeClient, configured from the environment.

STRIPE_API_KEY (read through dg.EnvVar, so Dagster shows the variable's name, never its value), STRIPE_API_BASE
(the local emulator; unset means api.stripe.com), BILLING_STRIPE_ALLOW_LIVE=1 (needed for an sk_live_ key),
BILLING_STRIPE_SEED_TEST_CARDS=1 (emulator only), BILLING_STRIPE_CONCURRENCY (requests in flight, default 4),
BILLING_STRIPE_FINALIZE_FROM (go-live date: invoices billed before it are never sent to Stripe), BILLING_TAX_PROVIDER
(`warehouse`, the default: tax lines computed in dbt; `stripe_tax`: Stripe Tax computes it, automatic_tax).
"""

import os
from datetime import date

import dagster as dg
import stripe
from pydantic import Field

from dagster_billing.stripe_sync.client import StripeSettings, build_client

API_KEY_ENV = "STRIPE_API_KEY"
API_BASE_ENV = "STRIPE_API_BASE"
ALLOW_LIVE_ENV = "BILLING_STRIPE_ALLOW_LIVE"
SEED_TEST_CARDS_ENV = "BILLING_STRIPE_SEED_TEST_CARDS"
CONCURRENCY_ENV = "BILLING_STRIPE_CONCURRENCY"
FINALIZE_FROM_ENV = "BILLING_STRIPE_FINALIZE_FROM"
TAX_PROVIDER_ENV = "BILLING_TAX_PROVIDER"
TAX_PROVIDERS = ("warehouse", "stripe_tax")


class StripeResource(dg.ConfigurableResource):
    api_key: str | None = Field(default=None, description="Secret key; set through dg.EnvVar only.")
    api_base: str | None = Field(default=None, description="API base URL; None is api.stripe.com.")
    allow_live: bool = Field(default=False, description="Allow an sk_live_ key (bills real customers).")
    max_network_retries: int = Field(default=3, description="SDK retries of connection errors, 409 and 5xx.")
    max_concurrent_requests: int = Field(default=4, description="Stripe requests in flight at once.")
    seed_test_cards: bool = Field(
        default=False, description="Emulator only: give new card customers a test card."
    )
    finalize_from: str | None = Field(
        default=None,
        description="Go-live date (YYYY-MM-DD): invoices with an earlier billing date were billed before this "
        "pipeline took over and are never sent to Stripe. None sends every due invoice.",
    )

    automatic_tax: bool = Field(
        default=False,
        description="Hand tax to Stripe Tax (BILLING_TAX_PROVIDER=stripe_tax): invoices are created with "
        "automatic_tax enabled and the warehouse computes no tax lines.",
    )

    def finalize_from_date(self) -> date | None:
        return date.fromisoformat(self.finalize_from) if self.finalize_from else None

    def settings(self) -> StripeSettings:
        return StripeSettings(
            api_key=self.api_key,
            api_base=self.api_base,
            allow_live=self.allow_live,
            max_network_retries=self.max_network_retries,
            max_concurrent_requests=self.max_concurrent_requests,
            seed_test_cards=self.seed_test_cards,
        )

    def client(self) -> stripe.StripeClient:
        return build_client(self.settings())


def stripe_resource() -> StripeResource:
    """Only variables that are set are passed, so a machine without a key still loads the definitions."""
    env = os.environ
    return StripeResource(
        api_key=dg.EnvVar(API_KEY_ENV) if env.get(API_KEY_ENV) else None,  # type: ignore[arg-type]
        api_base=dg.EnvVar(API_BASE_ENV) if env.get(API_BASE_ENV) else None,  # type: ignore[arg-type]
        allow_live=env.get(ALLOW_LIVE_ENV) == "1",
        seed_test_cards=env.get(SEED_TEST_CARDS_ENV) == "1",
        max_concurrent_requests=int(env.get(CONCURRENCY_ENV, "4")),
        finalize_from=env.get(FINALIZE_FROM_ENV) or None,
        automatic_tax=env.get(TAX_PROVIDER_ENV) == "stripe_tax",
    )

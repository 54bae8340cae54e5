"""The Stripe client: official SDK, network retries on, rate limits retried, live keys refused unless allowed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlparse

import stripe

if TYPE_CHECKING:
    from stripe._base_address import BaseAddresses

T = TypeVar("T")
LIVE_KEY_PREFIXES = ("sk_live_", "rk_live_")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class StripeNotConfigured(Exception):
    """No API key: the run builds every warehouse table and leaves Stripe alone."""


class LiveKeyRefused(Exception):
    pass


@dataclass(frozen=True)
class StripeSettings:
    api_key: str | None = field(default=None, repr=False)  # never printed, logged or stored
    api_base: str | None = None  # None: api.stripe.com; the local emulator's URL in tests and the demo
    allow_live: bool = False
    max_network_retries: int = 3
    max_concurrent_requests: int = 4
    seed_test_cards: bool = False  # emulator only: give new card customers a test card

    @property
    def is_local(self) -> bool:
        return self.api_base is not None and urlparse(self.api_base).hostname in LOCAL_HOSTS


def build_client(settings: StripeSettings) -> stripe.StripeClient:
    if not settings.api_key:
        raise StripeNotConfigured(
            "STRIPE_API_KEY is not set, so no invoice was sent to Stripe. Set it to a Stripe test key (sk_test_...) "
            "or run `billing demo`, which starts a local Stripe emulator."
        )
    if settings.api_key.startswith(LIVE_KEY_PREFIXES) and not settings.allow_live:
        raise LiveKeyRefused(
            "STRIPE_API_KEY is a live-mode key; refusing to bill real customers without the explicit allow-live flag "
            "(BILLING_STRIPE_ALLOW_LIVE=1 or the resource's allow_live)."
        )
    if settings.seed_test_cards and not settings.is_local:
        raise ValueError("seed_test_cards is for the local Stripe emulator only (api_base on 127.0.0.1)")
    base_addresses: BaseAddresses = {"api": settings.api_base} if settings.api_base else {}
    return stripe.StripeClient(
        settings.api_key, base_addresses=base_addresses, max_network_retries=settings.max_network_retries
    )


def retry_rate_limited(call: Callable[[], T], attempts: int = 8, first_delay: float = 0.05) -> T:
    """The SDK retries connection errors, 409 and 5xx but not 429: back off here, keeping the idempotency key."""
    for attempt in range(attempts):
        try:
            return call()
        except stripe.RateLimitError:
            if attempt == attempts - 1:
                raise
            time.sleep(min(2.0, first_delay * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")

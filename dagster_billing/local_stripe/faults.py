"""Test-only fault injection for the emulator: a share of API requests fail the way Stripe's edge can fail.

Three kinds, drawn from a seeded generator so a failing run can be replayed:
- `rate_limit`: 429 before the request executes (Stripe: too many requests; the SDK does not retry these);
- `error_before`: 500 before it executes (the SDK retries with the same idempotency key);
- `error_after`: the request executes (and its idempotent result is saved), then the answer is lost as a 500,
  like a connection dropped after Stripe committed: a retry must replay the result, not redo the write.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from aiohttp import web
from localstripe import server

from dagster_billing.local_stripe.emulator import Handler

KINDS = ("rate_limit", "error_before", "error_after")


class FaultInjector:
    def __init__(self, rate: float = 0.0, seed: int = 0) -> None:
        self.configure(rate, seed)
        self.requests: Counter[str] = Counter()

    def configure(self, rate: float, seed: int) -> None:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"fault rate {rate} must be in [0, 1)")
        self.rate = rate
        self.random = random.Random(seed)

    def _draw(self) -> str | None:
        if self.rate and self.random.random() < self.rate:
            return self.random.choice(KINDS)
        return None

    def middleware(self) -> Any:
        @web.middleware
        async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not request.path.startswith("/v1/"):
                return await handler(request)
            self.requests["total"] += 1
            self.requests["writes" if request.method == "POST" else "reads"] += 1
            kind = self._draw()
            if kind:
                self.requests[kind] += 1
            if kind == "rate_limit":
                error = {
                    "type": "invalid_request_error",
                    "code": "rate_limit",
                    "message": "Too many requests.",
                }
                return server.json_response({"error": error}, status=429)
            if kind == "error_before":
                return server.json_response(
                    {"error": {"type": "api_error", "message": "Injected 500."}}, status=500
                )
            response = await handler(request)
            if kind == "error_after":
                return server.json_response(
                    {"error": {"type": "api_error", "message": "Injected 500."}}, status=500
                )
            return response

        return faults

"""`billing demo` with Stripe: the local emulator started for the run, and what Stripe did, for the summary."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_billing.defs.stripe.resources import (
    API_BASE_ENV,
    API_KEY_ENV,
    FINALIZE_FROM_ENV,
    SEED_TEST_CARDS_ENV,
)
from dagster_billing.local_stripe.process import EMULATOR_API_KEY, local_stripe


@contextmanager
def demo_stripe(workdir: Path, finalize_from: str) -> Iterator[str]:
    """Point the run at a fresh emulator (never at real Stripe: any key in the environment is set aside).

    `finalize_from` is the demo's go-live date: the generated history goes back years, and sending thousands of
    old invoices through the single-threaded emulator would take minutes without showing anything more."""
    names = (API_KEY_ENV, API_BASE_ENV, SEED_TEST_CARDS_ENV, FINALIZE_FROM_ENV)
    saved = {name: os.environ.get(name) for name in names}
    with local_stripe(workdir) as emulator:
        os.environ.update(
            {
                API_KEY_ENV: EMULATOR_API_KEY,
                API_BASE_ENV: emulator.api_base,
                SEED_TEST_CARDS_ENV: "1",
                FINALIZE_FROM_ENV: finalize_from,
            }
        )
        try:
            yield emulator.api_base
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

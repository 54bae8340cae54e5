"""Emulator-only: give each new card customer a Stripe test card, some of which decline.

Real customers put a card on file through Stripe (Checkout, a SetupIntent); a billing job cannot. In the emulator a
charge_automatically customer gets `pm_card_visa` (4242..., charges succeed) or, by a deterministic rule on our
customer id (sha256 of it divisible by DECLINE_EVERY, about 1 in 10), `pm_card_chargeCustomerFail` (4000000000000341,
Stripe's "attaching succeeds, charging fails" card: 4000000000000002 is refused already when attached).
"""

from __future__ import annotations

import hashlib

import stripe

from dagster_billing.stripe_sync.idempotency import customer_key

DECLINE_EVERY = 10
SUCCEEDING_CARD = "pm_card_visa"
DECLINING_CARD = "pm_card_chargeCustomerFail"


def card_declines(customer_id: str) -> bool:
    return int(hashlib.sha256(customer_id.encode()).hexdigest(), 16) % DECLINE_EVERY == 0


def card_for(customer_id: str) -> str:
    return DECLINING_CARD if card_declines(customer_id) else SUCCEEDING_CARD


def attach_test_card(
    client: stripe.StripeClient, stripe_customer_id: str, customer_id: str, collection_method: str
) -> None:
    if collection_method != "charge_automatically":
        return
    card = client.v1.payment_methods.attach(
        card_for(customer_id),
        params={"customer": stripe_customer_id},
        options={"idempotency_key": customer_key(customer_id, "attach_test_card")},
    )
    client.v1.customers.update(
        stripe_customer_id,
        params={"invoice_settings": {"default_payment_method": card.id or ""}},
        options={"idempotency_key": customer_key(customer_id, "default_test_card")},
    )

"""The local emulator's added Stripe behaviour, through the official SDK."""

from __future__ import annotations

import pytest
import stripe


def _draft(client: stripe.StripeClient, customer: str, key: str, **extra) -> stripe.Invoice:
    params = {"customer": customer, "collection_method": "charge_automatically", "auto_advance": False}
    params |= {"pending_invoice_items_behavior": "exclude", "currency": "usd", **extra}
    return client.v1.invoices.create(params=params, options={"idempotency_key": key})  # type: ignore[arg-type]


def _item(client: stripe.StripeClient, invoice: stripe.Invoice, amount: int) -> None:
    client.v1.invoice_items.create(
        params={
            "customer": str(invoice.customer),
            "invoice": str(invoice.id),
            "amount": amount,
            "currency": "usd",
            "description": f"line {amount}",
            "period": {"start": 1780000000, "end": 1782600000},
        }
    )


def _customer(client: stripe.StripeClient, card: str | None) -> str:
    customer = client.v1.customers.create(params={"name": "Test", "email": "t@example.com"})
    if card:
        method = client.v1.payment_methods.attach(card, params={"customer": str(customer.id)})
        client.v1.customers.update(
            str(customer.id), params={"invoice_settings": {"default_payment_method": str(method.id)}}
        )
    return str(customer.id)


def test_one_off_invoice_totals_finalize_and_pay(stripe_client: stripe.StripeClient) -> None:
    invoice = _draft(stripe_client, _customer(stripe_client, "pm_card_visa"), "k-1")
    for amount in (4900, 1234, -300):
        _item(stripe_client, invoice, amount)
    draft = stripe_client.v1.invoices.retrieve(str(invoice.id))
    assert (draft.status, draft.total, draft.number) == ("draft", 5834, None)
    assert [line.amount for line in draft.lines.data] == [4900, 1234, -300]
    final = stripe_client.v1.invoices.finalize_invoice(str(invoice.id))
    assert (
        final.status == "open"
        and final.number
        and final.number.endswith("-0001")
        and final.hosted_invoice_url
    )
    paid = stripe_client.v1.invoices.pay(str(invoice.id))
    assert (paid.status, paid.amount_paid) == ("paid", 5834)
    with pytest.raises(stripe.InvalidRequestError, match="already paid"):
        stripe_client.v1.invoices.pay(str(invoice.id))
    with pytest.raises(stripe.InvalidRequestError, match="draft"):
        _item(stripe_client, invoice, 100)


def test_declining_card_is_a_402_card_declined(stripe_client: stripe.StripeClient) -> None:
    invoice = _draft(stripe_client, _customer(stripe_client, "pm_card_chargeCustomerFail"), "k-2")
    _item(stripe_client, invoice, 1999)
    stripe_client.v1.invoices.finalize_invoice(str(invoice.id))
    with pytest.raises(stripe.CardError) as declined:
        stripe_client.v1.invoices.pay(str(invoice.id))
    assert declined.value.code == "card_declined" and declined.value.http_status == 402
    after = stripe_client.v1.invoices.retrieve(str(invoice.id))
    assert (after.status, after.amount_paid, after.attempt_count) == ("open", 0, 1)


def test_send_invoice_and_negative_total_credits_next_invoice(stripe_client: stripe.StripeClient) -> None:
    customer = _customer(stripe_client, None)
    credit = _draft(stripe_client, customer, "k-3", collection_method="send_invoice", days_until_due=30)
    _item(stripe_client, credit, 1000)
    _item(stripe_client, credit, -2500)
    credit = stripe_client.v1.invoices.finalize_invoice(str(credit.id))
    assert (credit.total, credit.amount_due, credit.status, credit.ending_balance) == (
        -1500,
        0,
        "paid",
        -1500,
    )
    nxt = _draft(stripe_client, customer, "k-4", collection_method="send_invoice", days_until_due=30)
    _item(stripe_client, nxt, 4000)
    nxt = stripe_client.v1.invoices.finalize_invoice(str(nxt.id))
    assert (nxt.total, nxt.amount_due, nxt.status) == (4000, 2500, "open")
    assert stripe_client.v1.invoices.send_invoice(str(nxt.id)).status == "open"
    with pytest.raises(stripe.InvalidRequestError, match="days_until_due"):
        _draft(stripe_client, customer, "k-5", collection_method="send_invoice")


def test_idempotency_replays_and_rejects_other_parameters(
    stripe_client: stripe.StripeClient, local_stripe
) -> None:
    customer = _customer(stripe_client, None)
    first = _draft(stripe_client, customer, "same-key", metadata={"n": "1"})
    again = _draft(stripe_client, customer, "same-key", metadata={"n": "1"})
    assert first.id == again.id
    assert local_stripe.stats()["replayed"] == 1
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        _draft(stripe_client, customer, "same-key", metadata={"n": "2"})
    assert len(stripe_client.v1.invoices.list(params={"customer": customer}).data) == 1


def test_customer_search_by_metadata(stripe_client: stripe.StripeClient) -> None:
    created = stripe_client.v1.customers.create(params={"metadata": {"billing_customer_id": "cus_42"}})
    stripe_client.v1.customers.create(params={"metadata": {"billing_customer_id": "cus_43"}})
    found = stripe_client.v1.customers.search(params={"query": "metadata['billing_customer_id']:'cus_42'"})
    assert [c.id for c in found.data] == [created.id]

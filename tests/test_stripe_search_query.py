"""Values in a Stripe search query: the escaping helper, and the emulator reading the query as Stripe does."""

from __future__ import annotations

import pytest
import stripe

from dagster_billing.stripe_sync.search_query import metadata_clause, search_string

HOSTILE = [
    "o'brien-ltd",
    "x' OR metadata['billing_customer_id']:'victim",
    'x" OR metadata["billing_customer_id"]:"victim',
    "back\\slash",
    "ends-with-backslash\\",
    "x\\' OR metadata['billing_customer_id']:'victim",
    'say "hi"',
    "  spaces AND or OR  ",
]


def test_search_string_escapes_backslash_then_quote():
    assert search_string("plain") == "'plain'"
    assert search_string("o'brien") == "'o\\'brien'"
    assert search_string("a\\b") == "'a\\\\b'"
    assert search_string("a\\'b") == "'a\\\\\\'b'"
    assert search_string('say "hi"') == "'say \"hi\"'"
    assert metadata_clause("billing_customer_id", "o'b") == "metadata['billing_customer_id']:'o\\'b'"
    with pytest.raises(TypeError):
        search_string(42)  # type: ignore[arg-type]


def test_emulator_reads_escaped_values_and_or_as_stripe_does(stripe_client: stripe.StripeClient):
    ids = {value: _customer(stripe_client, value) for value in [*HOSTILE, "victim"]}
    for value, stripe_id in ids.items():
        query = metadata_clause("billing_customer_id", value)
        assert _search(stripe_client, query) == [stripe_id], query
    # the injection a raw value makes is real in the emulator, as it would be at Stripe
    raw = "metadata['billing_customer_id']:'x' OR metadata['billing_customer_id']:'victim'"
    assert _search(stripe_client, raw) == [ids["victim"]]
    assert _search(stripe_client, 'metadata["billing_customer_id"]:"victim"') == [ids["victim"]]
    both = "metadata['billing_customer_id']:'victim' or metadata['billing_customer_id']:'o\\'brien-ltd'"
    assert sorted(_search(stripe_client, both)) == sorted([ids["victim"], ids["o'brien-ltd"]])
    assert ids["victim"] not in _search(stripe_client, "-metadata['billing_customer_id']:'victim'")


@pytest.mark.parametrize(
    "query",
    [
        "metadata['billing_customer_id']:'o'brien-ltd'",  # an unescaped quote
        "metadata['billing_customer_id']:'open",
        "metadata['a']:'1' AND metadata['b']:'2' OR metadata['c']:'3'",
    ],
)
def test_emulator_refuses_a_query_stripe_cannot_parse(stripe_client: stripe.StripeClient, query: str):
    with pytest.raises(stripe.InvalidRequestError, match="Invalid search query"):
        stripe_client.v1.customers.search(params={"query": query})


def _customer(client: stripe.StripeClient, billing_customer_id: str) -> str:
    params = {"metadata": {"billing_customer_id": billing_customer_id}}
    return str(client.v1.customers.create(params=params).id)  # type: ignore[arg-type]


def _search(client: stripe.StripeClient, query: str) -> list[str]:
    return [str(c.id) for c in client.v1.customers.search(params={"query": query, "limit": 100}).data]

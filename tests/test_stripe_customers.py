"""Customer ids that are hostile to a search query each map to their own Stripe customer, never another's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import stripe
from stripe_fixtures import Invoice, Line, run_finalize, write_issued_invoices
from test_stripe_search_query import HOSTILE

VICTIM = "victim"


def _invoices(customers: list[str], billing_date: date) -> list[Invoice]:
    return [Invoice(c, billing_date, (Line(1000 + n),), "send_invoice") for n, c in enumerate(customers)]


def _mapping(warehouse: Path, client: stripe.StripeClient) -> dict[str, tuple[str, str, str]]:
    """Our customer -> (Stripe customer, how it was found, the billing_customer_id that Stripe customer carries)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select customer_id, stripe_customer_id, source from stripe.customer_map"
        ).fetchall()
        errors = con.execute(
            "select customer_id, last_error from stripe.invoice_sync where outcome = 'error'"
        )
        assert errors.fetchall() == []
    finally:
        con.close()
    return {
        customer: (stripe_id, source, client.v1.customers.retrieve(stripe_id).metadata["billing_customer_id"])
        for customer, stripe_id, source in rows
    }


def test_hostile_customer_ids_map_to_their_own_stripe_customer(tmp_path, local_stripe, stripe_client):
    warehouse = tmp_path / "warehouse.duckdb"
    write_issued_invoices(warehouse, _invoices([VICTIM], date(2026, 8, 1)))
    run_finalize(warehouse, local_stripe.api_base)
    victim_stripe_id = _mapping(warehouse, stripe_client)[VICTIM][0]

    # new customers: mapped by search (none found), then created
    write_issued_invoices(warehouse, _invoices([VICTIM, *HOSTILE], date(2026, 8, 1)))
    run_finalize(warehouse, local_stripe.api_base)
    created = _mapping(warehouse, stripe_client)
    assert {c: (source, carried) for c, (_, source, carried) in created.items()} == {
        VICTIM: ("created", VICTIM),
        **{c: ("created", c) for c in HOSTILE},
    }
    assert len({stripe_id for stripe_id, *_ in created.values()}) == len(HOSTILE) + 1

    # the map is lost (a fresh warehouse): each is found again by search, as itself
    con = duckdb.connect(str(warehouse))
    con.execute("delete from stripe.customer_map")
    con.close()
    write_issued_invoices(warehouse, _invoices([VICTIM, *HOSTILE], date(2026, 9, 1)))
    run_finalize(warehouse, local_stripe.api_base)
    found = _mapping(warehouse, stripe_client)
    assert found == {c: (created[c][0], "found", c) for c in created}
    assert found[VICTIM][0] == victim_stripe_id


def test_a_search_hit_counts_only_when_it_carries_exactly_our_id(stripe_client):
    from types import SimpleNamespace

    from dagster_billing.stripe_sync.customers import AmbiguousCustomer, find_by_metadata

    other = stripe.Customer.construct_from({"id": "cus_other", "metadata": {"billing_customer_id": "b"}}, "k")
    loose = SimpleNamespace(search=lambda params: SimpleNamespace(data=[other]))
    assert find_by_metadata(SimpleNamespace(v1=SimpleNamespace(customers=loose)), "a") is None  # type: ignore[arg-type]

    for _ in range(2):
        stripe_client.v1.customers.create(params={"metadata": {"billing_customer_id": "twice"}})
    with pytest.raises(AmbiguousCustomer, match="'twice'"):  # two Stripe customers with one id: not billed
        find_by_metadata(stripe_client, "twice")

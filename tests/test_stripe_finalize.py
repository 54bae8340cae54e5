"""Finalizing the sample warehouse's invoices in the local emulator: outcomes, Stripe objects, the sync table."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import stripe
from stripe_fixtures import (
    CARD_CUSTOMER,
    DECLINING_CUSTOMER,
    emulator_settings,
    run_finalize,
    sample_invoices,
    stripe_invoices,
)

from dagster_billing.stripe_sync.client import (
    LiveKeyRefused,
    StripeNotConfigured,
    StripeSettings,
    build_client,
)
from dagster_billing.stripe_sync.reconciliation import reconcile


def _sync(warehouse: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(
        "select invoice_id, outcome, status, stripe_total_minor, amount_due_minor, amount_paid_minor, attempt_count, "
        "stripe_invoice_id, stripe_invoice_number, hosted_invoice_url, finalized_at from stripe.invoice_sync"
    ).fetchall()
    con.close()
    return {row[0]: row[1:] for row in rows}


def _reconciliation(warehouse: Path, client: stripe.StripeClient):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return reconcile(con, client)
    finally:
        con.close()


def test_finalizes_every_actual_invoice_once_with_its_outcome(invoice_warehouse, local_stripe, stripe_client):
    summary = run_finalize(invoice_warehouse, local_stripe.api_base)
    invoices = {i.invoice_id: i for i in sample_invoices() if i.scenario == "actual"}
    assert summary.due == 8 and summary.errors == []
    assert dict(summary.outcomes) == {"charged": 3, "sent": 2, "declined": 1, "no_payment_due": 2}
    sync = _sync(invoice_warehouse)
    assert set(sync) == set(invoices)  # the what-if scenario is not billed
    by_customer = {(invoices[i].customer_id, invoices[i].billing_date.month): row for i, row in sync.items()}
    assert by_customer[(CARD_CUSTOMER, 8)][:5] == ("charged", "paid", 5834, 5834, 5834)
    assert by_customer[(DECLINING_CUSTOMER, 9)][:5] == ("declined", "open", 1999, 1999, 0)
    assert by_customer[("cus_send", 9)][:5] == ("sent", "open", 12575, 12575, 0)
    assert by_customer[("cus_jpy", 9)][:5] == ("charged", "paid", 5042, 5042, 5042)  # JPY: minor unit = yen
    assert by_customer[("cus_zero", 9)][:5] == ("no_payment_due", "paid", 0, 0, 0)
    # a proration credit larger than the charges: total -1500 in Stripe, nothing due, credit used by the next invoice
    assert by_customer[("cus_credit", 8)][:5] == ("no_payment_due", "paid", -1500, 0, 0)
    assert by_customer[("cus_credit", 9)][:5] == ("sent", "open", 4000, 2500, 0)
    assert all(row[5] == 1 and row[6] and row[7] and row[8] and row[9] for row in sync.values())

    in_stripe = stripe_invoices(stripe_client)
    assert sorted(i.metadata["billing_invoice_id"] for i in in_stripe) == sorted(invoices)
    for invoice in in_stripe:
        ours = invoices[invoice.metadata["billing_invoice_id"]]
        assert [line.amount for line in invoice.lines.data] == [line.amount_minor for line in ours.lines]
        assert invoice.collection_method == ours.collection_method
        assert invoice.currency == ours.currency.lower()
    assert _reconciliation(invoice_warehouse, stripe_client).passed


def test_rerun_of_a_finalized_run_makes_no_stripe_requests(invoice_warehouse, local_stripe, stripe_client):
    run_finalize(invoice_warehouse, local_stripe.api_base)
    before = local_stripe.stats()
    summary = run_finalize(invoice_warehouse, local_stripe.api_base)
    assert summary.due == 0
    assert local_stripe.stats() == before
    assert _reconciliation(invoice_warehouse, stripe_client).passed


def test_reconciliation_finds_a_stripe_invoice_without_warehouse_invoice(
    invoice_warehouse, local_stripe, stripe_client
):
    run_finalize(invoice_warehouse, local_stripe.api_base)
    customer = stripe_client.v1.customers.create(params={"name": "stray"})
    stray = stripe_client.v1.invoices.create(
        params={"customer": str(customer.id), "metadata": {"billing_invoice_id": "inv_not_in_warehouse"}}
    )
    report = _reconciliation(invoice_warehouse, stripe_client)
    assert not report.passed
    assert report.problems == [
        f"inv_not_in_warehouse: Stripe invoice {stray.id} carries it, the warehouse has no such invoice"
    ]


def test_reconciliation_finds_a_total_that_differs(invoice_warehouse, local_stripe, stripe_client):
    run_finalize(invoice_warehouse, local_stripe.api_base)
    con = duckdb.connect(str(invoice_warehouse))
    con.execute(
        "update billing.issued_invoices set total_minor = total_minor + 1 where customer_id = 'cus_send'"
    )
    con.close()
    report = _reconciliation(invoice_warehouse, stripe_client)
    assert len(report.problems) == 1 and "warehouse total 12576" in report.problems[0]


def test_no_key_and_live_key_are_refused_with_a_reason():
    with pytest.raises(StripeNotConfigured, match="STRIPE_API_KEY is not set"):
        build_client(StripeSettings(api_key=None))
    live = "sk_live_" + "x" * 24
    with pytest.raises(LiveKeyRefused) as refused:
        build_client(StripeSettings(api_key=live))
    assert live not in str(refused.value) and live not in repr(StripeSettings(api_key=live))
    assert build_client(StripeSettings(api_key=live, allow_live=True))
    with pytest.raises(ValueError, match="emulator only"):
        build_client(StripeSettings(api_key="sk_test_x", seed_test_cards=True))


def test_the_key_is_never_written_to_the_warehouse(invoice_warehouse, local_stripe, capfd):
    key = "sk_test_" + "k3y" * 10
    client = build_client(emulator_settings(local_stripe.api_base, api_key=key))
    from dagster_billing.stripe_sync.finalize import finalize_due_invoices

    con = duckdb.connect(str(invoice_warehouse))
    finalize_due_invoices(con, client)
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'stripe'"
    ).fetchall()
    for (table,) in tables:
        assert con.execute(
            f"select count(*) from stripe.{table} t where t::varchar like '%k3yk3y%'"
        ).fetchone() == (0,)
    con.close()
    out, err = capfd.readouterr()
    assert key not in out + err

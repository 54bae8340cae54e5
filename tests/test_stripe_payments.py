"""Payments read back from the local Stripe emulator: `stripe.payments` holds exactly the emulator's charges of our
invoices (declined attempts included), and `stripe.invoice_sync` Stripe's status of each (paid, open after a
declined card, void, uncollectible)."""

from __future__ import annotations

from datetime import date

import duckdb
from stripe_fixtures import CARD_CUSTOMER, DECLINING_CUSTOMER, run_finalize

from dagster_billing.stripe_sync.dunning import refresh_and_dun
from dagster_billing.stripe_sync.payments import sync_payments


def _stripe_id(con: duckdb.DuckDBPyConnection, customer_id: str, billing_date: str) -> str:
    return con.execute(
        "select s.stripe_invoice_id from stripe.invoice_sync as s join billing.issued_invoices as i using "
        "(invoice_id) where i.customer_id = $1 and i.billing_date = $2::date",
        [customer_id, billing_date],
    ).fetchone()[0]


def test_payments_equal_the_emulators_charges_and_statuses_follow_stripe(
    invoice_warehouse, local_stripe, stripe_client
):
    run_finalize(invoice_warehouse, local_stripe.api_base)
    con = duckdb.connect(str(invoice_warehouse))
    stripe_client.v1.invoices.void_invoice(_stripe_id(con, "cus_send", "2026-09-01"))
    stripe_client.v1.invoices.mark_uncollectible(_stripe_id(con, "cus_credit", "2026-09-01"))
    refresh_and_dun(con, stripe_client, date(2026, 9, 5))  # retries the declined card once: a second charge

    summary = sync_payments(con, stripe_client)
    assert (summary.charges, summary.failed_charges, summary.errors) == (5, 2, [])

    emulator = {
        c.id: (c.amount, c.currency.upper(), c.status, c.failure_code, c.payment_intent)
        for c in stripe_client.v1.charges.list(params={"limit": 100}).auto_paging_iter()
    }
    rows = con.execute(
        "select stripe_charge_id, amount_minor, currency, status, failure_code, stripe_payment_intent_id "
        "from stripe.payments"
    ).fetchall()
    assert {row[0]: row[1:] for row in rows} == emulator

    paid = con.execute(
        """select i.customer_id, i.billing_date::varchar, p.amount_minor, p.currency, p.status, p.paid,
            p.payment_method_type, p.card_brand, p.failure_code
        from stripe.payments as p join billing.issued_invoices as i using (invoice_id)
        order by i.customer_id, i.billing_date, p.created_at, p.status"""
    ).fetchall()
    declined = (
        DECLINING_CUSTOMER,
        "2026-09-01",
        1999,
        "USD",
        "failed",
        False,
        "card",
        "visa",
        "card_declined",
    )
    assert sorted(paid) == sorted(
        [
            (
                CARD_CUSTOMER,
                "2026-08-01",
                5834,
                "USD",
                "succeeded",
                True,
                "card",
                "visa",
                None,
            ),  # 4900+1234-300
            (CARD_CUSTOMER, "2026-09-01", 4900, "USD", "succeeded", True, "card", "visa", None),
            declined,
            declined,  # the dunning retry, a second charge of the same PaymentIntent
            ("cus_jpy", "2026-09-01", 5042, "JPY", "succeeded", True, "card", "visa", None),
        ]
    )
    [intents] = con.execute(
        "select count(distinct stripe_payment_intent_id) from stripe.payments where customer_id = $1",
        [DECLINING_CUSTOMER],
    ).fetchone()
    assert intents == 1

    statuses = dict(
        con.execute(
            "select i.customer_id || ' ' || i.billing_date, s.status from stripe.invoice_sync as s "
            "join billing.issued_invoices as i using (invoice_id)"
        ).fetchall()
    )
    assert statuses == {
        f"{CARD_CUSTOMER} 2026-08-01": "paid",
        f"{CARD_CUSTOMER} 2026-09-01": "paid",
        "cus_send 2026-09-01": "void",
        f"{DECLINING_CUSTOMER} 2026-09-01": "open",
        "cus_jpy 2026-09-01": "paid",
        "cus_zero 2026-09-01": "paid",
        "cus_credit 2026-08-01": "paid",
        "cus_credit 2026-09-01": "uncollectible",
    }
    again = sync_payments(con, stripe_client)  # nothing moved in Stripe since: nothing read again
    assert (again.invoices_read, again.charges) == (0, 0)
    assert con.execute("select count(*) from stripe.payments").fetchone() == (5,)
    con.close()

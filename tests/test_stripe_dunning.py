"""Dunning: stages from the schedule, status refresh from Stripe, card retries when due, the collections table."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from stripe_fixtures import DECLINING_CUSTOMER, run_finalize

from dagster_billing.stripe_sync.dunning import dunning_stage, refresh_and_dun, retry_due


@pytest.mark.parametrize(
    ("days", "stage"),
    [
        (1, "grace"),
        (2, "grace"),
        (3, "retry_1"),
        (6, "retry_1"),
        (7, "retry_2"),
        (14, "retry_3"),
        (15, "suspend"),
    ],
)
def test_default_schedule_stages(days, stage):
    assert dunning_stage(days) == stage


def test_custom_schedule_and_retry_due_once_per_step():
    assert dunning_stage(5, (1, 5)) == "retry_2" and dunning_stage(6, (1, 5)) == "suspend"
    assert retry_due("retry_2", 0, "charge_automatically") == 2  # a missed step is not made up
    assert retry_due("retry_2", 2, "charge_automatically") is None
    assert retry_due("retry_1", 0, "send_invoice") is None  # no card to retry
    assert retry_due("grace", 0, "charge_automatically") is None


def test_refresh_retries_the_declined_card_and_lists_overdue_invoices(
    invoice_warehouse, local_stripe, stripe_client
):
    run_finalize(invoice_warehouse, local_stripe.api_base)
    con = duckdb.connect(str(invoice_warehouse))
    summary = refresh_and_dun(con, stripe_client, date(2026, 9, 5))  # the declined card is 4 days overdue
    assert (summary.refreshed, summary.retried, summary.recovered) == (3, 1, 0)
    collections = con.execute(
        "select customer_id, amount_due_minor, days_overdue, dunning_stage, dunning_retries from stripe.collections"
    ).fetchall()
    assert collections == [(DECLINING_CUSTOMER, 1999, 4, "retry_1", 1)]  # send_invoice ones are not yet due
    again = refresh_and_dun(con, stripe_client, date(2026, 9, 5))
    assert again.retried == 0  # retry 1 was made

    late = refresh_and_dun(con, stripe_client, date(2026, 10, 15))
    stages = dict(con.execute("select customer_id, dunning_stage from stripe.collections").fetchall())
    con.close()
    assert late.retried == 0 and stages == {
        DECLINING_CUSTOMER: "suspend",
        "cus_send": "retry_3",
        "cus_credit": "retry_3",
    }
    paid = [i for i in stripe_client.v1.invoices.list(params={"limit": 100}).data if i.status == "paid"]
    assert len(paid) == 5  # the retry did not charge the declining card

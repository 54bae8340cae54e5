"""Usage events placed in billing windows and subscriptions, and aggregated per metric, on the session's dbt
run (as_of 2024-05-01 00:00 UTC). Expected numbers are computed by hand."""

from __future__ import annotations

from decimal import Decimal

import dbt_harness
import pytest

register_customer = dbt_harness.register_customer
event = dbt_harness.register_event

# uw_main: monthly from 2024-03-01; plan change (s1 -> s2) at 2024-04-15 00:00 UTC, mid-window.
register_customer(
    "uw_main",
    "2024-03-01",
    "UTC",
    [
        ("uw_main_s1", "monthly", "2024-03-01 00:00:00", "2024-04-15 00:00:00"),
        ("uw_main_s2", "monthly_pro", "2024-04-15 00:00:00", None),
    ],
)
event("uw-before", "uw_main", "api_calls", "1", "2024-02-20 00:00:00")
event("uw-m1", "uw_main", "api_calls", "1.5", "2024-03-02 00:00:00")
event("uw-m2", "uw_main", "api_calls", "2.5", "2024-03-31 23:59:59")
event("uw-a1", "uw_main", "api_calls", "10", "2024-04-10 00:00:00")
event("uw-a2", "uw_main", "api_calls", "5", "2024-04-15 00:00:00")  # the change instant belongs to s2
event("uw-a3", "uw_main", "api_calls", "0.25", "2024-04-30 23:59:59.999")
event("uw-after", "uw_main", "api_calls", "100", "2024-05-01 00:00:00")
event("uw-r1", "uw_main", "requests", "5", "2024-04-16 00:00:00")
event("uw-r2", "uw_main", "requests", "7", "2024-04-17 00:00:00")
event("uw-r3", "uw_main", "requests", "0", "2024-04-18 00:00:00")
event("uw-g1", "uw_main", "storage_gb", "4", "2024-04-16 00:00:00")
event("uw-g2", "uw_main", "storage_gb", "9.5", "2024-04-17 00:00:00")
event("uw-g3", "uw_main", "storage_gb", "2", "2024-04-18 00:00:00")
event("uw-s-0", "uw_main", "seats", "10", "2024-04-16 00:00:00")
event("uw-s-b", "uw_main", "seats", "12", "2024-04-20 12:00:00")
event("uw-s-a", "uw_main", "seats", "30", "2024-04-20 12:00:00")  # same instant: greatest event_id wins
event("uw-u1", "uw_main", "active_users", "1", "2024-04-16 00:00:00", {"user_id": "alice"})
event("uw-u2", "uw_main", "active_users", "1", "2024-04-17 00:00:00", {"user_id": "bob"})
event("uw-u3", "uw_main", "active_users", "1", "2024-04-18 00:00:00", {"user_id": "alice"})
event("uw-u4", "uw_main", "active_users", "1", "2024-04-19 00:00:00", {"other": "carol"})
event("uw-u5", "uw_main", "active_users", "1", "2024-04-19 00:00:00")
event("uw-x1", "uw_main", "mystery_metric", "3", "2024-04-16 00:00:00")
event("uw-x2", "uw_main", "mystery_metric", "4", "2024-04-17 00:00:00")

# uw_gap: subscribed only from 2024-03-10 to 2024-04-01 inside monthly windows from 2024-03-01.
register_customer(
    "uw_gap", "2024-03-01", "UTC", [("uw_gap_s1", "monthly", "2024-03-10 00:00:00", "2024-04-01 00:00:00")]
)
event("uw-gap-early", "uw_gap", "api_calls", "1", "2024-03-05 00:00:00")
event("uw-gap-in", "uw_gap", "api_calls", "2", "2024-03-20 00:00:00")
event("uw-gap-late", "uw_gap", "api_calls", "4", "2024-04-05 00:00:00")

# uw_future: anchored after as_of, so nothing is billed yet.
register_customer(
    "uw_future", "2024-06-01", "UTC", [("uw_future_s1", "monthly", "2024-04-01 00:00:00", None)]
)
event("uw-future", "uw_future", "api_calls", "1", "2024-04-10 00:00:00")

# uw_nosub: a customer without any subscription.
register_customer("uw_nosub", "2024-01-01", "UTC")
event("uw-nosub", "uw_nosub", "api_calls", "1", "2024-04-10 00:00:00")

# uw_ny: anchored 2024-03-01 in New York, i.e. 2024-03-01 05:00 UTC.
register_customer(
    "uw_ny", "2024-03-01", "America/New_York", [("uw_ny_s1", "monthly", "2024-03-01 05:00:00", None)]
)
event("uw-ny-before", "uw_ny", "api_calls", "1", "2024-03-01 03:00:00")
event("uw-ny-in", "uw_ny", "api_calls", "1", "2024-03-01 05:00:00")


@pytest.mark.parametrize(
    ("event_id", "status", "reason_contains"),
    [
        ("uw-before", "before_billing_anchor", "before the customer's billing anchor 2024-03-01"),
        ("uw-after", "after_as_of", "as_of 2024-05-01 00:00:00"),
        ("uw-gap-early", "outside_subscription", "no subscription of the customer was active at 2024-03-05"),
        ("uw-gap-late", "outside_subscription", "no subscription of the customer was active at 2024-04-05"),
        ("uw-future", "before_billing_anchor", "billing anchor 2024-06-01"),
        ("uw-nosub", "outside_subscription", "no subscription"),
        ("uw-ny-before", "before_billing_anchor", "billing anchor 2024-03-01 (America/New_York)"),
        ("uw-ny-in", "billable", None),
        ("uw-gap-in", "billable", None),
        ("uw-m1", "billable", None),
    ],
)
def test_event_billing_status_and_reason(event_id: str, status: str, reason_contains: str | None) -> None:
    [(billing_status, reason, window_start, subscription_id)] = dbt_harness.query(
        "select billing_status, unbilled_reason, window_start, subscription_id"
        " from intermediate.int_usage_events_windowed where event_id = ?",
        [event_id],
    )
    assert billing_status == status
    if reason_contains is None:
        assert reason is None
        assert window_start is not None and subscription_id is not None
    else:
        assert reason_contains in reason
        assert window_start is None and subscription_id is None
        unbilled = dbt_harness.query(
            "select billing_status from intermediate.int_usage_events_unbilled where event_id = ?", [event_id]
        )
        assert unbilled == [(status,)]


def _billable(customer_id: str, metric: str) -> dict[tuple, tuple]:
    rows = dbt_harness.query(
        """
        select strftime(window_start, '%Y-%m-%d'), subscription_id, aggregation, event_count, billed_quantity,
            is_metric_configured
        from intermediate.int_usage_aggregated_to_billing_windows
        where customer_id = ? and metric = ? and billing_status = 'billable'
        """,
        [customer_id, metric],
    )
    return {(window, subscription): tuple(rest) for window, subscription, *rest in rows}


def test_plan_change_mid_window_splits_usage_between_subscriptions() -> None:
    assert _billable("uw_main", "api_calls") == {
        ("2024-03-01", "uw_main_s1"): ("sum", 2, Decimal("4"), True),
        ("2024-04-01", "uw_main_s1"): ("sum", 1, Decimal("10"), True),
        ("2024-04-01", "uw_main_s2"): ("sum", 2, Decimal("5.25"), True),
    }


@pytest.mark.parametrize(
    ("metric", "aggregation", "event_count", "billed_quantity", "configured"),
    [
        ("requests", "count", 3, Decimal("3"), True),  # quantities 5, 7, 0 are ignored
        ("storage_gb", "max", 3, Decimal("9.5"), True),
        ("seats", "latest", 3, Decimal("12"), True),  # tie at 12:00 between uw-s-a (30) and uw-s-b (12)
        ("active_users", "unique_count", 5, Decimal("2"), True),  # alice, bob; no user_id on two events
    ],
)
def test_aggregation_gives_billed_quantity(
    metric: str, aggregation: str, event_count: int, billed_quantity: Decimal, configured: bool
) -> None:
    assert _billable("uw_main", metric) == {
        ("2024-04-01", "uw_main_s2"): (aggregation, event_count, billed_quantity, configured)
    }


def test_events_of_a_metric_in_no_pricing_config_are_unbilled_with_that_reason() -> None:
    """Accepted but priced by nothing: visible as `unknown_metric`, never counted as billable (issue 12)."""
    rows = dbt_harness.query(
        "select event_id, billing_status, unbilled_reason, strftime(window_start, '%Y-%m-%d'), subscription_id"
        " from intermediate.int_usage_events_windowed where metric = 'mystery_metric' order by event_id"
    )
    reason = "metric 'mystery_metric' is in no pricing config, so no charge prices it"
    assert rows == [
        ("uw-x1", "unknown_metric", reason, "2024-04-01", "uw_main_s2"),
        ("uw-x2", "unknown_metric", reason, "2024-04-01", "uw_main_s2"),
    ]
    assert dbt_harness.query(
        "select event_id, billing_status from intermediate.int_usage_events_unbilled"
        " where metric = 'mystery_metric' order by event_id"
    ) == [("uw-x1", "unknown_metric"), ("uw-x2", "unknown_metric")]
    assert dbt_harness.query(
        "select billing_status, strftime(window_start, '%Y-%m-%d'), subscription_id, event_count, sum_quantity,"
        " billed_quantity, is_metric_configured"
        " from intermediate.int_usage_aggregated_to_billing_windows where metric = 'mystery_metric'"
    ) == [("unknown_metric", "2024-04-01", "uw_main_s2", 2, Decimal("7"), None, False)]


def test_unbilled_events_are_counted_without_window() -> None:
    rows = dbt_harness.query(
        """
        select billing_status, sum(event_count), count(window_start), count(subscription_id),
            count(billed_quantity)
        from intermediate.int_usage_aggregated_to_billing_windows
        where billing_status not in ('billable', 'unknown_metric') and customer_id like 'uw_%'
        group by billing_status order by billing_status
        """
    )
    assert rows == [
        ("after_as_of", 1, 0, 0, 0),
        ("before_billing_anchor", 3, 0, 0, 0),
        ("outside_subscription", 3, 0, 0, 0),
    ]


def test_billable_plus_unbilled_equals_all_events() -> None:
    [(total,)] = dbt_harness.query("select count(*) from raw.usage_events")
    [(aggregated, billable)] = dbt_harness.query(
        "select sum(event_count), sum(event_count) filter (where billing_status = 'billable')"
        " from intermediate.int_usage_aggregated_to_billing_windows"
    )
    [(unbilled,)] = dbt_harness.query("select count(*) from intermediate.int_usage_events_unbilled")
    assert aggregated == total == billable + unbilled
    assert total == 30

"""Billing windows for a table of customers, each checked against hand-written local dates (and UTC instants
where the time zone matters). One dbt run serves every case; the run bills up to dbt_harness.AS_OF
(2024-05-01 00:00 UTC)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import dbt_harness
import pytest


@dataclass(frozen=True)
class Window:
    start: str
    end: str
    closed: bool
    partial: bool = False
    start_utc: str | None = None
    end_utc: str | None = None


@dataclass(frozen=True)
class Case:
    name: str
    anchor: str
    plan: str
    windows: list[Window]
    timezone: str = "UTC"
    # (plan_id, started_at, ended_at); by default one open subscription on the plan from the anchor
    subscriptions: list[tuple] = field(default_factory=list)
    # when set, `windows` is only the first windows and this is how many there are in all
    total: int | None = None


def W(start: str, end: str, closed: bool, **kwargs) -> Window:  # noqa: N802 - reads like a table row
    return Window(start, end, closed, **kwargs)


CASES = [
    Case(
        "leap_year_jan_31_monthly",
        "2024-01-31",
        "monthly",
        [
            W("2024-01-31", "2024-02-29", True),
            W("2024-02-29", "2024-03-31", True),
            W("2024-03-31", "2024-04-30", True),
            W("2024-04-30", "2024-05-31", False),
        ],
    ),
    Case(
        "common_year_jan_31_monthly",
        "2023-01-31",
        "monthly",
        [
            W("2023-01-31", "2023-02-28", True),
            W("2023-02-28", "2023-03-31", True),
            W("2023-03-31", "2023-04-30", True),
            W("2023-04-30", "2023-05-31", True),
        ],
        total=16,
    ),
    Case(
        "anchor_on_the_30th",
        "2023-11-30",
        "monthly",
        [
            W("2023-11-30", "2023-12-30", True),
            W("2023-12-30", "2024-01-30", True),
            W("2024-01-30", "2024-02-29", True),
            W("2024-02-29", "2024-03-30", True),
            W("2024-03-30", "2024-04-30", True),
            W("2024-04-30", "2024-05-30", False),
        ],
    ),
    Case(
        "anchor_on_the_29th",
        "2023-12-29",
        "monthly",
        [
            W("2023-12-29", "2024-01-29", True),
            W("2024-01-29", "2024-02-29", True),
            W("2024-02-29", "2024-03-29", True),
            W("2024-03-29", "2024-04-29", True),
            W("2024-04-29", "2024-05-29", False),
        ],
    ),
    Case("future_anchor_has_no_windows", "2024-05-02", "monthly", []),
    Case(
        "yearly_from_feb_29",
        "2020-02-29",
        "yearly",
        [
            W("2020-02-29", "2021-02-28", True),
            W("2021-02-28", "2022-02-28", True),
            W("2022-02-28", "2023-02-28", True),
            W("2023-02-28", "2024-02-29", True),
            W("2024-02-29", "2025-02-28", False),
        ],
    ),
    Case(
        "yearly_mid_month",
        "2023-03-15",
        "yearly",
        [
            W("2023-03-15", "2024-03-15", True),
            W("2024-03-15", "2025-03-15", False),
        ],
    ),
    Case(
        "weekly_keeps_the_anchor_weekday",
        "2024-04-03",
        "weekly",
        [
            W("2024-04-03", "2024-04-10", True),
            W("2024-04-10", "2024-04-17", True),
            W("2024-04-17", "2024-04-24", True),
            W("2024-04-24", "2024-05-01", True),
            W("2024-05-01", "2024-05-08", False),
        ],
    ),
    Case(
        "every_two_months_from_dec_31",
        "2023-12-31",
        "bimonthly",
        [
            W("2023-12-31", "2024-02-29", True),
            W("2024-02-29", "2024-04-30", True),
            W("2024-04-30", "2024-06-30", False),
        ],
    ),
    Case(
        "calendar_month_partial_first_window",
        "2024-02-15",
        "calendar_monthly",
        [
            W("2024-02-15", "2024-03-01", True, partial=True),
            W("2024-03-01", "2024-04-01", True),
            W("2024-04-01", "2024-05-01", True),
            W("2024-05-01", "2024-06-01", False),
        ],
    ),
    Case(
        "calendar_month_anchor_on_boundary_is_full",
        "2024-03-01",
        "calendar_monthly",
        [
            W("2024-03-01", "2024-04-01", True),
            W("2024-04-01", "2024-05-01", True),
            W("2024-05-01", "2024-06-01", False),
        ],
    ),
    Case(
        "calendar_year",
        "2023-07-01",
        "calendar_yearly",
        [
            W("2023-07-01", "2024-01-01", True, partial=True),
            W("2024-01-01", "2025-01-01", False),
        ],
    ),
    Case(
        "calendar_week_starts_monday",
        "2024-04-17",
        "calendar_weekly",
        [
            W("2024-04-17", "2024-04-22", True, partial=True),
            W("2024-04-22", "2024-04-29", True),
            W("2024-04-29", "2024-05-06", False),
        ],
    ),
    Case(
        "new_york_across_march_dst_change",
        "2024-02-10",
        "monthly",
        [
            W(
                "2024-02-10",
                "2024-03-10",
                True,
                start_utc="2024-02-10 05:00:00",
                end_utc="2024-03-10 05:00:00",
            ),
            W(
                "2024-03-10",
                "2024-04-10",
                True,
                start_utc="2024-03-10 05:00:00",
                end_utc="2024-04-10 04:00:00",
            ),
            W(
                "2024-04-10",
                "2024-05-10",
                False,
                start_utc="2024-04-10 04:00:00",
                end_utc="2024-05-10 04:00:00",
            ),
        ],
        timezone="America/New_York",
    ),
    Case(
        "closed_when_as_of_equals_window_end",
        "2024-03-01",
        "monthly",
        [
            W("2024-03-01", "2024-04-01", True),
            W(
                "2024-04-01",
                "2024-05-01",
                True,
                start_utc="2024-04-01 00:00:00",
                end_utc="2024-05-01 00:00:00",
            ),
            W(
                "2024-05-01",
                "2024-06-01",
                False,
                start_utc="2024-05-01 00:00:00",
                end_utc="2024-06-01 00:00:00",
            ),
        ],
    ),
    Case(
        "tokyo_midnight_before_as_of",
        "2024-05-01",
        "monthly",
        [
            W(
                "2024-05-01",
                "2024-06-01",
                False,
                start_utc="2024-04-30 15:00:00",
                end_utc="2024-05-31 15:00:00",
            ),
        ],
        timezone="Asia/Tokyo",
    ),
    Case(
        "los_angeles_midnight_after_as_of_has_no_windows",
        "2024-05-01",
        "monthly",
        [],
        timezone="America/Los_Angeles",
    ),
    Case(
        "windows_after_the_last_subscription_are_dropped",
        "2024-01-01",
        "monthly",
        [
            W("2024-01-01", "2024-02-01", True),
            W("2024-02-01", "2024-03-01", True),
            W("2024-03-01", "2024-04-01", True),
        ],
        subscriptions=[("monthly", "2024-01-01 00:00:00", "2024-03-15 00:00:00")],
    ),
    Case(
        # the yearly window closes early at the change to a monthly plan, which starts a new cycle
        "a_cadence_change_starts_a_new_cycle",
        "2024-01-10",
        "yearly",
        [
            W("2024-01-10", "2024-03-01", True, partial=True),
            W("2024-03-01", "2024-04-01", True),
            W("2024-04-01", "2024-05-01", True),
            W("2024-05-01", "2024-06-01", False),
        ],
        subscriptions=[
            ("monthly", "2024-03-01 00:00:00", None),
            ("yearly", "2024-01-10 00:00:00", "2024-03-01 00:00:00"),
        ],
    ),
]


def _customer_id(case: Case) -> str:
    return f"bw_{case.name}"


for _case in CASES:
    _subscriptions = _case.subscriptions or [(_case.plan, f"{_case.anchor} 00:00:00", None)]
    dbt_harness.register_customer(
        _customer_id(_case),
        _case.anchor,
        _case.timezone,
        [(f"{_customer_id(_case)}_{i}", *subscription) for i, subscription in enumerate(_subscriptions)],
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_billing_windows(case: Case) -> None:
    rows = dbt_harness.query(
        """
        select window_index, window_start_date, window_end_date, window_start, window_end, is_closed,
            is_partial_period, timezone
        from intermediate.int_billing_windows
        where customer_id = ?
        order by window_index
        """,
        [_customer_id(case)],
    )
    assert len(rows) == (case.total if case.total is not None else len(case.windows))
    assert [row[0] for row in rows] == list(range(len(rows)))
    for expected, row in zip(case.windows, rows, strict=False):
        _, start_date, end_date, start_utc, end_utc, is_closed, is_partial, timezone = row
        assert timezone == case.timezone
        assert (start_date, end_date) == (
            date.fromisoformat(expected.start),
            date.fromisoformat(expected.end),
        )
        assert is_closed is expected.closed
        assert is_partial is expected.partial
        if expected.start_utc is not None:
            assert start_utc == datetime.fromisoformat(expected.start_utc)
            assert end_utc == datetime.fromisoformat(expected.end_utc)
        elif case.timezone == "UTC":
            assert (start_utc.date(), end_utc.date()) == (start_date, end_date)

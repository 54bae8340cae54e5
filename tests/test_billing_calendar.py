"""Billing cycles and proration against hand-computed invoices in minor units (EUR cents). One dbt run (the shared
dbt_harness warehouse, as_of 2024-05-01 00:00 UTC) serves every case.

A change of cadence (interval unit, interval count or billing time) starts a new billing cycle at the change, as
Stripe and Lago do: the window in force closes early at the change, its invoice credits the unused part of a fee
billed in advance, and the new plan's windows recur from the change date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dbt_harness
import pytest


@dataclass(frozen=True)
class Case:
    name: str
    anchor: str
    # (plan_id, started_at, ended_at or None), in order
    subscriptions: list[tuple]
    # (window_start_date, window_end_date, is_closed)
    windows: list[tuple]
    # (billing_date, line_type, subscription index, amount in cents) of the base-fee lines, in any order
    fee_lines: list[tuple] | None = None
    before_anchor: str | None = None
    trial_period: str | None = None


CASES = [
    Case(
        # Stripe: monthly 30.00 -> yearly 300.00 on March 16 (in advance, by the second). The unused March (16 of
        # 31 days) is credited: -30.00 x 16/31 = -15.48; the yearly fee is billed once, for the year from March 16;
        # the next invoice is on March 16, 2025.
        "month_to_year_upgrade_mid_month_in_advance",
        "2024-01-01",
        [
            ("fee_monthly_30", "2024-01-01 00:00:00", "2024-03-16 00:00:00"),
            ("fee_yearly_300", "2024-03-16 00:00:00", None),
        ],
        [
            ("2024-01-01", "2024-02-01", True),
            ("2024-02-01", "2024-03-01", True),
            ("2024-03-01", "2024-03-16", True),
            ("2024-03-16", "2025-03-16", False),
        ],
        [
            ("2024-01-01", "base_fee", 0, 3000),
            ("2024-02-01", "base_fee", 0, 3000),
            ("2024-03-01", "base_fee", 0, 3000),
            ("2024-03-16", "proration_credit", 0, -1548),
            ("2024-03-16", "base_fee", 1, 30000),
        ],
    ),
    Case(
        # The same upgrade at 12:00: the new cycle starts at the change instant and its windows end at local
        # midnight of March 16 (the change date is the new anchor), so by the second the first yearly window is
        # half a day short of its period: 300.00 x 364.5/365 = 299.59. Credit: 30.00 x 15.5/31 = 15.00.
        "month_to_year_upgrade_at_noon",
        "2024-01-01",
        [
            ("fee_monthly_30", "2024-01-01 00:00:00", "2024-03-16 12:00:00"),
            ("fee_yearly_300", "2024-03-16 12:00:00", None),
        ],
        [
            ("2024-01-01", "2024-02-01", True),
            ("2024-02-01", "2024-03-01", True),
            ("2024-03-01", "2024-03-16", True),
            ("2024-03-16", "2025-03-16", False),
        ],
        [
            ("2024-01-01", "base_fee", 0, 3000),
            ("2024-02-01", "base_fee", 0, 3000),
            ("2024-03-01", "base_fee", 0, 3000),
            ("2024-03-16", "proration_credit", 0, -1500),
            ("2024-03-16", "base_fee", 1, 29959),
        ],
    ),
    Case(
        # In arrears: the monthly window closed early pays 15 of 31 days (30.00 x 15/31 = 14.52) on March 16; the
        # yearly fee is due at the end of its year (after as_of).
        "month_to_year_upgrade_in_arrears",
        "2024-01-01",
        [
            ("fee_monthly_30_arrears", "2024-01-01 00:00:00", "2024-03-16 00:00:00"),
            ("fee_yearly_300_arrears", "2024-03-16 00:00:00", None),
        ],
        [
            ("2024-01-01", "2024-02-01", True),
            ("2024-02-01", "2024-03-01", True),
            ("2024-03-01", "2024-03-16", True),
            ("2024-03-16", "2025-03-16", False),
        ],
        [
            ("2024-02-01", "base_fee", 0, 3000),
            ("2024-03-01", "base_fee", 0, 3000),
            ("2024-03-16", "base_fee", 0, 1452),
        ],
    ),
    Case(
        # Lago (by day): yearly 120.00 from June 1, 2023 -> monthly 10.00 on March 16, 2024. The year (366 days,
        # with February 29) has 77 days left from March 16 (16 + 30 + 31): -120.00 x 77/366 = -25.25. The monthly
        # plan recurs from March 16.
        "year_to_month_downgrade_by_day",
        "2023-06-01",
        [
            ("fee_yearly_120_by_day", "2023-06-01 00:00:00", "2024-03-16 00:00:00"),
            ("fee_monthly_10_by_day", "2024-03-16 00:00:00", None),
        ],
        [
            ("2023-06-01", "2024-03-16", True),
            ("2024-03-16", "2024-04-16", True),
            ("2024-04-16", "2024-05-16", False),
        ],
        [
            ("2023-06-01", "base_fee", 0, 12000),
            ("2024-03-16", "proration_credit", 0, -2525),
            ("2024-03-16", "base_fee", 1, 1000),
            ("2024-04-16", "base_fee", 1, 1000),
        ],
    ),
    Case(
        # month -> week on Wednesday March 13: -30.00 x 19/31 = -18.39 for March; 7.00 every Wednesday.
        "month_to_week",
        "2024-03-01",
        [
            ("fee_monthly_30", "2024-03-01 00:00:00", "2024-03-13 00:00:00"),
            ("fee_weekly_7", "2024-03-13 00:00:00", None),
        ],
        [
            ("2024-03-01", "2024-03-13", True),
            ("2024-03-13", "2024-03-20", True),
            ("2024-03-20", "2024-03-27", True),
            ("2024-03-27", "2024-04-03", True),
            ("2024-04-03", "2024-04-10", True),
            ("2024-04-10", "2024-04-17", True),
            ("2024-04-17", "2024-04-24", True),
            ("2024-04-24", "2024-05-01", True),
            ("2024-05-01", "2024-05-08", False),
        ],
        [
            ("2024-03-01", "base_fee", 0, 3000),
            ("2024-03-13", "proration_credit", 0, -1839),
            *[(day, "base_fee", 1, 700) for day in ("2024-03-13", "2024-03-20", "2024-03-27", "2024-04-03")],
            *[(day, "base_fee", 1, 700) for day in ("2024-04-10", "2024-04-17", "2024-04-24", "2024-05-01")],
        ],
    ),
    Case(
        # week -> month on Wednesday February 14, 2024: the week from Monday February 12 closes after 2 of 7 days
        # (-7.00 x 5/7 = -5.00); the month recurs from the 14th.
        "week_to_month",
        "2024-01-01",
        [
            ("fee_weekly_7", "2024-01-01 00:00:00", "2024-02-14 00:00:00"),
            ("fee_monthly_30", "2024-02-14 00:00:00", None),
        ],
        [
            ("2024-01-01", "2024-01-08", True),
            ("2024-01-08", "2024-01-15", True),
            ("2024-01-15", "2024-01-22", True),
            ("2024-01-22", "2024-01-29", True),
            ("2024-01-29", "2024-02-05", True),
            ("2024-02-05", "2024-02-12", True),
            ("2024-02-12", "2024-02-14", True),
            ("2024-02-14", "2024-03-14", True),
            ("2024-03-14", "2024-04-14", True),
            ("2024-04-14", "2024-05-14", False),
        ],
        [
            *[(day, "base_fee", 0, 700) for day in ("2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22")],
            *[(day, "base_fee", 0, 700) for day in ("2024-01-29", "2024-02-05", "2024-02-12")],
            ("2024-02-14", "proration_credit", 0, -500),
            *[(day, "base_fee", 1, 3000) for day in ("2024-02-14", "2024-03-14", "2024-04-14")],
        ],
    ),
    Case(
        # Stripe's proration_behavior per change, monthly plans by the second in advance. Feb 10 (default
        # create_prorations): on Mar 1 -30.00 x 20/29 = -20.69 and 60.00 x 20/29 = 41.38. Mar 10 (none): nothing;
        # the 60.00 billed on Mar 1 stands. Apr 20 (always_invoice): -90.00 x 11/30 = -33.00 and 30.00 x 11/30 =
        # 11.00 on an invoice dated Apr 20, not May 1.
        "proration_behavior_per_change",
        "2024-01-01",
        [
            ("fee_monthly_30", "2024-01-01 00:00:00", "2024-02-10 00:00:00"),
            ("fee_monthly_60", "2024-02-10 00:00:00", "2024-03-10 00:00:00"),
            ("fee_monthly_90", "2024-03-10 00:00:00", "2024-04-20 00:00:00", {"proration_behavior": "none"}),
            ("fee_monthly_30", "2024-04-20 00:00:00", None, {"proration_behavior": "always_invoice"}),
        ],
        [
            ("2024-01-01", "2024-02-01", True),
            ("2024-02-01", "2024-03-01", True),
            ("2024-03-01", "2024-04-01", True),
            ("2024-04-01", "2024-05-01", True),
            ("2024-05-01", "2024-06-01", False),
        ],
        [
            ("2024-01-01", "base_fee", 0, 3000),
            ("2024-02-01", "base_fee", 0, 3000),
            ("2024-03-01", "proration_credit", 0, -2069),
            ("2024-03-01", "proration_charge", 1, 4138),
            ("2024-03-01", "base_fee", 1, 6000),
            ("2024-04-01", "base_fee", 2, 9000),
            ("2024-04-20", "proration_credit", 2, -3300),
            ("2024-04-20", "proration_charge", 3, 1100),
            ("2024-05-01", "base_fee", 3, 3000),
        ],
    ),
    Case(
        # Lago's calendar quarters: a plan every 3 months, calendar, started on February 15: the first window runs
        # to April 1 and pays 46 of the quarter's 91 days (by day): 90.00 x 46/91 = 45.49; then whole quarters.
        "calendar_quarter_starting_mid_quarter",
        "2024-02-15",
        [("fee_calendar_quarterly_90_by_day", "2024-02-15 00:00:00", None)],
        [("2024-02-15", "2024-04-01", True), ("2024-04-01", "2024-07-01", False)],
        [("2024-02-15", "base_fee", 0, 4549), ("2024-04-01", "base_fee", 0, 9000)],
    ),
    Case(
        # calendar half-years from January 1 and July 1: February 15 to July 1 is 137 of 182 days: 137.00
        "calendar_half_year_starting_mid_half",
        "2024-02-15",
        [("fee_calendar_half_yearly_182_by_day", "2024-02-15 00:00:00", None)],
        [("2024-02-15", "2024-07-01", False)],
        [("2024-02-15", "base_fee", 0, 13700)],
    ),
    Case(
        # Stripe's prorated stub: a subscription from February 20 with a billing anchor on March 1 bills the stub
        # February 20 - March 1 at once, 10 of the 29 days of the period ending at the anchor (30.00 x 10/29 = 10.34),
        # then whole months from March 1.
        "stub_to_a_future_anchor_prorated",
        "2024-03-01",
        [("fee_monthly_30", "2024-02-20 00:00:00", None)],
        [
            ("2024-02-20", "2024-03-01", True),
            ("2024-03-01", "2024-04-01", True),
            ("2024-04-01", "2024-05-01", True),
            ("2024-05-01", "2024-06-01", False),
        ],
        [
            ("2024-02-20", "base_fee", 0, 1034),
            ("2024-03-01", "base_fee", 0, 3000),
            ("2024-04-01", "base_fee", 0, 3000),
            ("2024-05-01", "base_fee", 0, 3000),
        ],
        before_anchor="prorated_stub",
    ),
    Case(
        # the same subscription created with proration_behavior none (Stripe: no stub): billing starts at the anchor
        "stub_to_a_future_anchor_without_proration",
        "2024-03-01",
        [("fee_monthly_30", "2024-02-20 00:00:00", None, {"proration_behavior": "none"})],
        [
            ("2024-03-01", "2024-04-01", True),
            ("2024-04-01", "2024-05-01", True),
            ("2024-05-01", "2024-06-01", False),
        ],
        [
            ("2024-03-01", "base_fee", 0, 3000),
            ("2024-04-01", "base_fee", 0, 3000),
            ("2024-05-01", "base_fee", 0, 3000),
        ],
        before_anchor="prorated_stub",
    ),
    Case(
        # the default (unbilled): the anchor is also the date billing starts
        "stub_unbilled_by_default",
        "2024-03-01",
        [("fee_monthly_30", "2024-02-20 00:00:00", None)],
        [
            ("2024-03-01", "2024-04-01", True),
            ("2024-04-01", "2024-05-01", True),
            ("2024-05-01", "2024-06-01", False),
        ],
        [
            ("2024-03-01", "base_fee", 0, 3000),
            ("2024-04-01", "base_fee", 0, 3000),
            ("2024-05-01", "base_fee", 0, 3000),
        ],
    ),
    Case(
        # A trial inside the first window (the default): no fee on January 1, the rest of January after the trial
        # (17 of 31 days: 30.00 x 17/31 = 16.45) on February 1 with February's fee.
        "trial_ending_mid_month_inside_the_window",
        "2024-01-01",
        [("fee_monthly_30", "2024-01-01 00:00:00", None, {"trial_ends_at": "2024-01-15 00:00:00"})],
        [
            ("2024-01-01", "2024-02-01", True),
            ("2024-02-01", "2024-03-01", True),
            ("2024-03-01", "2024-04-01", True),
            ("2024-04-01", "2024-05-01", True),
            ("2024-05-01", "2024-06-01", False),
        ],
        [
            ("2024-02-01", "proration_charge", 0, 1645),
            *[(day, "base_fee", 0, 3000) for day in ("2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01")],
        ],
    ),
    Case(
        # Stripe: the trial is its own zero-amount period and the paid cycle starts at the trial end: 30.00 on
        # January 15 for January 15 - February 15, then every 15th.
        "trial_ending_mid_month_as_its_own_period",
        "2024-01-01",
        [("fee_monthly_30", "2024-01-01 00:00:00", None, {"trial_ends_at": "2024-01-15 00:00:00"})],
        [
            ("2024-01-01", "2024-01-15", True),
            ("2024-01-15", "2024-02-15", True),
            ("2024-02-15", "2024-03-15", True),
            ("2024-03-15", "2024-04-15", True),
            ("2024-04-15", "2024-05-15", False),
        ],
        [(day, "base_fee", 0, 3000) for day in ("2024-01-15", "2024-02-15", "2024-03-15", "2024-04-15")],
        trial_period="own_period",
    ),
    Case(
        "month_to_every_two_months",
        "2024-01-01",
        [
            ("monthly", "2024-01-01 00:00:00", "2024-02-10 00:00:00"),
            ("bimonthly", "2024-02-10 00:00:00", None),
        ],
        [
            ("2024-01-01", "2024-02-01", True),
            ("2024-02-01", "2024-02-10", True),
            ("2024-02-10", "2024-04-10", True),
            ("2024-04-10", "2024-06-10", False),
        ],
    ),
    Case(
        "every_two_months_to_month",
        "2024-01-01",
        [
            ("bimonthly", "2024-01-01 00:00:00", "2024-02-10 00:00:00"),
            ("monthly", "2024-02-10 00:00:00", None),
        ],
        [
            ("2024-01-01", "2024-02-10", True),
            ("2024-02-10", "2024-03-10", True),
            ("2024-03-10", "2024-04-10", True),
            ("2024-04-10", "2024-05-10", False),
        ],
    ),
    Case(
        # a change within one cadence keeps the grid (and the usual proration)
        "same_cadence_change_keeps_the_grid",
        "2024-01-01",
        [
            ("monthly", "2024-01-01 00:00:00", "2024-02-10 00:00:00"),
            ("monthly_pro", "2024-02-10 00:00:00", None),
        ],
        [
            ("2024-01-01", "2024-02-01", True),
            ("2024-02-01", "2024-03-01", True),
            ("2024-03-01", "2024-04-01", True),
            ("2024-04-01", "2024-05-01", True),
            ("2024-05-01", "2024-06-01", False),
        ],
    ),
]


def _customer_id(case: Case) -> str:
    return f"cal_{case.name}"


for _case in CASES:
    dbt_harness.register_customer(
        _customer_id(_case),
        _case.anchor,
        "UTC",
        [(f"{_customer_id(_case)}_{i}", *subscription) for i, subscription in enumerate(_case.subscriptions)],
        before_anchor=_case.before_anchor,
        trial_period=_case.trial_period,
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_windows_follow_each_cycle(case: Case) -> None:
    rows = dbt_harness.query(
        """
        select window_start_date, window_end_date, is_closed
        from intermediate.int_billing_windows
        where customer_id = ?
        order by window_index
        """,
        [_customer_id(case)],
    )
    expected = [
        (date.fromisoformat(start), date.fromisoformat(end), closed) for start, end, closed in case.windows
    ]
    assert rows == expected


@pytest.mark.parametrize(
    "case", [case for case in CASES if case.fee_lines is not None], ids=lambda case: case.name
)
def test_fee_lines_in_cents(case: Case) -> None:
    rows = dbt_harness.query(
        """
        select billing_date, line_type, subscription_id, amount_minor
        from intermediate.int_invoice_lines_computed
        where customer_id = ? and scenario = 'actual' and charge_model = 'base_fee'
        """,
        [_customer_id(case)],
    )
    expected = [
        (date.fromisoformat(day), line_type, f"{_customer_id(case)}_{index}", cents)
        for day, line_type, index, cents in case.fee_lines or []
    ]
    assert sorted(rows) == sorted(expected)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("stub_to_a_future_anchor_prorated", "billable"),
        ("stub_to_a_future_anchor_without_proration", "before_billing_anchor"),
        ("stub_unbilled_by_default", "before_billing_anchor"),
    ],
)
def test_usage_in_a_stub_is_billed_in_it(name: str, status: str) -> None:
    """Usage on February 25 lands in the stub window when there is one, else it is before billing starts (the
    billing status of the customer's time line at that instant, which is what places an event)."""
    [(billing_status,)] = dbt_harness.query(
        "select billing_status from intermediate.int_billing_segments"
        " where customer_id = ? and segment_start <= ?::timestamp and segment_end > ?::timestamp",
        [f"cal_{name}", "2024-02-25 12:00:00", "2024-02-25 12:00:00"],
    )
    assert billing_status == status

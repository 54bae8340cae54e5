"""The invoice ledger's rules, on hand-made computed lines in a scratch DuckDB file (no dbt): issue after the
grace period, frozen rows, adjustments once per difference, credit balances, one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dagster_billing.ledger import issue as ledger_issue
from dagster_billing.ledger.integrity import changed_invoices
from dagster_billing.ledger.issue import issue_due_invoices

SEP_1 = datetime(2026, 9, 1)
OCT_1 = datetime(2026, 10, 1)
NOV_1 = datetime(2026, 11, 1)
DEC_1 = datetime(2026, 12, 1)


@dataclass(frozen=True)
class Line:
    """One computed line; the invoice is (customer, billing_at) and the line identity is (line_type, metric, tier,
    period_start), as in int_invoice_lines_computed."""

    customer_id: str
    billing_at: datetime
    line_type: str
    amount_minor: int
    quantity: Decimal = Decimal(1)
    metric: str | None = None
    tier: int | None = None
    period_start: datetime | None = None
    pricing_version: str = "2025-01"
    unit_amount: Decimal | None = None
    hold_reason: str | None = None

    @property
    def invoice_id(self) -> str:
        return f"inv_{self.customer_id}_{self.billing_at:%Y%m%d}"

    @property
    def line_id(self) -> str:
        return f"il_{self.invoice_id}_{self.line_type}_{self.metric}_{self.tier}_{self.start:%Y%m%d}"

    @property
    def start(self) -> datetime:
        return self.period_start or self.billing_at - timedelta(days=30)


def fee(customer: str, billing_at: datetime, amount_minor: int = 1000) -> Line:
    return Line(customer, billing_at, "base_fee", amount_minor, period_start=billing_at)


def usage(
    customer: str, billing_at: datetime, quantity: int, amount_minor: int, tier: int | None = None
) -> Line:
    return Line(customer, billing_at, "usage", amount_minor, Decimal(quantity), "api_calls", tier)


class Ledger:
    def __init__(self, path: Path) -> None:
        self.con = duckdb.connect(str(path))
        self.con.execute("set TimeZone = 'UTC'")
        for schema in ("intermediate", "staging", "raw"):
            self.con.execute(f"create schema {schema}")
        self.con.execute(
            """create table staging.stg_customers (customer_id varchar, collection_method varchar,
               days_until_due integer, stripe_customer_id varchar)"""
        )
        self.con.execute(
            "create table raw.usage_events (event_id varchar, customer_id varchar, metric varchar, "
            "occurred_at timestamp, source_file_id integer)"
        )
        self.con.execute("create table raw.ingested_files (file_id integer, ingested_at timestamp)")
        self.runs = 0

    def customer(self, customer_id: str, method: str = "charge_automatically") -> None:
        days = 30 if method == "send_invoice" else None
        self.con.execute(
            "insert into staging.stg_customers values (?, ?, ?, null)", [customer_id, method, days]
        )

    def event(self, customer_id: str, occurred_at: datetime, ingested_at: datetime) -> None:
        (file_id,) = self.con.execute("select count(*) + 1 from raw.ingested_files").fetchone()
        self.con.execute("insert into raw.ingested_files values (?, ?)", [file_id, ingested_at])
        self.con.execute(
            "insert into raw.usage_events values (?, ?, 'api_calls', ?, ?)",
            [f"evt_{file_id}", customer_id, occurred_at, file_id],
        )

    def compute(self, lines: list[Line]) -> None:
        """Replace the computed lines, as a dbt run would."""
        self.con.execute(
            """create or replace table intermediate.int_invoice_lines_computed (
                line_id varchar, invoice_id varchar, scenario varchar, customer_id varchar, billing_date date,
                line_number integer, line_type varchar, subscription_id varchar, plan_id varchar,
                pricing_version varchar, metric varchar, charge_model varchar, tier integer,
                quantity decimal(38, 12), unit_amount decimal(38, 12), period_start timestamp,
                period_end timestamp, amount decimal(38, 18), amount_minor bigint, currency varchar,
                minor_unit_digits integer, rounding_mode varchar, description varchar, billing_at timestamp,
                hold_reason varchar)"""
        )
        # int_invoices_computed, as dbt builds it: each invoice's currency and its customer's terms
        self.con.execute(
            """create or replace view intermediate.int_invoices_computed as
               select l.invoice_id, l.scenario, any_value(l.currency) as currency,
                      any_value(l.minor_unit_digits) as minor_unit_digits, c.collection_method,
                      c.days_until_due, l.billing_date + coalesce(c.days_until_due, 0) as due_date,
                      c.stripe_customer_id
               from intermediate.int_invoice_lines_computed as l
               join staging.stg_customers as c using (customer_id)
               group by l.invoice_id, l.scenario, l.billing_date, c.collection_method, c.days_until_due,
                        c.stripe_customer_id"""
        )
        numbers: dict[str, int] = {}
        for line in lines:
            numbers[line.invoice_id] = numbers.get(line.invoice_id, 0) + 1
            self.con.execute(
                """insert into intermediate.int_invoice_lines_computed values
                   (?, ?, 'actual', ?, ?, ?, ?, 'sub_1', 'growth', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'USD', 2,
                    'half_up', ?, ?, ?)""",
                [
                    line.line_id,
                    line.invoice_id,
                    line.customer_id,
                    line.billing_at.date(),
                    numbers[line.invoice_id],
                    line.line_type,
                    line.pricing_version,
                    line.metric,
                    "tax" if line.line_type == "tax" else "per_unit",
                    line.tier,
                    line.quantity,
                    line.unit_amount,
                    line.start,
                    line.start + timedelta(days=30),
                    Decimal(line.amount_minor) / 100,
                    line.amount_minor,
                    f"{line.line_type} {line.metric or ''} {line.quantity}",
                    line.billing_at,
                    line.hold_reason,
                ],
            )

    def issue(self, as_of: datetime, grace: timedelta = timedelta(hours=24)):
        self.runs += 1
        return issue_due_invoices(
            self.con, as_of=as_of, grace_period=grace, run_id=f"run-{self.runs}", issued_at=as_of
        )

    def invoices(self, customer_id: str) -> list[tuple]:
        return self.con.execute(
            "select billing_date::varchar, subtotal_minor, credit_minor, total_minor, credit_balance_minor "
            "from billing.issued_invoices where customer_id = ? order by billing_at",
            [customer_id],
        ).fetchall()

    def lines(self, invoice_id: str) -> list[tuple]:
        return self.con.execute(
            "select line_type, amount_minor, quantity::integer, adjusted_invoice_id, adjustment_reason, "
            "late_event_count from billing.issued_invoice_lines where invoice_id = ? order by line_number",
            [invoice_id],
        ).fetchall()

    def ledger_rows(self) -> list[tuple]:
        return (
            self.con.execute("select * from billing.issued_invoice_lines order by line_id").fetchall()
            + self.con.execute("select * from billing.issued_invoices order by invoice_id").fetchall()
        )


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.duckdb")
    ledger.customer("cus_a")
    ledger.customer("cus_b", "send_invoice")
    return ledger


def test_an_invoice_is_issued_once_its_grace_period_has_passed(ledger: Ledger) -> None:
    ledger.compute([fee("cus_a", OCT_1), usage("cus_a", OCT_1, 10, 500)])
    assert ledger.issue(OCT_1 + timedelta(hours=23)).issued == 0
    summary = ledger.issue(OCT_1 + timedelta(hours=24))
    assert (summary.issued, summary.issued_total_minor) == (1, {"USD": 1500})
    assert ledger.invoices("cus_a") == [("2026-10-01", 1500, 0, 1500, 0)]
    assert ledger.issue(OCT_1 + timedelta(days=2)).issued == 0  # issued once
    ledger.compute([fee("cus_a", OCT_1), usage("cus_a", OCT_1, 10, 500), fee("cus_a", NOV_1)])
    assert ledger.issue(NOV_1, timedelta(0)).issued == 1  # a grace period of 0 issues on the billing date


def test_a_late_event_becomes_one_adjustment_line_on_the_next_invoice(ledger: Ledger) -> None:
    ledger.compute([usage("cus_a", OCT_1, 10, 500)])
    ledger.issue(OCT_1 + timedelta(days=1))
    issued_before = ledger.ledger_rows()
    # a late event in the issued window arrives after issue: the window now computes to 12 units
    ledger.event("cus_a", OCT_1 - timedelta(days=3), ingested_at=OCT_1 + timedelta(days=1, hours=5))
    ledger.compute([usage("cus_a", OCT_1, 12, 600), fee("cus_a", NOV_1, 1000)])
    summary = ledger.issue(NOV_1 + timedelta(days=1))
    assert set(issued_before) < set(ledger.ledger_rows())  # every earlier row is still there, unchanged
    assert summary.adjustments_by_reason == {"late_events": 1}
    october, november = "inv_cus_a_20261001", "inv_cus_a_20261101"
    assert ledger.lines(october) == [("usage", 500, 10, None, None, None)]
    assert ledger.lines(november) == [
        ("base_fee", 1000, 1, None, None, None),
        ("adjustment", 100, 2, october, "late_events", 1),
    ]
    assert ledger.invoices("cus_a")[1] == ("2026-11-01", 1100, 0, 1100, 0)
    # a re-run adds nothing; a second late event later adds only its own delta
    assert ledger.issue(NOV_1 + timedelta(days=1)).adjustment_lines == 0
    ledger.compute([usage("cus_a", OCT_1, 15, 750), fee("cus_a", NOV_1), fee("cus_a", DEC_1)])
    ledger.issue(DEC_1 + timedelta(days=1))
    assert ledger.lines("inv_cus_a_20261201")[1][:3] == ("adjustment", 150, 3)
    assert changed_invoices(ledger.con).changed == []


def test_a_late_event_crossing_a_tier_boundary_adjusts_each_tier(ledger: Ledger) -> None:
    ledger.compute([usage("cus_a", OCT_1, 100, 1000, tier=1)])
    ledger.issue(OCT_1 + timedelta(days=1))
    # 30 more units: tier 1 (up to 110 units) fills up with 10 of them and tier 2 starts with the other 20
    ledger.compute(
        [
            usage("cus_a", OCT_1, 110, 1100, tier=1),
            usage("cus_a", OCT_1, 20, 100, tier=2),
            fee("cus_a", NOV_1, 1000),
        ]
    )
    ledger.issue(NOV_1 + timedelta(days=1))
    adjustments = [line for line in ledger.lines("inv_cus_a_20261101") if line[0] == "adjustment"]
    assert [(amount, quantity) for _, amount, quantity, *_ in adjustments] == [(100, 10), (100, 20)]
    # exactly the corrected invoice (1200) minus the issued one (1000)
    assert sum(amount for _, amount, *_ in adjustments) == 1200 - 1000


def test_a_negative_adjustment_larger_than_the_next_invoice_carries_a_credit_balance(ledger: Ledger) -> None:
    ledger.compute([usage("cus_b", OCT_1, 100, 5000)])
    ledger.issue(OCT_1 + timedelta(days=1))
    # the usage is corrected down (e.g. a pricing fix) by 4000; November's invoice is only 1000
    ledger.compute([usage("cus_b", OCT_1, 20, 1000), fee("cus_b", NOV_1, 1000)])
    ledger.issue(NOV_1 + timedelta(days=1))
    assert ledger.invoices("cus_b")[1] == ("2026-11-01", -3000, -3000, 0, 3000)
    assert ledger.lines("inv_cus_b_20261101")[-1][:2] == ("credit", 3000)
    # December's 1000 is paid from the balance, which keeps 2000
    ledger.compute([usage("cus_b", OCT_1, 20, 1000), fee("cus_b", NOV_1, 1000), fee("cus_b", DEC_1, 1000)])
    ledger.issue(DEC_1 + timedelta(days=1))
    assert ledger.invoices("cus_b")[2] == ("2026-12-01", 1000, 1000, 0, 2000)
    assert ledger.lines("inv_cus_b_20261201")[-1][:2] == ("credit", -1000)


def test_a_backdated_cancellation_removes_a_billed_fee_with_a_negative_adjustment(ledger: Ledger) -> None:
    ledger.compute([fee("cus_a", OCT_1, 3000), fee("cus_a", NOV_1, 3000)])
    ledger.issue(NOV_1 + timedelta(days=1))
    # cancelled as of October 1: the November fee is no longer due; December bills a (new plan's) fee
    ledger.compute([fee("cus_a", OCT_1, 3000), fee("cus_a", DEC_1, 500)])
    ledger.issue(DEC_1 + timedelta(days=1))
    assert ledger.lines("inv_cus_a_20261201") == [
        ("base_fee", 500, 1, None, None, None),
        ("adjustment", -3000, -1, "inv_cus_a_20261101", "subscription_change", None),
        ("credit", 2500, None, None, None, None),
    ]
    assert ledger.invoices("cus_a")[-1] == ("2026-12-01", -2500, -2500, 0, 2500)


def test_an_edited_pricing_version_adjusts_with_its_reason(ledger: Ledger) -> None:
    ledger.compute([usage("cus_a", OCT_1, 10, 500)])
    ledger.issue(OCT_1 + timedelta(days=1))
    repriced = replace(usage("cus_a", OCT_1, 10, 700), unit_amount=Decimal("0.7"))
    ledger.compute([repriced, fee("cus_a", NOV_1)])
    ledger.issue(NOV_1 + timedelta(days=1))
    assert ledger.lines("inv_cus_a_20261101")[1][:5] == (
        "adjustment",
        200,
        0,
        "inv_cus_a_20261001",
        "pricing_change",
    )


def test_adjustments_wait_for_the_customers_next_invoice(ledger: Ledger) -> None:
    ledger.compute([usage("cus_a", OCT_1, 10, 500), usage("cus_b", OCT_1, 10, 500)])
    ledger.issue(OCT_1 + timedelta(days=1))
    ledger.compute([usage("cus_a", OCT_1, 11, 550), usage("cus_b", OCT_1, 10, 500), fee("cus_b", NOV_1)])
    summary = ledger.issue(NOV_1 + timedelta(days=1))
    assert (summary.adjustment_lines, summary.pending_adjustment_lines) == (0, 1)
    ledger.compute(
        [
            usage("cus_a", OCT_1, 11, 550),
            usage("cus_b", OCT_1, 10, 500),
            fee("cus_b", NOV_1),
            fee("cus_a", DEC_1),
        ]
    )
    assert ledger.issue(DEC_1 + timedelta(days=1)).adjustment_lines == 1


def test_a_failure_while_issuing_leaves_the_ledger_as_it_was(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger.compute([usage("cus_a", OCT_1, 10, 500)])
    ledger.issue(OCT_1 + timedelta(days=1))
    before = ledger.ledger_rows()
    ledger.compute([usage("cus_a", OCT_1, 12, 600), fee("cus_a", NOV_1)])

    def crash(con):
        raise RuntimeError("killed")

    monkeypatch.setattr(ledger_issue, "_credit_lines", crash)
    with pytest.raises(RuntimeError):
        ledger.issue(NOV_1 + timedelta(days=1))
    assert ledger.ledger_rows() == before
    monkeypatch.undo()
    assert ledger.issue(NOV_1 + timedelta(days=1)).issued == 1


def test_the_integrity_check_finds_a_changed_or_deleted_ledger_row(ledger: Ledger) -> None:
    ledger.compute([usage("cus_a", OCT_1, 10, 500), fee("cus_a", OCT_1)])
    ledger.issue(OCT_1 + timedelta(days=1))
    assert changed_invoices(ledger.con).changed == []
    ledger.con.execute("update billing.issued_invoice_lines set amount_minor = 1 where line_type = 'usage'")
    assert changed_invoices(ledger.con).changed == [
        "inv_cus_a_20261001: its header or lines changed after issue (content hash differs)"
    ]
    ledger.con.execute("delete from billing.issued_invoice_lines where line_type = 'usage'")
    assert changed_invoices(ledger.con).changed == ["inv_cus_a_20261001: issued with 2 lines, has 1 now"]


HUGE = "usage of api_calls in 2026-09-01..2026-10-01 prices to about 3.0e+15 USD, more than the 1,000,000,000 USD"


def test_a_held_invoice_is_never_issued_and_its_recomputation_never_adjusts(ledger: Ledger) -> None:
    # every line of a held invoice carries the reason (int_invoice_lines_computed); the held line has amount 0
    held = [
        replace(fee("cus_a", OCT_1), hold_reason=HUGE),
        replace(usage("cus_a", OCT_1, 10, 0), hold_reason=HUGE),
    ]
    ledger.compute([*held, fee("cus_b", OCT_1)])
    summary = ledger.issue(OCT_1 + timedelta(days=1))
    assert (summary.issued, summary.held) == (1, 1)
    assert ledger.invoices("cus_a") == []
    # the usage is corrected: the invoice is issued with its real amount on the next run
    ledger.compute([fee("cus_a", OCT_1), usage("cus_a", OCT_1, 10, 500), fee("cus_b", OCT_1)])
    assert (ledger.issue(OCT_1 + timedelta(days=2)).held, ledger.invoices("cus_a")) == (
        0,
        [("2026-10-01", 1500, 0, 1500, 0)],
    )
    # huge late usage makes the issued invoice's recomputation held: no adjustment (its 0 is not what it costs)
    ledger.compute(
        [
            replace(fee("cus_a", OCT_1), hold_reason=HUGE),
            replace(usage("cus_a", OCT_1, 10, 0), hold_reason=HUGE),
            fee("cus_a", NOV_1),
            fee("cus_b", OCT_1),
        ]
    )
    summary = ledger.issue(NOV_1 + timedelta(days=1))
    assert (summary.issued, summary.adjustment_lines, summary.pending_adjustment_lines) == (1, 0, 0)
    assert ledger.lines("inv_cus_a_20261101") == [("base_fee", 1000, 1, None, None, None)]


def test_tax_is_recomputed_with_its_lines_and_left_as_billed_once_stripe_tax_computes_it(
    ledger: Ledger,
) -> None:
    def tax(billing_at: datetime, taxable: int, amount_minor: int) -> Line:
        return Line("cus_a", billing_at, "tax", amount_minor, Decimal(taxable), "DE", unit_amount=Decimal(19))

    ledger.compute([usage("cus_a", OCT_1, 10, 500), tax(OCT_1, 5, 95)])
    ledger.issue(OCT_1 + timedelta(days=1))
    # a late event: the usage line computes to 600 and its tax to 114; both differences are adjustments
    ledger.event("cus_a", OCT_1 - timedelta(days=3), ingested_at=OCT_1 + timedelta(days=1, hours=5))
    ledger.compute([usage("cus_a", OCT_1, 12, 600), tax(OCT_1, 6, 114), fee("cus_a", NOV_1, 1000)])
    summary = ledger.issue(NOV_1 + timedelta(days=1))
    assert summary.adjustments_by_reason == {"late_events": 1, "tax_recomputed": 1}
    october = "inv_cus_a_20261001"
    assert sorted(ledger.lines("inv_cus_a_20261101")) == [
        ("adjustment", 19, 1, october, "tax_recomputed", None),
        ("adjustment", 100, 2, october, "late_events", 1),
        ("base_fee", 1000, 1, None, None, None),
    ]
    # tax handed to Stripe Tax: the computed lines carry no tax, and the tax already billed is not credited back
    ledger.compute([usage("cus_a", OCT_1, 12, 600), fee("cus_a", NOV_1, 1000), fee("cus_a", DEC_1, 1000)])
    handed_over = issue_due_invoices(
        ledger.con,
        as_of=DEC_1 + timedelta(days=1),
        run_id="run-stripe-tax",
        issued_at=DEC_1,
        compare_tax=False,
    )
    assert (handed_over.issued, handed_over.adjustment_lines) == (1, 0)

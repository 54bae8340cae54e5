"""One customer's usage at the quantity maximum must never stop every invoice (issue 12): through the whole
pipeline (Dagster + dbt on a real DuckDB file), a customer with thousands of events of 10^15 in one window and an
ordinary customer on the same per_unit plan. The build succeeds, the ordinary invoice is issued to the cent, and
the huge one waits as `held` with its reason, out of the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dagster_billing.pipeline_run import PipelineRun, run_pipeline
from dagster_billing.settings import BillingPaths

PRICING_DIR = Path(__file__).parent / "fixtures" / "invoice_held" / "pricing"
AS_OF = "2026-03-01"
HUGE_EVENTS = 3_000  # x 10^15 = 3 x 10^18 calls in January, x 0.001 USD = 3 x 10^15 USD


@dataclass
class HeldScenario:
    paths: BillingPaths
    run: PipelineRun

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.paths.warehouse_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def _write_landing(landing: Path) -> None:
    (landing / "usage").mkdir(parents=True)
    (landing / "customers.csv").write_text(
        "customer_id,name,email,currency,billing_anchor,collection_method,days_until_due,timezone,"
        "stripe_customer_id,pricing_version\n"
        "cus_big,Big Usage Inc,billing@big.example,USD,2026-01-01,charge_automatically,,UTC,,\n"
        "cus_small,Small Co,billing@small.example,USD,2026-01-01,charge_automatically,,UTC,,\n"
    )
    (landing / "subscriptions.csv").write_text(
        "subscription_id,customer_id,plan_id,started_at,ended_at,quantity,trial_ends_at\n"
        "sub_big,cus_big,metered,2026-01-01T00:00:00Z,,1,\n"
        "sub_small,cus_small,metered,2026-01-01T00:00:00Z,,1,\n"
    )
    rows = ["event_id,customer_id,metric,quantity,occurred_at,properties"]
    rows += [
        f"evt_big_{n},cus_big,api_calls,1000000000000000,2026-01-{1 + n % 28:02d}T{n % 24:02d}:00:00Z,"
        for n in range(HUGE_EVENTS)
    ]
    rows += [
        "evt_small_1,cus_small,api_calls,1000,2026-01-10T00:00:00Z,",
        "evt_small_2,cus_small,api_calls,234,2026-01-20T00:00:00Z,",
    ]
    (landing / "usage" / "events.csv").write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def held_scenario(tmp_path_factory: pytest.TempPathFactory) -> HeldScenario:
    root = tmp_path_factory.mktemp("held")
    _write_landing(root / "landing")
    paths = BillingPaths(root / "landing", root / "warehouse.duckdb", PRICING_DIR)
    return HeldScenario(paths, run_pipeline(paths, AS_OF))


def test_the_build_succeeds_with_usage_at_the_maximum(held_scenario):
    assert held_scenario.run.failures == []
    assert held_scenario.query(
        "select count(*), sum(quantity) from raw.usage_events where customer_id = 'cus_big'"
    ) == [(HUGE_EVENTS, HUGE_EVENTS * 10**15)]


def test_the_ordinary_customer_is_issued_to_the_cent(held_scenario):
    lines = held_scenario.query(
        """select line_type, quantity::double, amount_minor, hold_reason from marts.fct_invoice_lines
        where customer_id = 'cus_small' and billing_date = date '2026-02-01' order by line_number"""
    )
    assert lines == [
        ("base_fee", 1.0, 1000, None),  # February, in advance
        ("usage", 1234.0, 123, None),  # 1,234 x 0.001 = 1.234
        ("minimum_spend_true_up", None, 377, None),  # 5.00 - 1.234 = 3.766
    ]
    assert held_scenario.query(
        """select invoice_status, total_minor, hold_reason from marts.fct_invoices
        where customer_id = 'cus_small' and billing_date = date '2026-02-01'"""
    ) == [("issued", 1500, None)]


def test_the_huge_invoice_is_held_with_its_reason_and_not_issued(held_scenario):
    ((status, reason),) = held_scenario.query(
        """select invoice_status, hold_reason from marts.fct_invoices
        where customer_id = 'cus_big' and billing_date = date '2026-02-01'"""
    )
    assert status == "held"
    assert reason.startswith(
        "usage of api_calls in 2026-01-01..2026-02-01 prices to about 3.0e+15 USD, more than"
    )
    assert "quantity_above_maximum" in reason
    lines = held_scenario.query(
        """select line_type, invoice_status, hold_reason is not null from marts.fct_invoice_lines
        where customer_id = 'cus_big' and billing_date = date '2026-02-01' order by line_number"""
    )
    assert [line_type for line_type, *_ in lines] == ["base_fee", "usage", "minimum_spend_true_up"]
    assert all(status == "held" and has_reason for _, status, has_reason in lines)
    issued = held_scenario.query(
        "select customer_id, billing_date::varchar from billing.issued_invoices order by all"
    )
    assert issued == [
        ("cus_big", "2026-01-01"),  # January's fee, before the huge usage: issued as usual
        ("cus_small", "2026-01-01"),
        ("cus_small", "2026-02-01"),
    ]

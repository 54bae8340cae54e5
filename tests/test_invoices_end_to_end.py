"""Invoices through the whole pipeline (Dagster + dbt on a real DuckDB file), checked against amounts worked out by
hand from tests/fixtures/invoice_e2e (three customers, two pricing versions), and a rebuild of the generated
scenario proving invoice ids and amounts are reproducible."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import E2E_AS_OF

from dagster_billing.pipeline_run import PipelineRun, run_pipeline
from dagster_billing.settings import BillingPaths

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "invoice_e2e"
AS_OF = "2026-03-01"


@dataclass
class InvoiceScenario:
    paths: BillingPaths
    run: PipelineRun

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.paths.warehouse_path), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def invoice_scenario(tmp_path_factory: pytest.TempPathFactory) -> InvoiceScenario:
    root = tmp_path_factory.mktemp("invoices")
    shutil.copytree(FIXTURE_DIR / "landing", root / "landing")
    paths = BillingPaths(root / "landing", root / "warehouse.duckdb", FIXTURE_DIR / "pricing")
    return InvoiceScenario(paths, run_pipeline(paths, AS_OF))


def _lines(scenario: InvoiceScenario, customer_id: str, billing_date: str) -> list[tuple]:
    return scenario.query(
        """select line_type, subscription_id, metric, tier, quantity::double, amount_minor
        from marts.fct_invoice_lines
        where scenario = 'actual' and customer_id = ? and billing_date = ?::date
        order by line_number""",
        [customer_id, billing_date],
    )


def _invoice(scenario: InvoiceScenario, customer_id: str, billing_date: str) -> tuple:
    rows = scenario.query(
        """select currency, collection_method, due_date::varchar, line_count, subtotal_minor, total_minor,
            pricing_version
        from marts.fct_invoices
        where scenario = 'actual' and customer_id = ? and billing_date = ?::date""",
        [customer_id, billing_date],
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_run_succeeds(invoice_scenario):
    assert invoice_scenario.run.failures == []


def test_card_customer_first_invoice_bills_two_seats_in_advance(invoice_scenario):
    assert _lines(invoice_scenario, "cus_card", "2026-01-15") == [
        ("base_fee", "sub_card_1", None, None, 2.0, 4000)
    ]
    assert _invoice(invoice_scenario, "cus_card", "2026-01-15") == (
        "USD",
        "charge_automatically",
        "2026-01-15",
        1,
        4000,
        4000,
        "2026-01",
    )


def test_card_customer_seat_change_prorates_and_usage_is_tiered_per_subscription(invoice_scenario):
    # Window Jan 15 - Feb 15 (31 days), priced by 2026-01; 2 -> 3 seats on Feb 1 (14 days before the window end).
    assert _lines(invoice_scenario, "cus_card", "2026-02-15") == [
        ("base_fee", "sub_card_2", None, None, 3.0, 7500),  # next window, version 2026-02: 3 x 25.00
        ("proration_credit", "sub_card_1", None, None, 2.0, -1806),  # -40.00 x 14/31 = -18.0645
        ("proration_charge", "sub_card_2", None, None, 3.0, 2710),  # 60.00 x 14/31 = 27.0968
        ("usage", "sub_card_1", "api_calls", 1, 5000.0, 1000),  # 6,000 - 1,000 included at 0.002
        ("usage", "sub_card_1", "storage_gb", None, 2.0, 500),  # max 14 GB -> 2 packages of 10 x 2.50
        ("usage", "sub_card_2", "api_calls", 1, 10000.0, 2000),  # 12,500 - 1,000 = 11,500: 10,000 x 0.002
        ("usage", "sub_card_2", "api_calls", 2, 1500.0, 150),  # and 1,500 x 0.001
        (
            "usage",
            "sub_card_2",
            "storage_gb",
            None,
            4.0,
            1000,
        ),  # 31 GB (retried event counted once) -> 4 x 2.50
    ]
    assert _invoice(invoice_scenario, "cus_card", "2026-02-15") == (
        "USD",
        "charge_automatically",
        "2026-02-15",
        8,
        13054,
        13054,
        "2026-01, 2026-02",
    )


def test_manual_invoice_customer_in_yen_with_half_even_rounding(invoice_scenario):
    # Tokyo midnight boundaries: the event at 23:30 on Feb 27 (JST) is in the first window, 00:30 Feb 28 is not.
    assert _lines(invoice_scenario, "cus_manual", "2026-01-31") == [
        ("base_fee", "sub_manual_1", None, None, 1.0, 3000)
    ]
    assert _lines(invoice_scenario, "cus_manual", "2026-02-28") == [
        ("base_fee", "sub_manual_1", None, None, 1.0, 3500),
        ("usage", "sub_manual_1", "api_calls", 1, 3335.0, 1000),  # 3,335 x 0.3 = 1000.5 -> 1000 (half_even)
    ]
    assert _invoice(invoice_scenario, "cus_manual", "2026-02-28") == (
        "JPY",
        "send_invoice",
        "2026-03-30",
        2,
        4500,
        4500,
        "2026-01, 2026-02",
    )


def test_pinned_customer_keeps_the_old_price(invoice_scenario):
    assert _lines(invoice_scenario, "cus_pinned", "2026-02-10") == [
        ("base_fee", "sub_pinned_1", None, None, 1.0, 2000)
    ]


def test_only_billing_dates_up_to_as_of_are_invoiced(invoice_scenario):
    dates = invoice_scenario.query(
        "select customer_id, billing_date::varchar from marts.fct_invoices order by customer_id, billing_date"
    )
    assert dates == [
        ("cus_card", "2026-01-15"),
        ("cus_card", "2026-02-15"),
        ("cus_manual", "2026-01-31"),
        ("cus_manual", "2026-02-28"),
        ("cus_pinned", "2026-02-10"),
    ]


def test_invoice_ids_are_hashes_of_customer_and_billing_date(invoice_scenario):
    ids = invoice_scenario.query("select invoice_id from marts.fct_invoices order by invoice_id")
    assert all(invoice_id.startswith("inv_") and len(invoice_id) == 28 for (invoice_id,) in ids)
    assert len(set(ids)) == 5


@pytest.fixture(scope="session")
def rebuilt_warehouse(pipeline_scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated scenario's landing folder and configs run again into a brand-new warehouse file."""
    original = pipeline_scenario.paths
    paths = BillingPaths(
        original.landing_dir, tmp_path_factory.mktemp("rebuild") / "warehouse.duckdb", original.pricing_dir
    )
    assert run_pipeline(paths, E2E_AS_OF).failures == []
    return paths.warehouse_path


def _table(warehouse: Path, table: str, key: str) -> list[tuple]:
    # when an invoice was issued is the one thing a rebuild cannot repeat
    columns = "* exclude (issued_at)" if table == "marts.fct_invoices" else "*"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select {columns} from {table} order by {key}").fetchall()


@pytest.mark.parametrize(
    ("table", "key"), [("marts.fct_invoices", "invoice_id"), ("marts.fct_invoice_lines", "line_id")]
)
def test_rebuilding_the_warehouse_gives_identical_invoices(pipeline_scenario, rebuilt_warehouse, table, key):
    original = _table(pipeline_scenario.paths.warehouse_path, table, key)
    assert len(original) > 100
    assert _table(rebuilt_warehouse, table, key) == original

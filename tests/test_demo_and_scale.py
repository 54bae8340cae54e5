"""The README's demo command end to end, and the finance tie-outs on the demo data and on the generator's
1M-event data set.

`billing demo` runs as a user runs it (its console script, in a subprocess): sample data, every asset, invoices
finalized in a local Stripe emulator it starts and stops. The 1M-event run is the pipeline without Stripe.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from test_finance_marts import finance_queries

from dagster_billing.cli import DEMO_STRIPE_FINALIZE_FROM
from dagster_billing.finance.tieouts import CHECKS, run_tieouts
from dagster_billing.generator import generate_scale_landing
from dagster_billing.pipeline_run import run_pipeline
from dagster_billing.settings import (
    LANDING_DIR_ENV,
    PRICING_DIR_ENV,
    REPO_ROOT,
    WAREHOUSE_PATH_ENV,
    BillingPaths,
)

STRIPE_LINE = re.compile(
    r"Stripe: (\d+) invoices finalized: (\d+) charged, (\d+) sent, (\d+) declined(?: \((.*)\))?"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    demo_dir = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "BILLING_"))}
    billing = Path(sys.executable).parent / "billing"
    completed = subprocess.run(
        [str(billing), "demo", "--dir", str(demo_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    return completed, demo_dir / "warehouse.duckdb"


def _warehouse_rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_demo_finalizes_its_invoices_in_the_local_emulator_and_says_how(demo):
    completed, warehouse = demo
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("Run succeeded.") == 2  # as of Oct 1, then the next day after a late batch
    runs = STRIPE_LINE.findall(completed.stdout)
    assert len(runs) == 2, completed.stdout
    # each run prints what it finalized; together they are every row of stripe.invoice_sync
    finalized, charged, sent, declined = (sum(int(run[k]) for run in runs) for k in range(4))
    # Both customer classes and the emulator's declining test card (about one card customer in ten) occur.
    assert charged > 0 and sent > 0 and declined > 0
    outcomes = dict(
        _warehouse_rows(warehouse, "select outcome, count(*) from stripe.invoice_sync group by 1")
    )
    assert (outcomes.get("charged", 0), outcomes.get("sent", 0), outcomes.get("declined", 0)) == (
        charged,
        sent,
        declined,
    )
    assert sum(outcomes.values()) == finalized
    # Every invoice issued since the demo's go-live went to Stripe exactly once, and none before it.
    (due,) = _warehouse_rows(
        warehouse,
        "select count(*) from marts.fct_invoices where invoice_status = 'issued' "
        f"and billing_date >= date '{DEMO_STRIPE_FINALIZE_FROM}'",
    )[0]
    assert 0 < finalized == due
    (sent_before_go_live,) = _warehouse_rows(
        warehouse,
        "select count(*) from stripe.invoice_sync as s join marts.fct_invoices as i using (invoice_id) "
        f"where i.billing_date < date '{DEMO_STRIPE_FINALIZE_FROM}'",
    )[0]
    assert sent_before_go_live == 0
    (distinct_stripe_ids,) = _warehouse_rows(
        warehouse, "select count(distinct stripe_invoice_id) from stripe.invoice_sync"
    )[0]
    assert distinct_stripe_ids == finalized


def test_the_demos_late_batch_is_billed_as_adjustments_on_the_next_invoices(demo):
    completed, warehouse = demo
    assert "adjustment lines:" in completed.stdout and "late events" in completed.stdout
    adjustments = _warehouse_rows(
        warehouse,
        "select l.adjusted_invoice_id, l.adjustment_reason, l.late_event_count, l.amount_minor, s.outcome "
        "from billing.issued_invoice_lines as l join stripe.invoice_sync as s using (invoice_id) "
        "where l.line_type = 'adjustment' and l.charge_model is distinct from 'tax'",
    )
    assert adjustments and all(reason == "late_events" and late > 0 for _, reason, late, _, _ in adjustments)
    # the demo bills tax: a taxed invoice's late usage also corrects its tax, as its own adjustment
    tax_reasons = _warehouse_rows(
        warehouse,
        "select distinct adjustment_reason from billing.issued_invoice_lines "
        "where line_type = 'adjustment' and charge_model = 'tax'",
    )
    assert tax_reasons in ([], [("tax_recomputed",)])
    assert all(amount > 0 for *_, amount, _ in adjustments)
    # the invoices they correct are still exactly as issued (the integrity check's hash) and were finalized once
    (corrected,) = _warehouse_rows(
        warehouse,
        "select count(distinct adjusted_invoice_id) from billing.issued_invoice_lines "
        "where line_type = 'adjustment' and adjusted_invoice_id in (select invoice_id from stripe.invoice_sync)",
    )[0]
    assert corrected > 0


def test_the_demo_bills_tax_that_stripe_totals_to_the_cent_and_that_is_never_revenue(demo):
    completed, warehouse = demo
    assert completed.returncode == 0, completed.stdout + completed.stderr
    treatments = dict(
        _warehouse_rows(
            warehouse,
            "select case when amount_minor <> 0 then 'taxed' else 'zero' end, count(*) "
            "from marts.fct_invoice_lines where scenario = 'actual' and line_type = 'tax' group by 1",
        )
    )
    assert treatments.get("taxed", 0) > 0 and treatments.get("zero", 0) > 0  # exempt, reverse charge, US-OR
    # every invoice sent to Stripe with tax: Stripe's total is the ledger's (tax included) to the minor unit
    mismatched, taxed_in_stripe = _warehouse_rows(
        warehouse,
        """select count(*) filter (where s.stripe_total_minor <> i.total_minor), count(*)
        from stripe.invoice_sync as s join marts.fct_invoices as i using (invoice_id)
        where i.tax_minor <> 0 and s.outcome <> 'error'""",
    )[0]
    assert taxed_in_stripe > 0 and mismatched == 0
    # revenue (every day, recognized or not) is exactly the billed lines without tax and credits
    revenue, billed_without_tax = _warehouse_rows(
        warehouse,
        """select
            (select sum(amount_minor) from marts.fct_revenue_daily),
            (select sum(amount_minor) from marts.fct_invoice_lines
             where scenario = 'actual' and invoice_status <> 'held' and line_type not in ('tax', 'credit')
               and charge_model is distinct from 'tax')""",
    )[0]
    (tax_total,) = _warehouse_rows(warehouse, "select sum(tax_minor) from marts.fct_invoices")[0]
    assert tax_total > 0 and revenue == billed_without_tax


def test_finance_tieouts_hold_on_the_demo_data(demo):
    completed, warehouse = demo
    assert completed.returncode == 0, completed.stdout + completed.stderr
    tieouts = run_tieouts(warehouse)
    assert [t.name for t in tieouts] == list(CHECKS)
    assert [t for t in tieouts if not t.holds] == []


def test_the_readme_finance_queries_return_rows_on_the_demo_data(demo):
    completed, warehouse = demo
    assert completed.returncode == 0, completed.stdout + completed.stderr
    for sql in finance_queries():
        assert _warehouse_rows(warehouse, sql), sql


def test_finance_tieouts_hold_on_the_generators_1m_event_data_set(tmp_path, monkeypatch):
    for name in (LANDING_DIR_ENV, WAREHOUSE_PATH_ENV, PRICING_DIR_ENV, "STRIPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)  # run_pipeline exports its paths; restored afterwards
    paths = BillingPaths(tmp_path / "landing", tmp_path / "warehouse.duckdb", REPO_ROOT / "pricing_configs")
    # The benchmark's data set: 1M events for 5,000 customers, Parquet.
    generate_scale_landing(paths.landing_dir, events=1_000_000, customers=5_000, end=date(2026, 10, 1))
    result = run_pipeline(paths, "2026-10-01")
    assert result.success, result.failures
    (accepted,) = _warehouse_rows(paths.warehouse_path, "select count(*) from raw.usage_events")[0]
    assert accepted >= 1_000_000
    tieouts = run_tieouts(paths.warehouse_path)
    assert [t for t in tieouts if not t.holds] == []
    assert min(t.rows_compared for t in tieouts) > 100

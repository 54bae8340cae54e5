"""Fault tests against the emulator: a process killed mid-run, 429/500 responses, forgotten idempotency keys.

After each, Stripe holds exactly one finalized invoice per warehouse invoice with the right total, and the
reconciliation check passes.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from stripe_fixtures import many_invoices, run_finalize, stripe_invoices, write_issued_invoices

from dagster_billing.stripe_sync.reconciliation import reconcile

N = 12
FIXTURES = Path(__file__).with_name("stripe_fixtures.py")


def _assert_stripe_matches_warehouse(warehouse: Path, client) -> None:
    expected = {i.invoice_id: i.total_minor for i in many_invoices(N)}
    found = stripe_invoices(client)
    per_invoice = Counter(i.metadata["billing_invoice_id"] for i in found)
    assert per_invoice == Counter(set(expected))  # exactly one Stripe invoice each, none twice
    assert all(i.status in ("paid", "open") for i in found)  # all finalized
    assert {i.metadata["billing_invoice_id"]: i.total for i in found} == expected
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        report = reconcile(con, client)
        outcomes = dict(
            con.execute("select outcome, count(*) from stripe.invoice_sync group by 1").fetchall()
        )
    finally:
        con.close()
    assert report.passed, report.problems
    assert sum(outcomes.values()) == N and "error" not in outcomes


def _crash(warehouse: Path, api_base: str, step: str, count: int) -> subprocess.CompletedProcess:
    command = [sys.executable, str(FIXTURES), str(warehouse), api_base, step, str(count)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("step", "count"),
    [("created", 1), ("lines_added", 4), ("finalized", 6), ("collected", 9), ("before_record", 11)],
)
def test_sigkill_after_k_of_n_then_rerun_bills_each_invoice_once(
    tmp_path, local_stripe, stripe_client, step, count
):
    warehouse = tmp_path / "warehouse.duckdb"
    write_issued_invoices(warehouse, many_invoices(N))
    crashed = _crash(warehouse, local_stripe.api_base, step, count)
    assert crashed.returncode == -9, crashed.stderr  # killed by SIGKILL, not finished
    summary = run_finalize(warehouse, local_stripe.api_base)
    assert summary.errors == []
    _assert_stripe_matches_warehouse(warehouse, stripe_client)


def test_crash_then_rerun_after_idempotency_keys_expired(tmp_path, local_stripe, stripe_client):
    """Stripe forgets keys after 24 hours: the lookup by our metadata is what keeps the re-run from duplicating."""
    warehouse = tmp_path / "warehouse.duckdb"
    write_issued_invoices(warehouse, many_invoices(N))
    assert _crash(warehouse, local_stripe.api_base, "lines_added", 5).returncode == -9
    local_stripe.expire_idempotency_keys()
    run_finalize(warehouse, local_stripe.api_base)
    _assert_stripe_matches_warehouse(warehouse, stripe_client)


def test_429_and_500_on_a_fifth_of_requests(tmp_path, local_stripe, stripe_client):
    warehouse = tmp_path / "warehouse.duckdb"
    write_issued_invoices(warehouse, many_invoices(N))
    local_stripe.set_faults(0.2, seed=4)
    runs = [run_finalize(warehouse, local_stripe.api_base)]
    while runs[-1].errors and len(runs) < 4:  # an invoice whose retries ran out is taken up by the next run
        runs.append(run_finalize(warehouse, local_stripe.api_base))
    stats = local_stripe.stats()
    assert min(stats.get(kind, 0) for kind in ("rate_limit", "error_before", "error_after")) > 0
    assert runs[-1].errors == []
    local_stripe.set_faults(0.0)  # the observer's own listing is not under test
    _assert_stripe_matches_warehouse(warehouse, stripe_client)

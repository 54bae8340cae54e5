"""Fault tests against the emulator: a process killed mid-run, 429/500 responses, forgotten idempotency keys.

After each, Stripe holds exactly one finalized invoice per warehouse invoice with the right total, and the
reconciliation check passes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from stripe_fixtures import (
    emulator_settings,
    many_invoices,
    run_finalize,
    stripe_invoices,
    write_issued_invoices,
)

from dagster_billing.local_stripe.cards import attach_test_card
from dagster_billing.stripe_sync.client import build_client
from dagster_billing.stripe_sync.finalize import finalize_due_invoices
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


STRIPE_FINALIZED = re.compile(r"Stripe: (\d+) invoices finalized: (\d+) charged, (\d+) sent, (\d+) declined")


def _billing_run_summary(warehouse: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    """`billing run` on a warehouse whose Stripe step already ran: the pipeline itself is stubbed out (a success),
    so what is checked is what the CLI reports and returns for the invoices Stripe left."""
    from dagster_billing import cli, pipeline_run

    monkeypatch.setattr(
        pipeline_run,
        "run_pipeline",
        lambda paths, as_of, full_refresh=False: pipeline_run.PipelineRun(True, []),
    )
    code = cli.main(["run", "--as-of", "2026-10-01", "--warehouse", str(warehouse)])
    out, err = capsys.readouterr()
    return code, out, err


def test_invoices_left_in_error_make_billing_run_exit_3_with_counts(
    tmp_path, local_stripe, stripe_client, monkeypatch, capsys
):
    warehouse = tmp_path / "warehouse.duckdb"
    write_issued_invoices(warehouse, many_invoices(N))
    local_stripe.set_faults(0.05, seed=4)
    client = build_client(emulator_settings(local_stripe.api_base, max_network_retries=0))  # no SDK retries
    con = duckdb.connect(str(warehouse))
    summary = finalize_due_invoices(con, client, concurrency=1, on_customer_created=attach_test_card)
    con.close()
    local_stripe.set_faults(0.0)
    errors = summary.count("error")
    assert 0 < errors < N

    code, out, err = _billing_run_summary(warehouse, monkeypatch, capsys)
    assert code == 3, (out, err)
    finalized, charged, sent, declined = map(int, STRIPE_FINALIZED.search(out).groups())  # type: ignore[union-attr]
    assert finalized == N - errors == charged + sent + declined
    assert (charged, sent, declined) == (
        summary.count("charged"),
        summary.count("sent"),
        summary.count("declined"),
    )
    assert f"Stripe: {errors} invoices ended in error, not finalized" in out
    assert "Run succeeded" not in out
    assert f"{errors} invoices ended in error in Stripe" in err and "Traceback" not in err

    run_finalize(warehouse, local_stripe.api_base)  # the next run takes them up
    code, out, err = _billing_run_summary(warehouse, monkeypatch, capsys)
    assert code == 0 and "Run succeeded." in out and "in error" not in out, (out, err)
    assert STRIPE_FINALIZED.search(out).group(1) == str(N)  # type: ignore[union-attr]

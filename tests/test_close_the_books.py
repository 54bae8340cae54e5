"""The issue's scenario end to end: a run as of Oct 1 finalizes September's invoices in the local Stripe
emulator; one late event lands in the window of an invoice that was already charged; the next day's run leaves
that invoice as issued (warehouse and Stripe) and puts the difference on the customer's next invoice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pytest
import stripe

from dagster_billing import cli
from dagster_billing.generator import generate_landing
from dagster_billing.local_stripe.demo import demo_stripe
from dagster_billing.local_stripe.process import EMULATOR_API_KEY
from dagster_billing.pipeline_run import PipelineRun, run_pipeline
from dagster_billing.settings import REPO_ROOT, BillingPaths
from dagster_billing.stripe_sync.customers import INVOICE_ID_KEY

LATE_QUANTITY = 250_000


@dataclass
class LateEventScenario:
    paths: BillingPaths
    runs: dict[str, PipelineRun]
    paid_invoice: tuple  # (invoice_id, customer_id, total_minor, stripe_invoice_id)
    paid_ledger_rows_before: list[tuple]
    stripe_totals: dict[str, int]  # Stripe invoice id -> total, after the late run
    next_invoice_stripe_total: int
    ledger_rows_after_rerun: int
    ledger_rows_after_late_run: int
    tampered_run: PipelineRun

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.paths.warehouse_path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def _query(paths: BillingPaths, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# A card customer whose September invoice was charged in Stripe, whose plan prices a summed metric (so more
# units cost more), and whose next invoice is issued by the Oct 2 run (billed by Oct 1, 00:00 UTC, so its 24-hour
# grace period has passed by then). The late event goes in the window that invoice's usage billed.
PAID_INVOICE_SQL = """
select i.invoice_id, i.customer_id, i.total_minor, s.stripe_invoice_id, min(c.metric), i.billing_at
from billing.issued_invoices as i
inner join stripe.invoice_sync as s on s.invoice_id = i.invoice_id and s.outcome = 'charged'
inner join billing.issued_invoice_lines as l on l.invoice_id = i.invoice_id and l.line_type = 'base_fee'
inner join staging.stg_pricing_charges as c on c.plan_id = l.plan_id
inner join staging.stg_pricing_metrics as m on m.metric = c.metric and m.aggregation = 'sum'
where i.billing_date >= date '2026-09-01'
  and exists (
    select 1 from marts.fct_invoices as d
    where d.customer_id = i.customer_id and d.invoice_status = 'draft' and d.scenario = 'actual'
      and d.billing_at <= timestamp '2026-10-01'
  )
group by all
order by i.customer_id, i.billing_at
limit 1
"""


@pytest.fixture(scope="module")
def late_event(tmp_path_factory: pytest.TempPathFactory) -> LateEventScenario:
    root = tmp_path_factory.mktemp("close_the_books")
    paths = BillingPaths(root / "landing", root / "warehouse.duckdb", REPO_ROOT / "pricing_configs")
    generate_landing(paths.landing_dir, customers=40, events=4_000, seed=11, end=date(2026, 10, 1))
    runs = {}
    with demo_stripe(root / "stripe", "2026-09-01") as api_base:
        client = stripe.StripeClient(EMULATOR_API_KEY, base_addresses={"api": api_base})
        runs["first"] = run_pipeline(paths, "2026-10-01")
        invoice_id, customer_id, total, stripe_id, metric, billed_at = _query(paths, PAID_INVOICE_SQL)[0]
        paid_rows = _query(
            paths,
            "select * from billing.issued_invoice_lines where invoice_id = ? order by line_id",
            [invoice_id],
        )
        late = {
            "event_id": "late-evt-1",
            "customer_id": customer_id,
            "metric": metric,
            "quantity": str(LATE_QUANTITY),
            "occurred_at": (billed_at - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        late_file = paths.landing_dir / "usage" / "late" / "2026-10-01-partner-batch.jsonl"
        late_file.parent.mkdir(parents=True)
        late_file.write_text(json.dumps(late) + "\n")
        runs["late"] = run_pipeline(paths, "2026-10-02")
        (rows_after_late,) = _query(paths, "select count(*) from billing.issued_invoice_lines")[0]
        runs["rerun"] = run_pipeline(paths, "2026-10-02")
        (rows_after_rerun,) = _query(paths, "select count(*) from billing.issued_invoice_lines")[0]
        stripe_totals = {
            str(invoice.id): invoice.total
            for invoice in client.v1.invoices.list({"limit": 100}).auto_paging_iter()
        }
        [(next_stripe_id,)] = _query(
            paths,
            "select s.stripe_invoice_id from billing.issued_invoice_lines as l "
            "join stripe.invoice_sync as s using (invoice_id) where l.adjusted_invoice_id = ?",
            [invoice_id],
        )
        # someone changes one of our invoices in Stripe: the next run's reconciliation must block
        client.v1.invoices.update(stripe_id, {"metadata": {INVOICE_ID_KEY: "inv_edited_in_stripe"}})
        tampered = run_pipeline(paths, "2026-10-02")
    return LateEventScenario(
        paths,
        runs,
        (invoice_id, customer_id, total, stripe_id),
        paid_rows,
        stripe_totals,
        stripe_totals[next_stripe_id],
        rows_after_rerun,
        rows_after_late,
        tampered,
    )


def test_every_run_succeeds_and_reconciles_after_late_data(late_event: LateEventScenario) -> None:
    for name in ("first", "late", "rerun"):
        assert late_event.runs[name].success, (name, late_event.runs[name].failures)


def test_the_paid_invoice_stays_as_issued_in_the_warehouse_and_in_stripe(
    late_event: LateEventScenario,
) -> None:
    invoice_id, _, total, stripe_id = late_event.paid_invoice
    assert (
        late_event.query(
            "select * from billing.issued_invoice_lines where invoice_id = ? order by line_id", [invoice_id]
        )
        == late_event.paid_ledger_rows_before
    )
    assert late_event.query(
        "select total_minor, invoice_status from marts.fct_invoices where invoice_id = ?", [invoice_id]
    ) == [(total, "issued")]
    assert late_event.stripe_totals[stripe_id] == total


def test_the_difference_is_one_adjustment_line_on_the_next_invoice(late_event: LateEventScenario) -> None:
    invoice_id, customer_id, _, _ = late_event.paid_invoice
    [(carrier, amount, quantity, reason, late_count)] = late_event.query(
        "select invoice_id, amount_minor, quantity, adjustment_reason, late_event_count "
        "from marts.fct_invoice_lines where adjusted_invoice_id = ?",
        [invoice_id],
    )
    recomputed = late_event.query(
        "select sum(amount_minor) from intermediate.int_invoice_lines_computed where invoice_id = ?",
        [invoice_id],
    )[0][0]
    issued = late_event.query(
        "select sum(amount_minor) from billing.issued_invoice_lines where invoice_id = ?", [invoice_id]
    )[0][0]
    assert amount == recomputed - issued and amount > 0
    assert quantity > 0 and reason == "late_events" and late_count == 1
    [(customer, status, total, stripe_outcome)] = late_event.query(
        "select customer_id, invoice_status, total_minor, stripe_outcome from marts.fct_invoices "
        "where invoice_id = ?",
        [carrier],
    )
    assert (customer, status) == (customer_id, "issued") and stripe_outcome is not None
    assert late_event.next_invoice_stripe_total == total  # Stripe billed the adjustment with the next invoice


def test_a_rerun_adds_no_adjustment(late_event: LateEventScenario) -> None:
    assert late_event.ledger_rows_after_rerun == late_event.ledger_rows_after_late_run


def test_an_invoice_changed_in_stripe_blocks_the_next_run(late_event: LateEventScenario) -> None:
    assert not late_event.tampered_run.success
    assert any("stripe_reconciles" in failure for failure in late_event.tampered_run.failures)


def test_explain_shows_the_adjustment_with_its_late_event_and_the_events_behind_usage(
    late_event: LateEventScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    invoice_id = late_event.paid_invoice[0]
    [(carrier,)] = late_event.query(
        "select invoice_id from marts.fct_invoice_lines where adjusted_invoice_id = ?", [invoice_id]
    )
    warehouse = str(late_event.paths.warehouse_path)
    assert cli.main(["explain", carrier, "--warehouse", warehouse]) == 0
    shown = capsys.readouterr().out
    assert f"Invoice {carrier} (issued 20" in shown
    assert f"corrects {invoice_id}: late_events, 1 late events" in shown
    assert "late-evt-1: " in shown and "usage/late/2026-10-01-partner-batch.jsonl row 1" in shown
    # a usage line lists the events behind it, by landing file and rows
    [(usage_invoice, events)] = late_event.query(
        "select invoice_id, count(*) from marts.fct_invoice_line_events where line_type = 'usage' "
        "group by invoice_id, line_id order by count(*) desc, invoice_id limit 1"
    )
    assert cli.main(["explain", usage_invoice, "--warehouse", warehouse]) == 0
    assert f"{events} events, " in capsys.readouterr().out


def test_explain_of_an_unknown_invoice_says_so_in_one_line(
    late_event: LateEventScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = str(late_event.paths.warehouse_path)
    assert cli.main(["explain", "inv_nothing", "--warehouse", warehouse]) == 1
    captured = capsys.readouterr()
    assert (
        captured.err.startswith("billing explain: no invoice inv_nothing") and captured.err.count("\n") == 1
    )

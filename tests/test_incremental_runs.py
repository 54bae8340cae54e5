"""A daily run folds only the new files into the stored usage aggregates, and gives the same usage, invoice lines
and invoices as a full refresh on the same data; a full refresh leaves the ledger of issued invoices as it is.

One history (billed as of Oct 1), then a new day: usage on Oct 1 for many customers (sum, max, latest and
unique_count metrics), a late event in an issued window, and a backdated cancellation in subscriptions.csv
(that customer's events are re-placed in full). The history already holds usage after its as_of (Oct 1 05:00 and
Oct 2 03:00, landed before the first run, as a real day's run sees the hours after midnight): the daily run
places it again from the stored as_of on, billing Oct 1 and keeping Oct 2 for later."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date

import duckdb
import pytest

from dagster_billing.generator import generate_landing
from dagster_billing.pipeline_run import PipelineRun, run_pipeline
from dagster_billing.settings import REPO_ROOT, BillingPaths

# Aggregates are compared through the view pricing reads (the stored distinct-value lists have no order).
USAGE_SQL = """
select customer_id, window_start, subscription_id, metric, billing_status, event_count, sum_quantity,
       max_quantity, latest_quantity, unique_count, billed_quantity, first_event_at, last_event_at
from intermediate.int_usage_aggregated_to_billing_windows order by all
"""
INVOICE_LINES_SQL = "select * exclude (line_id) from intermediate.int_invoice_lines_computed order by all"
INVOICES_SQL = (
    "select invoice_id, customer_id, billing_date, invoice_status, subtotal_minor, total_minor "
    "from marts.fct_invoices order by all"
)
LEDGER_SQL = "select * from billing.issued_invoice_lines order by line_id"
# the revenue marts are incremental too; `allocated_at` is when a row was written, the one column allowed to differ
REVENUE_DAILY_SQL = "select * exclude (allocated_at) from marts.fct_revenue_daily order by all"
DEFERRED_REVENUE_SQL = "select * from marts.fct_deferred_revenue order by all"
# how many runs wrote the stored line-days, and how many issued line-days each
REVENUE_WRITES_SQL = (
    "select allocated_at, count(*) filter (where is_issued) from intermediate.int_revenue_allocated_to_days "
    "group by allocated_at order by allocated_at"
)
NEW_DAY_METRICS = ("api_calls", "storage_gb", "seats_in_use", "active_users", "compute_minutes")


def _query(paths: BillingPaths, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _snapshot(paths: BillingPaths) -> dict[str, list[tuple]]:
    return {
        name: _query(paths, sql)
        for name, sql in (
            ("usage", USAGE_SQL),
            ("invoice_lines", INVOICE_LINES_SQL),
            ("invoices", INVOICES_SQL),
            ("ledger", LEDGER_SQL),
            ("revenue_daily", REVENUE_DAILY_SQL),
            ("deferred_revenue", DEFERRED_REVENUE_SQL),
            ("revenue_writes", REVENUE_WRITES_SQL),
        )
    }


def _land_new_day(paths: BillingPaths, customers: list[str]) -> None:
    events = []
    for n, customer_id in enumerate(customers):
        for k, metric in enumerate(NEW_DAY_METRICS):
            events.append(
                {
                    "event_id": f"new-day-{n}-{k}",
                    "customer_id": customer_id,
                    "metric": metric,
                    "quantity": str(3 + n + k),
                    "occurred_at": f"2026-10-01T{(n + k) % 24:02d}:15:00Z",
                    "properties": {"user_id": f"user-{(n * k) % 4}"},
                }
            )
    # a late event for an issued window
    events.append(
        {
            "event_id": "late-1",
            "customer_id": customers[0],
            "metric": "api_calls",
            "quantity": "123456",
            "occurred_at": "2026-09-12T08:00:00Z",
        }
    )
    target = paths.landing_dir / "usage" / "2026" / "10" / "new-day.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(event) + "\n" for event in events))


AFTER_MIDNIGHT = ("2026-10-01T05:00:00Z", "2026-10-02T03:00:00Z")


def _land_usage_after_midnight(paths: BillingPaths) -> list[str]:
    """Usage after the first run's as_of for three customers, in the history's landing folder."""
    with (paths.landing_dir / "customers.csv").open(newline="") as file:
        customers = sorted(row["customer_id"] for row in csv.DictReader(file))[:3]
    events = [
        {
            "event_id": f"after-midnight-{n}-{k}",
            "customer_id": customer_id,
            "metric": "api_calls",
            "quantity": str(10 + n),
            "occurred_at": occurred_at,
        }
        for n, customer_id in enumerate(customers)
        for k, occurred_at in enumerate(AFTER_MIDNIGHT)
    ]
    target = paths.landing_dir / "usage" / "2026" / "10" / "after-midnight.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(json.dumps(event) + "\n" for event in events))
    return customers


def _after_midnight_usage(paths: BillingPaths, customers: list[str]) -> list[tuple]:
    """(customer, billing status, events) of the api_calls usage from Oct 1 00:00 on."""
    return _query(
        paths,
        "select customer_id, billing_status, sum(event_count)::integer "
        "from intermediate.int_usage_aggregated_to_billing_windows "
        "where customer_id in (select unnest(?)) and metric = 'api_calls' "
        "and last_event_at >= timestamp '2026-10-01' group by all order by all",
        [customers],
    )


def _backdate_a_cancellation(paths: BillingPaths) -> str:
    """Ends the first open subscription on Aug 15; returns its customer."""
    path = paths.landing_dir / "subscriptions.csv"
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        fields, rows = reader.fieldnames, list(reader)
    chosen = next(row for row in rows if not row["ended_at"] and row["started_at"] < "2026-06")
    chosen["ended_at"] = "2026-08-15T00:00:00Z"
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return chosen["customer_id"]


@dataclass
class IncrementalScenario:
    paths: BillingPaths
    runs: dict[str, PipelineRun]
    daily: dict[str, list[tuple]]
    refreshed: dict[str, list[tuple]]
    stored_before: list[tuple]  # int_usage_aggregates_accumulated after the first run (customer, as_of, rows)
    stored_after_daily: list[tuple]
    cancelled_customer: str
    untouched_customer: str
    after_midnight_customers: list[str]
    after_midnight_before: list[tuple]


def _stored_by_customer(paths: BillingPaths) -> list[tuple]:
    return _query(
        paths,
        "select customer_id, max(aggregated_as_of)::varchar, count(*), sum(event_count) "
        "from intermediate.int_usage_aggregates_accumulated group by customer_id order by customer_id",
    )


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory) -> IncrementalScenario:
    root = tmp_path_factory.mktemp("incremental")
    paths = BillingPaths(root / "landing", root / "warehouse.duckdb", REPO_ROOT / "pricing_configs")
    generate_landing(paths.landing_dir, customers=30, events=3_000, seed=11, end=date(2026, 10, 1))
    after_midnight = _land_usage_after_midnight(paths)
    runs = {"history": run_pipeline(paths, "2026-10-01")}
    after_midnight_before = _after_midnight_usage(paths, after_midnight)
    stored_before = _stored_by_customer(paths)
    customers = [row[0] for row in stored_before]
    # the last customer gets no new event: the daily run must leave its stored rows alone
    _land_new_day(paths, customers[:-1])
    cancelled = _backdate_a_cancellation(paths)
    runs["daily"] = run_pipeline(paths, "2026-10-02")
    daily = _snapshot(paths)
    stored_after_daily = _stored_by_customer(paths)
    runs["full_refresh"] = run_pipeline(paths, "2026-10-02", full_refresh=True)
    refreshed = _snapshot(paths)
    return IncrementalScenario(
        paths,
        runs,
        daily,
        refreshed,
        stored_before,
        stored_after_daily,
        cancelled,
        customers[-1],
        after_midnight,
        after_midnight_before,
    )


def test_every_run_succeeds(incremental: IncrementalScenario) -> None:
    for name, run in incremental.runs.items():
        assert run.success, (name, run.failures)


@pytest.mark.parametrize("table", ["usage", "invoice_lines", "invoices", "revenue_daily", "deferred_revenue"])
def test_the_daily_run_equals_a_full_refresh(incremental: IncrementalScenario, table: str) -> None:
    assert incremental.daily[table], table
    assert incremental.daily[table] == incremental.refreshed[table]


def test_the_daily_run_allocates_only_new_revenue_lines(incremental: IncrementalScenario) -> None:
    # the history's issued line-days stay as the first run wrote them; the daily run adds its own
    (history_at, history_issued), (daily_at, _) = incremental.daily["revenue_writes"]
    assert history_issued > 0 and history_at < daily_at
    history_run = incremental.runs["history"].started_at
    daily_run = incremental.runs["daily"].started_at
    assert history_run is not None and daily_run is not None
    assert history_run < history_at < daily_run < daily_at
    # a full refresh writes every row again in one run
    assert len(incremental.refreshed["revenue_writes"]) == 1


def test_a_full_refresh_leaves_the_ledger_as_it_is(incremental: IncrementalScenario) -> None:
    assert incremental.daily["ledger"] and incremental.daily["ledger"] == incremental.refreshed["ledger"]


def test_the_daily_run_rewrites_only_customers_with_new_events_or_changed_placement(
    incremental: IncrementalScenario,
) -> None:
    before = {row[0]: row for row in incremental.stored_before}
    after = {row[0]: row for row in incremental.stored_after_daily}
    # untouched: same rows, still stamped with the first run's as_of
    assert after[incremental.untouched_customer] == before[incremental.untouched_customer]
    assert after[incremental.untouched_customer][1].startswith("2026-10-01")
    # touched customers gained exactly their new events (5 each, the first also the late one)
    touched = [customer for customer in before if customer != incremental.untouched_customer]
    for n, customer in enumerate(touched):
        gained = after[customer][3] - before[customer][3]
        assert gained == len(NEW_DAY_METRICS) + (1 if n == 0 else 0), customer
        assert after[customer][1].startswith("2026-10-02")


def test_the_backdated_cancellation_moves_its_later_usage_out_of_billing(
    incremental: IncrementalScenario,
) -> None:
    billable_after_cancel = _query(
        incremental.paths,
        "select count(*) from intermediate.int_usage_aggregated_to_billing_windows "
        "where customer_id = ? and billing_status = 'billable' and window_start >= timestamp '2026-08-16'",
        [incremental.cancelled_customer],
    )
    assert billable_after_cancel == [(0,)]
    unbilled = _query(
        incremental.paths,
        "select sum(event_count) from intermediate.int_usage_aggregated_to_billing_windows "
        "where customer_id = ? and billing_status = 'outside_subscription'",
        [incremental.cancelled_customer],
    )[0][0]
    assert unbilled and unbilled > 0


def test_usage_after_the_previous_as_of_is_billed_once_the_as_of_passes_it(
    incremental: IncrementalScenario,
) -> None:
    """Oct 1 05:00 was after the history's as_of (Oct 1 00:00) and is before the daily run's (Oct 2): billed now,
    once (the history run's `after_as_of` row is replaced, not added to); Oct 2 03:00 still waits."""
    customers = incremental.after_midnight_customers
    assert [row for row in incremental.after_midnight_before if row[1] == "after_as_of"] == [
        (customer, "after_as_of", 2) for customer in customers
    ]
    after = _query(
        incremental.paths,
        "select customer_id, count(*)::integer from intermediate.int_usage_aggregates_accumulated "
        "where customer_id in (select unnest(?)) and billing_status = 'after_as_of' and metric = 'api_calls' "
        "and last_event_at = timestamp '2026-10-02 03:00:00' and event_count = 1 group by all order by all",
        [customers],
    )
    assert after == [(customer, 1) for customer in customers]
    # Oct 1 05:00 is placed for billing now (billable, or outside a subscription the backdated cancellation ended)
    placed = _query(
        incremental.paths,
        "select billing_status, count(*)::integer from intermediate.int_usage_events_windowed "
        "where event_id like 'after-midnight-%-0' group by all",
    )
    assert sum(count for _, count in placed) == 3 and "after_as_of" not in dict(placed)

"""`generate_landing`: a realistic, deterministic landing folder (customers, subscriptions, usage files
in four formats with retries, conflicts and malformed rows) and an exact account of what it holds."""

from __future__ import annotations

import json
import random
import shutil
from datetime import date, datetime, time, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_billing.generator.customer_tax import write_customer_tax_csv
from dagster_billing.generator.customers import Customer, build_customers, write_customers_csv
from dagster_billing.generator.event_sql import events_sql
from dagster_billing.generator.file_plan import FILE_EXTENSIONS, PlannedUsageFile, plan_usage_files
from dagster_billing.generator.malformed_rows import UNREADABLE_PARQUET_BYTES, append_malformed_rows
from dagster_billing.generator.subscriptions import (
    CADENCE_CHANGE_PLAN,
    Subscription,
    build_subscriptions,
    with_calendar_options,
    write_subscriptions_csv,
)
from dagster_billing.generator.summary import GeneratedLanding, MalformedRow, WrittenUsageFile
from dagster_billing.generator.usage_files import write_usage_file

DEFAULT_FORMATS = ("parquet", "jsonl", "csv", "cloudevents")


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _set_customer_variables(
    con, rng: random.Random, customers: list[Customer], subscriptions: list[Subscription], start: date
) -> None:
    """DuckDB list variables the event SQL indexes by Zipf rank (1-based); the shuffle picks who is heavy."""
    history: dict[str, list[Subscription]] = {}
    for subscription in subscriptions:
        history.setdefault(subscription.customer_id, []).append(subscription)
    ranked = rng.sample(customers, len(customers))
    active_from = [_epoch(history[c.customer_id][0].started_at) for c in ranked]
    active_until = [_epoch(history[c.customer_id][-1].ended_at) for c in ranked]
    window_start = _epoch(datetime.combine(start, time(), timezone.utc))
    always = [
        c.customer_id
        for c, since, until in zip(ranked, active_from, active_until, strict=True)
        if since <= window_start and until is None
    ]
    ranks = pa.table(
        {
            "customer_id": [c.customer_id for c in ranked],
            "active_from": active_from,
            "active_until": pa.array(active_until, pa.int64()),
        }
    )
    con.register("customer_ranks", ranks)
    con.execute("set variable zipf_customers = (select list(customer_id) from customer_ranks)")
    con.execute("set variable zipf_active_from = (select list(active_from) from customer_ranks)")
    con.execute("set variable zipf_active_until = (select list(active_until) from customer_ranks)")
    con.execute("set variable always_subscribed = ?", [always])


def _clear_previous_output(landing_dir: Path, overwrite: bool) -> None:
    usage_dir = landing_dir / "usage"
    if usage_dir.exists() and any(usage_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{usage_dir} already holds usage files; pass overwrite=True or use an empty folder"
            )
        shutil.rmtree(usage_dir)


def _malformed_hosts(plan: list[PlannedUsageFile]) -> list[PlannedUsageFile]:
    """The first CSV and the first flat JSON Lines file; the one present takes both copies if only one is."""
    hosts = [next((p for p in plan if p.file_format == fmt), None) for fmt in ("csv", "jsonl")]
    hosts = [host for host in hosts if host is not None]
    if not hosts:
        raise ValueError("malformed rows need a 'csv' or 'jsonl' format among formats")
    return hosts if len(hosts) == 2 else hosts * 2


def _unsubscribed_counts(con, events: int, seed: int, start_epoch: int, span_seconds: int) -> tuple[int, int]:
    every_event = PlannedUsageFile("", "parquet", 0, events, ())
    sql = events_sql(
        every_event, events=events, seed=seed, start_epoch=start_epoch, span_seconds=span_seconds
    )
    before, after = con.execute(
        f"select count(*) filter (before_subscription), count(*) filter (after_cancellation) from ({sql})"
    ).fetchone()
    return int(before), int(after)


def generate_landing(
    landing_dir: Path,
    *,
    customers: int = 200,
    events: int = 20_000,
    seed: int = 7,
    start: date = date(2025, 1, 1),
    end: date = date(2026, 10, 1),
    duplicate_share: float = 0.02,
    malformed: bool = True,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    rows_per_file: int | None = None,
    overwrite: bool = False,
    tax: bool = False,
) -> GeneratedLanding:
    """Writes `customers.csv`, `subscriptions.csv` and `usage/**` under `landing_dir`, and with `tax` the
    customers' tax locations (`customer_tax.csv`, for the configs in pricing_configs/tax/).

    `events` is the number of distinct valid events; retried and conflicting copies and malformed rows come on
    top. The same arguments give byte-identical files (with the same DuckDB version).
    """
    unknown = set(formats) - set(FILE_EXTENSIONS)
    if unknown or not formats or customers < 1 or events < 1 or start >= end:
        raise ValueError(
            f"need formats from {sorted(FILE_EXTENSIONS)}, customers >= 1, events >= 1, start < end"
        )
    landing_dir = Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous_output(landing_dir, overwrite)
    rng = random.Random(seed)
    customer_rows = build_customers(rng, customers, start, end)
    subscriptions = build_subscriptions(rng, customer_rows, start, end)
    customer_rows = with_calendar_options(customer_rows, subscriptions)
    write_customers_csv(landing_dir / "customers.csv", customer_rows)
    write_subscriptions_csv(landing_dir / "subscriptions.csv", subscriptions)
    if tax:
        write_customer_tax_csv(landing_dir / "customer_tax.csv", customer_rows)
    else:
        (landing_dir / "customer_tax.csv").unlink(missing_ok=True)  # no stale locations from an earlier run

    plan = plan_usage_files(events, start, end, tuple(formats), duplicate_share, rows_per_file)
    start_epoch = _epoch(datetime.combine(start, time(), timezone.utc))
    span_seconds = _epoch(datetime.combine(end, time(), timezone.utc)) - start_epoch
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    _set_customer_variables(con, rng, customer_rows, subscriptions, start)
    for planned in plan:
        sql = events_sql(
            planned, events=events, seed=seed, start_epoch=start_epoch, span_seconds=span_seconds
        )
        write_usage_file(con, sql, planned.file_format, landing_dir / planned.relative_path)

    malformed_rows: list[MalformedRow] = []
    unreadable: tuple[str, ...] = ()
    if malformed:
        for copy, host in enumerate(_malformed_hosts(plan)):
            rows_before = host.generated_rows + sum(
                row.relative_path == host.relative_path for row in malformed_rows
            )
            malformed_rows += append_malformed_rows(
                landing_dir / host.relative_path,
                host.relative_path,
                host.file_format,
                rows_before,
                copy,
                seed,
                start,
                customers,
            )
        neighbour = plan[min(1, len(plan) - 1)].relative_path
        unreadable = (neighbour.rsplit(".", 1)[0] + "-retry.parquet",)
        (landing_dir / unreadable[0]).write_bytes(UNREADABLE_PARQUET_BYTES)
    before, after = _unsubscribed_counts(con, events, seed, start_epoch, span_seconds)
    con.close()
    return _summary(
        landing_dir, customer_rows, subscriptions, plan, malformed_rows, unreadable, before, after
    )


def _summary(landing_dir, customer_rows, subscriptions, plan, malformed_rows, unreadable, before, after):
    files = []
    for planned in plan:
        bad = sum(row.relative_path == planned.relative_path for row in malformed_rows)
        files.append(
            WrittenUsageFile(
                relative_path=planned.relative_path,
                file_format=planned.file_format,
                rows=planned.generated_rows + bad,
                unique_events=planned.unique_events,
                retried_duplicates=planned.copies(conflicting=False),
                conflicting_duplicates=planned.copies(conflicting=True),
                malformed_rows=bad,
            )
        )
    ended_last = {s.customer_id: s.ended_at is not None for s in subscriptions}  # last row per customer wins
    plans_before: dict[str, str] = {}
    cadence_changes = 0
    for subscription in subscriptions:
        previous = plans_before.get(subscription.customer_id)
        cadence_changes += previous is not None and (previous == CADENCE_CHANGE_PLAN) != (
            subscription.plan_id == CADENCE_CHANGE_PLAN
        )
        plans_before[subscription.customer_id] = subscription.plan_id
    return GeneratedLanding(
        landing_dir=landing_dir,
        customers=len(customer_rows),
        subscriptions=len(subscriptions),
        plan_changes=len(subscriptions) - len(customer_rows),
        cancellations=sum(ended_last.values()),
        cadence_changes=cadence_changes,
        prorated_stubs=sum(c.before_anchor == "prorated_stub" for c in customer_rows),
        trials_as_own_period=sum(c.trial_period == "own_period" for c in customer_rows),
        usage_files=tuple(files),
        unique_events=sum(f.unique_events for f in files),
        retried_duplicates=sum(f.retried_duplicates for f in files),
        conflicting_duplicates=sum(f.conflicting_duplicates for f in files),
        malformed=tuple(malformed_rows),
        unreadable_files=unreadable,
        events_before_subscription=before,
        events_after_cancellation=after,
    )


def generate_scale_landing(landing_dir: Path, *, events: int, customers: int, end: date) -> bool:
    """The scale data set the benchmarks and the large tie-out checks share: Parquet only, no malformed rows,
    seed 1. Kept between runs: regenerated only when `landing_dir` holds another size. True when written."""
    marker = landing_dir / ".scale-params.json"
    params = {"events": events, "customers": customers, "end": end.isoformat()}
    if marker.exists() and json.loads(marker.read_text()) == params:
        return False
    shutil.rmtree(landing_dir, ignore_errors=True)
    generate_landing(
        landing_dir,
        customers=customers,
        events=events,
        seed=1,
        end=end,
        formats=("parquet",),
        malformed=False,
        overwrite=True,
    )
    marker.write_text(json.dumps(params))
    return True

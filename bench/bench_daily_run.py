"""Benchmark: the daily run against the full run, as history grows (issue 13's yardstick).

    python bench/bench_daily_run.py                                   # histories of 1M and 2M events
    python bench/bench_daily_run.py --events 25000000,50000000,100000000 --customers 50000 --new-day 1000000

For each history size: the generated history (the benchmarks' cached scale data set, Parquet) is billed from an
empty warehouse as of 2026-10-01 (the full run: every asset through Dagster, dbt with its tests, Stripe off); then
a new day lands, `--new-day` events of which 1% fall in windows whose invoices were already issued, and the next
day's run bills it as of 2026-10-02 (the daily run). Both are `run_pipeline`, what `billing run` calls. Prints each
run's wall time and peak memory, the daily / full ratio, the largest / smallest daily time across sizes (issue 13's
targets: under 1.3, and the daily run at most 10% of the full run at the largest size), and the full run's ratio to
`bench_floor_query.py`'s bare dedup + windows + aggregate query on the same events.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from dagster_billing.sql_literals import sql_string_literal

REPO_ROOT = Path(__file__).resolve().parent.parent
HISTORY_AS_OF = "2026-10-01"
NEXT_DAY = "2026-10-02"
LATE_SHARE = 0.01

# The new day: events on Oct 1 (windows still open, or closing at the next boundary), and a 1% share dated in
# September, in windows whose invoices the full run issued (billed as adjustments on the next invoices).
NEW_DAY_SQL = """
copy (
    select
        'newday-' || i as event_id,
        customers[1 + (hash(i) % len(customers))::integer] as customer_id,
        metrics[1 + (hash(i * 7) % len(metrics))::integer] as metric,
        (1 + hash(i * 13) % 50)::varchar as quantity,
        case
            when i % $late_every = 0 then timestamp '2026-09-10' + to_seconds((hash(i * 17) % 86400)::bigint)
            else timestamp '2026-10-01' + to_seconds((hash(i * 17) % 86400)::bigint)
        end as occurred_at,
    from range($events) as t(i),
         (select list(customer_id order by customer_id) as customers from read_csv($customers_csv, header = true)),
         (select ['api_calls', 'compute_minutes'] as metrics)
) to {target} (format parquet)
"""


def _landing_copy(history: Path, landing: Path) -> None:
    """Hard links of the cached history (a real file each: the landing folder refuses links that leave it)."""
    shutil.rmtree(landing, ignore_errors=True)
    for source in history.rglob("*"):
        if source.is_file() and not source.name.startswith("."):
            target = landing / source.relative_to(history)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)


def _land_new_day(landing: Path, events: int) -> None:
    target = landing / "usage" / "2026" / "10" / "new-day-2026-10-01.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect().execute(
        NEW_DAY_SQL.format(target=sql_string_literal(target)),
        {
            "late_every": int(1 / LATE_SHARE),
            "events": events,
            "customers_csv": str(landing / "customers.csv"),
        },
    )


def _timed_run(workdir: Path, landing: Path, as_of: str) -> tuple[float, float]:
    """(wall seconds, peak RSS GB) of one run in its own process, so each peak is its own."""
    code = (
        "import sys; from pathlib import Path; from dagster_billing.pipeline_run import run_pipeline; "
        "from dagster_billing.settings import BillingPaths, REPO_ROOT; "
        f"r = run_pipeline(BillingPaths(Path({str(landing)!r}), Path({str(workdir / 'warehouse.duckdb')!r}), "
        f"REPO_ROOT / 'pricing_configs'), {as_of!r}); sys.exit(0 if r.success else 1)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "BILLING_"))}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"the run as of {as_of} failed:\n{done.stderr[-3000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far
    return elapsed, peak_kb / 1024 / 1024


def _floor_query_seconds(events: int, customers: int, workdir: Path) -> str:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "bench" / "bench_floor_query.py"),
            "--events",
            str(events),
            "--customers",
            str(customers),
            "--workdir",
            str(workdir),
            "--repeat",
            "2",
        ],
        capture_output=True,
        text=True,
    )
    lines = [
        line for line in done.stdout.splitlines() if "floor query, NumPy" in line or "duckdb read" in line
    ]
    return "; ".join(line.strip() for line in lines) or done.stderr[-500:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", default="1000000,2000000", help="history sizes, comma-separated")
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument(
        "--new-day", type=int, default=0, help="events of the new day (default: history / 50)"
    )
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "data" / "bench")
    parser.add_argument("--skip-floor", action="store_true", help="do not run bench_floor_query.py")
    args = parser.parse_args()
    from dagster_billing.generator import generate_scale_landing

    results = []
    for events in (int(size) for size in args.events.split(",")):
        history = args.workdir / f"landing-{events}-{args.customers}"
        generate_scale_landing(
            history, events=events, customers=args.customers, end=date.fromisoformat(HISTORY_AS_OF)
        )
        run_dir = args.workdir / f"daily-{events}-{args.customers}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        landing = run_dir / "landing"
        _landing_copy(history, landing)
        full, full_peak = _timed_run(run_dir, landing, HISTORY_AS_OF)
        new_day = args.new_day or max(events // 50, 1_000)
        _land_new_day(landing, new_day)
        daily, _ = _timed_run(run_dir, landing, NEXT_DAY)
        floor = "" if args.skip_floor else _floor_query_seconds(events, args.customers, args.workdir)
        results.append((events, full, full_peak, new_day, daily, floor))
        print(
            f"history {events:>12,} events: full run {full:7.1f} s (peak {full_peak:.2f} GB); new day "
            f"{new_day:,} events: daily run {daily:7.1f} s = {daily / full:.0%} of the full run",
            flush=True,
        )
        if floor:
            print(f"  floor (bench_floor_query.py, same events): {floor}", flush=True)
    dailies = [daily for *_, daily, _ in results]
    print(f"daily run, largest / smallest across sizes: {max(dailies) / min(dailies):.2f} (target under 1.3)")
    *_, (_, full, _, _, daily, _) = results
    print(f"daily / full at the largest size: {daily / full:.0%} (target at most 10%)")


if __name__ == "__main__":
    main()

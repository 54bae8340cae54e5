"""Benchmark: ingest + windowing of N usage events from Parquet, beside DuckDB's own read of the same files.

    python bench/bench_ingest_windowing.py                 # 1M events
    python bench/bench_ingest_windowing.py --events 10000000
    python bench/bench_ingest_windowing.py --events 100000000 --customers 50000

Prints, for the data processing alone (fixed Dagster/dbt start-up reported apart):
- DuckDB reading all columns of the landing files (the yardstick),
- ingestion (segments, validation, exact dedup) and windowing (the dbt models that cut usage into billing
  windows: table materializations' execution time as dbt reports it), events/s, and their ratio to the yardstick,
- peak memory (max RSS of the measuring process; DuckDB and dbt run in it),
- fixed start-up: dbt's overhead around the models, and a whole Dagster run of every asset on a tiny landing.
Generated data is cached under --workdir, keyed by its parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from dagster_billing.sql_literals import sql_identifier, sql_string_literal

REPO_ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-10-01"
# The windowing models and everything upstream of them (not the pricing and finance models built on them).
WINDOWING_MODELS = "+int_usage_aggregated_to_billing_windows +int_usage_events_unbilled"


def _generate(landing: Path, events: int, customers: int) -> None:
    from dagster_billing.generator import generate_scale_landing

    started = time.perf_counter()
    if generate_scale_landing(landing, events=events, customers=customers, end=date.fromisoformat(AS_OF)):
        print(f"generated {events:,} events in {time.perf_counter() - started:.1f} s", flush=True)


def _usage_files(landing: Path) -> list[str]:
    return sorted(str(p) for p in (landing / "usage").rglob("*.parquet"))


def _usage_files_sql(landing: Path) -> str:
    """The usage files as a DuckDB list of string literals (a Python list's repr is not SQL)."""
    return "[" + ", ".join(sql_string_literal(path) for path in _usage_files(landing)) + "]"


def measure_duckdb_read(landing: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    columns = [
        r[0]
        for r in con.execute(f"describe select * from read_parquet({_usage_files_sql(landing)})").fetchall()
    ]
    # hash() forces every value to be decoded; min/max would be answered from the Parquet statistics.
    aggregates = ", ".join(f"sum(hash({sql_identifier(c)}))" for c in columns)
    con.execute(
        f"select {aggregates} from read_parquet({_usage_files_sql(landing)})"
    ).fetchall()  # warm the page cache
    started = time.perf_counter()
    con.execute(f"select count(*), {aggregates} from read_parquet({_usage_files_sql(landing)})").fetchall()
    return {"seconds": time.perf_counter() - started, "columns": columns}


def fresh_warehouse(warehouse_dir: Path) -> Path:
    """An empty warehouse in `warehouse_dir`, keeping dbt's target folder so that every measured run parses the
    project the same way (partially, from the previous run's manifest)."""
    for stale in warehouse_dir.glob("*"):
        if stale.name == "dbt-target":
            continue
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    return warehouse_dir / "warehouse.duckdb"


def measure_pipeline(landing: Path, warehouse: Path) -> dict:
    """Ingestion, then the windowing models through dbt, on a fresh warehouse (run in its own process)."""
    import duckdb
    from dbt.cli.main import dbtRunner

    from dagster_billing.ingestion.reference_data import load_customers, load_subscriptions
    from dagster_billing.ingestion.usage_ingestion import ingest_usage_files
    from dagster_billing.pricing import load_pricing_configs, write_pricing_tables
    from dagster_billing.settings import BillingPaths

    paths = BillingPaths(landing, warehouse, REPO_ROOT / "pricing_configs")
    paths.export_env()
    from dagster_billing.warehouse_file import configure_session, ensure_warehouse_file

    ensure_warehouse_file(warehouse)
    con = configure_session(duckdb.connect(str(warehouse)))
    started = time.perf_counter()
    load_customers(con, landing)
    load_subscriptions(con, landing)
    write_pricing_tables(con, load_pricing_configs(paths.pricing_dir))
    reference_seconds = time.perf_counter() - started

    started = time.perf_counter()
    report = ingest_usage_files(con, landing, paths.segments_dir, ingested_at=datetime(2026, 11, 1))
    ingest_seconds = time.perf_counter() - started
    con.close()

    target = warehouse.parent / "dbt-target"
    started = time.perf_counter()
    result = dbtRunner().invoke(
        [
            "--quiet",
            "run",
            "--project-dir",
            str(REPO_ROOT / "dbt_project"),
            "--profiles-dir",
            str(REPO_ROOT / "dbt_project"),
            "--target-path",
            str(target),
            "--select",
            *WINDOWING_MODELS.split(),
            "--vars",
            json.dumps({"as_of": AS_OF}),
        ]
    )
    dbt_seconds = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"dbt failed: {result.exception or result.result}")
    model_seconds = {r.node.name: r.execution_time for r in result.result.results}
    windowing_seconds = sum(model_seconds.values())
    return {
        "reference_seconds": reference_seconds,
        "ingest_seconds": ingest_seconds,
        "windowing_seconds": windowing_seconds,
        "dbt_startup_seconds": dbt_seconds - windowing_seconds,
        "dbt_wall_seconds": dbt_seconds,
        "model_seconds": model_seconds,
        "rows_read": report.total("rows_read"),
        "rows_accepted": report.total("rows_accepted"),
        "rows_duplicate": report.total("rows_duplicate"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure_dbt_fixed_cost(workdir: Path) -> float:
    """dbt's wall time for the same models on a tiny landing (10 customers, 100 events): start-up, parsing and
    each model's own overhead (metadata queries, DDL, renames), which do not grow with the data."""
    from dagster_billing.generator import generate_scale_landing

    tiny = workdir / "tiny-dbt"
    generate_scale_landing(tiny / "landing", events=100, customers=10, end=date.fromisoformat(AS_OF))
    return measure_pipeline(tiny / "landing", fresh_warehouse(tiny / "warehouse"))["dbt_wall_seconds"]


def dbt_processing_seconds(run: dict, fixed_seconds: float) -> float:
    """The models' data processing: dbt's wall time less its fixed cost. (Summing the models' own times would
    count twice the time two models run side by side on dbt's two threads.)"""
    return max(run["dbt_wall_seconds"] - fixed_seconds, 0.0)


def measure_dagster_startup(workdir: Path) -> float:
    """A whole run of every asset through Dagster on a tiny landing: the fixed cost any run pays."""
    from dagster_billing.generator import generate_scale_landing
    from dagster_billing.pipeline_run import run_pipeline
    from dagster_billing.settings import BillingPaths

    tiny = workdir / "tiny"
    shutil.rmtree(tiny, ignore_errors=True)
    generate_scale_landing(tiny / "landing", events=100, customers=10, end=date.fromisoformat(AS_OF))
    paths = BillingPaths(tiny / "landing", tiny / "warehouse.duckdb", REPO_ROOT / "pricing_configs")
    started = time.perf_counter()
    run = run_pipeline(paths, AS_OF)
    if not run.success:
        raise SystemExit(f"tiny Dagster run failed: {run.failures}")
    return time.perf_counter() - started


def _in_subprocess(phase: str, args: argparse.Namespace) -> dict:
    """Each phase runs in a fresh process so its peak memory is its own."""
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--events",
            str(args.events),
            "--customers",
            str(args.customers),
            "--workdir",
            str(args.workdir),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def _median_run(runs: list[dict], fixed: float) -> dict:
    """The run whose ingest + windowing time is the median (its parts stay consistent with each other)."""
    for run in runs:
        run["processing_seconds"] = run["ingest_seconds"] + dbt_processing_seconds(run, fixed)
    ordered = sorted(runs, key=lambda run: run["processing_seconds"])
    median = dict(ordered[len(ordered) // 2])
    median["all_totals"] = [round(run["processing_seconds"], 2) for run in runs]
    median["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "data" / "bench")
    parser.add_argument("--skip-dagster", action="store_true", help="do not measure the Dagster start-up")
    parser.add_argument(
        "--repeat", type=int, default=3, help="measure N times and print the median (this VM's timings vary)"
    )
    parser.add_argument("--phase", choices=["read", "pipeline", "dagster", "fixed"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    landing = args.workdir / f"landing-{args.events}-{args.customers}"
    os.environ.setdefault("DBT_LOG_PATH", str(args.workdir / "dbt-logs"))

    if args.phase == "read":
        print(json.dumps(measure_duckdb_read(landing)))
        return
    if args.phase == "pipeline":
        print(json.dumps(measure_pipeline(landing, fresh_warehouse(args.workdir / "warehouse"))))
        return
    if args.phase == "fixed":
        print(json.dumps({"seconds": measure_dbt_fixed_cost(args.workdir)}))
        return
    if args.phase == "dagster":
        print(json.dumps({"seconds": measure_dagster_startup(args.workdir)}))
        return

    _generate(landing, args.events, args.customers)
    reads = [_in_subprocess("read", args) for _ in range(args.repeat)]
    pipelines = [_in_subprocess("pipeline", args) for _ in range(args.repeat)]
    # the first tiny run parses the whole project; the later ones parse partially, as the measured runs do
    fixed = min(_in_subprocess("fixed", args)["seconds"] for _ in range(args.repeat + 1))
    read = {"seconds": statistics.median(r["seconds"] for r in reads)}
    pipeline = _median_run(pipelines, fixed)
    processing = pipeline["processing_seconds"]
    windowing = processing - pipeline["ingest_seconds"]
    events = pipeline["rows_read"]
    size_mb = sum(Path(p).stat().st_size for p in _usage_files(landing)) / 1e6
    print(
        f"events: {events:,} Parquet rows in {len(_usage_files(landing))} files ({size_mb:,.0f} MB), "
        f"{args.customers:,} customers; {pipeline['rows_duplicate']:,} retried duplicates"
    )
    print(f"median of {args.repeat} runs (ingest + windowing totals: {pipeline['all_totals']} s)")
    print(f"duckdb read, all columns:      {read['seconds']:8.2f} s")
    print(f"ingest (segments+dedup):       {pipeline['ingest_seconds']:8.2f} s")
    print(
        f"windowing (dbt models):        {windowing:8.2f} s   (dbt wall {pipeline['dbt_wall_seconds']:.2f} s "
        f"less its fixed {fixed:.2f} s)"
    )
    print(
        "  model times as dbt reports them (two threads, so they overlap): "
        + ", ".join(f"{name} {secs:.2f}" for name, secs in pipeline["model_seconds"].items() if secs >= 0.05)
    )
    print(
        f"ingest + windowing:            {processing:8.2f} s   {events / processing:,.0f} events/s   "
        f"{processing / read['seconds']:.1f}x the DuckDB read"
    )
    print(f"peak memory (ingest+windowing process): {pipeline['peak_rss_mb']:,.0f} MB")
    print(
        f"fixed start-up: dbt {fixed:.2f} s (the same models on 100 events); "
        f"reference data + pricing load {pipeline['reference_seconds']:.2f} s"
    )
    if not args.skip_dagster:
        dagster = _in_subprocess("dagster", args)
        print(
            f"fixed start-up: a whole Dagster run of every asset on 100 events takes {dagster['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()

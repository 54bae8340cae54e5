"""Benchmark: N usage events from Parquet all the way to invoices, beside DuckDB's own read of the same files and
beside a straightforward pandas implementation of the same pricing.

    python bench/bench_invoices.py                        # 1M events
    python bench/bench_invoices.py --events 10000000
    python bench/bench_invoices.py --events 100000000 --customers 50000 --skip-pandas

Prints, for the data processing alone (dbt's and Dagster's fixed start-up apart, as in bench_ingest_windowing.py):
- DuckDB reading all columns of the landing files (the yardstick),
- ingestion, then the dbt models from staging to the invoice marts: dbt's wall time less its fixed cost (the same
  models on 100 events), their total and its ratio to the yardstick, peak memory; the model times dbt reports
  (windowing, pricing + invoices) for where the time goes;
- the pandas implementation (bench/pandas_pricing.py: read, dedup, window assignment, aggregation and exact
  Decimal pricing of the same events) and how many times slower it is than the SQL path through invoices;
- whether the pandas usage lines equal marts.fct_invoice_lines' usage lines to the minor unit.
Each phase runs in its own process so its peak memory is its own. Generated data is shared with
bench_ingest_windowing.py (same cache under --workdir).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_ingest_windowing as windowing_bench  # noqa: E402

REPO_ROOT = windowing_bench.REPO_ROOT
AS_OF = windowing_bench.AS_OF
DBT_MODELS = REPO_ROOT / "dbt_project" / "models"
# Everything billing needs, from staging to the invoice marts (not the finance marts built on top of them).
INVOICE_SELECTION = (
    f"{windowing_bench.WINDOWING_MODELS} +fct_invoices +fct_invoice_lines +dim_customers +dim_plans"
)


def _pricing_model_names() -> set[str]:
    folders = (DBT_MODELS / "intermediate" / "pricing", DBT_MODELS / "marts" / "invoicing")
    return {path.stem for folder in folders for path in folder.glob("*.sql")}


def _landing(args: argparse.Namespace) -> Path:
    return args.workdir / f"landing-{args.events}-{args.customers}"


def _warehouse(args: argparse.Namespace) -> Path:
    return args.workdir / "invoices-warehouse" / "warehouse.duckdb"


def measure_fixed(args: argparse.Namespace) -> dict:
    windowing_bench.WINDOWING_MODELS = INVOICE_SELECTION
    return {"seconds": windowing_bench.measure_dbt_fixed_cost(args.workdir)}


def measure_through_invoices(args: argparse.Namespace) -> dict:
    """Ingestion, then every dbt model through the invoice marts, on a fresh warehouse."""
    warehouse = windowing_bench.fresh_warehouse(_warehouse(args).parent)
    windowing_bench.WINDOWING_MODELS = INVOICE_SELECTION  # the same measurement, a wider dbt selection
    result = windowing_bench.measure_pipeline(_landing(args), warehouse)
    pricing_names = _pricing_model_names()
    models = result["model_seconds"]
    result["pricing_seconds"] = sum(seconds for name, seconds in models.items() if name in pricing_names)
    result["windowing_seconds"] -= result["pricing_seconds"]
    return result


def measure_pandas(args: argparse.Namespace) -> dict:
    import pandas_pricing

    started = time.perf_counter()
    lines, timings = pandas_pricing._timed_pricing(
        _landing(args), _warehouse(args), REPO_ROOT / "pricing_configs", AS_OF
    )
    seconds = time.perf_counter() - started
    mismatches = pandas_pricing.compare_with_sql(lines, _warehouse(args))
    return {
        "seconds": seconds,
        "phases": {name: value for name, value in timings.items() if name != "events"},
        "lines": len(lines),
        "mismatches": len(mismatches),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _in_subprocess(phase: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--events", str(args.events)]
    command += ["--customers", str(args.customers), "--workdir", str(args.workdir)]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _run_phase(args: argparse.Namespace) -> None:
    if args.phase == "read":
        result = windowing_bench.measure_duckdb_read(_landing(args))
    elif args.phase == "fixed":
        result = measure_fixed(args)
    elif args.phase == "invoices":
        result = measure_through_invoices(args)
    else:
        result = measure_pandas(args)
    print(json.dumps(result, default=str))


def _processing_seconds(run: dict) -> float:
    """Ingestion plus dbt's wall time less its fixed cost (see bench_ingest_windowing.dbt_processing_seconds)."""
    return run["ingest_seconds"] + windowing_bench.dbt_processing_seconds(run, run["fixed_seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "data" / "bench")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the SQL path; the median is reported")
    parser.add_argument("--skip-pandas", action="store_true", help="do not run the pandas implementation")
    parser.add_argument("--phase", choices=["read", "invoices", "pandas", "fixed"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        _run_phase(args)
        return

    landing = _landing(args)
    if not landing.exists():
        print(
            f"Generating {args.events:,} events for {args.customers:,} customers in {landing} ...", flush=True
        )
        windowing_bench._generate(landing, args.events, args.customers)
    read = _in_subprocess("read", args)
    # the first tiny run parses the whole project; the later ones parse partially, as the measured runs do
    fixed = min(_in_subprocess("fixed", args)["seconds"] for _ in range(3))
    runs = [_in_subprocess("invoices", args) | {"fixed_seconds": fixed} for _ in range(args.repeat)]
    runs.sort(key=_processing_seconds)
    sql = runs[len(runs) // 2]
    total = _processing_seconds(sql)
    events = sql["rows_read"]
    print(f"Events: {events:,} rows read from Parquet, {sql['rows_accepted']:,} accepted")
    print(f"DuckDB read of all columns:      {read['seconds']:8.2f} s")
    print(f"Ingest:                          {sql['ingest_seconds']:8.2f} s")
    dbt_processing = windowing_bench.dbt_processing_seconds(sql, fixed)
    print(
        f"dbt models, staging to invoices: {dbt_processing:8.2f} s   (dbt wall {sql['dbt_wall_seconds']:.2f} s "
        f"less its fixed {fixed:.2f} s on 100 events)"
    )
    print(
        f"  as dbt reports model times (two threads overlap): windowing {sql['windowing_seconds']:.2f} s, "
        f"pricing + invoices {sql['pricing_seconds']:.2f} s"
    )
    print(
        f"Through invoices (start-up apart): {total:6.2f} s = {total / read['seconds']:.1f}x the read, "
        f"{events / total:,.0f} events/s"
        + (f" (runs: {', '.join(f'{_processing_seconds(r):.2f}' for r in runs)})" if len(runs) > 1 else "")
    )
    print(f"Peak memory (max RSS):           {max(r['peak_rss_mb'] for r in runs):8.0f} MB")
    slowest = sorted(sql["model_seconds"].items(), key=lambda item: -item[1])[:5]
    print("Slowest models: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in slowest))
    if args.skip_pandas:
        return
    pandas = _in_subprocess("pandas", args)
    print(
        f"pandas (read, dedup, windows, aggregate, Decimal pricing): {pandas['seconds']:.2f} s = "
        f"{pandas['seconds'] / total:.1f}x the SQL path through invoices; peak {pandas['peak_rss_mb']:.0f} MB"
    )
    print("  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in pandas["phases"].items()))
    print(
        f"Usage lines: {pandas['lines']:,}; differing from marts.fct_invoice_lines: {pandas['mismatches']:,}"
        + (" (identical amounts)" if pandas["mismatches"] == 0 else "")
    )


if __name__ == "__main__":
    main()

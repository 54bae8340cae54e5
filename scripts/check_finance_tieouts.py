"""Check the finance tie-outs on a large generated data set (default: the generator's 1M-event set).

    .venv/bin/python scripts/check_finance_tieouts.py                                   # 1M events, 5,000 customers
    .venv/bin/python scripts/check_finance_tieouts.py --events 100000 --customers 500   # quicker

Generates the landing folder (cached under --workdir, keyed by its parameters), runs every asset as of 2026-10-01
on a fresh warehouse, then compares, printing the rows compared and the mismatches of each check:
- every revenue invoice line against the sum of its days,
- billed = recognized + deferred - unbilled per customer and month end (billed from fct_invoices, recognized from
  fct_revenue_daily, balances from fct_deferred_revenue), and billed = recognized of billed + deferred in the mart,
- start MRR + movements = end MRR per month and currency, and each month's start = the previous month's end.
Exits 1 when the run fails or any check has a mismatch. A correctness check, not a benchmark: no timings asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from dagster_billing.finance.tieouts import headline_figures, run_tieouts

REPO_ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-10-01"


def generate(landing: Path, events: int, customers: int) -> None:
    from dagster_billing.generator import generate_scale_landing

    # the same data set as the benchmarks (bench/): Parquet files, no malformed rows
    generate_scale_landing(landing, events=events, customers=customers, end=date.fromisoformat(AS_OF))


def run(landing: Path, workdir: Path) -> Path:
    from dagster_billing.pipeline_run import run_pipeline
    from dagster_billing.settings import BillingPaths

    warehouse_dir = workdir / "warehouse"
    shutil.rmtree(warehouse_dir, ignore_errors=True)
    warehouse_dir.mkdir(parents=True)
    paths = BillingPaths(landing, warehouse_dir / "warehouse.duckdb", REPO_ROOT / "pricing_configs")
    started = time.perf_counter()
    result = run_pipeline(paths, AS_OF)
    print(
        f"pipeline run as of {AS_OF}: {'succeeded' if result.success else 'FAILED'} "
        f"({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    if not result.success:
        print("\n".join(str(failure) for failure in result.failures))
        sys.exit(1)
    return paths.warehouse_path


def check(warehouse: Path) -> bool:
    for name, value in headline_figures(warehouse).items():
        print(f"{name}: {value:,}")
    tieouts = run_tieouts(warehouse)
    for tieout in tieouts:
        print(f"{tieout.name}: {tieout.rows_compared:,} rows compared, {tieout.mismatches:,} mismatches")
    return all(tieout.holds for tieout in tieouts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "data" / "finance_check")
    args = parser.parse_args()
    landing = args.workdir / f"landing-{args.events}-{args.customers}"
    generate(landing, args.events, args.customers)
    ok = check(run(landing, args.workdir))
    print("all finance tie-outs hold" if ok else "FINANCE TIE-OUTS DO NOT HOLD")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

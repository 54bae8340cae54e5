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
import json
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-10-01"

CHECKS = {
    "revenue lines = sum of their days": (
        "select count(*) from marts.fct_invoice_lines where scenario = 'actual'",
        """select count(*) from marts.fct_invoice_lines as l
           left join (select line_id, sum(amount_minor) as minor
                      from intermediate.int_revenue_allocated_to_days group by line_id) as d using (line_id)
           where l.scenario = 'actual' and d.minor is distinct from l.amount_minor""",
    ),
    "billed = recognized + deferred - unbilled (customer x month end)": (
        "select count(*) from marts.fct_deferred_revenue",
        """with billed as (
               select customer_id, date_trunc('month', billing_at)::date as month, sum(total_minor) as minor
               from marts.fct_invoices where scenario = 'actual' group by all),
           recognized as (
               select customer_id, revenue_month as month, sum(amount_minor) as minor
               from marts.fct_revenue_daily group by all),
           cumulated as (
               select d.customer_id, d.revenue_month as month, d.deferred_revenue_minor, d.unbilled_revenue_minor,
                      (select coalesce(sum(b.minor), 0) from billed as b
                       where b.customer_id = d.customer_id and b.month <= d.revenue_month) as billed_to_date,
                      (select coalesce(sum(r.minor), 0) from recognized as r
                       where r.customer_id = d.customer_id and r.month <= d.revenue_month) as recognized_to_date
               from marts.fct_deferred_revenue as d)
           select count(*) from cumulated
           where billed_to_date <> recognized_to_date + deferred_revenue_minor - unbilled_revenue_minor""",
    ),
    "billed = recognized of billed + deferred (in the mart)": (
        "select count(*) from marts.fct_deferred_revenue",
        """select count(*) from marts.fct_deferred_revenue
           where billed_to_date_minor <> recognized_of_billed_to_date_minor + deferred_revenue_minor""",
    ),
    "start MRR + movements = end MRR (month x currency)": (
        "select count(*) from marts.fct_mrr_movements",
        """select count(*) from (
               select *, lag(end_mrr_minor, 1, 0) over (partition by currency order by mrr_month) as previous_end
               from marts.fct_mrr_movements)
           where start_mrr_minor + new_mrr_minor + expansion_mrr_minor + reactivation_mrr_minor
                 + contraction_mrr_minor + churn_mrr_minor <> end_mrr_minor
              or start_mrr_minor <> previous_end""",
    ),
}

FIGURES = {
    "customers invoiced": "select count(distinct customer_id) from marts.fct_invoices where scenario = 'actual'",
    "invoice lines": "select count(*) from marts.fct_invoice_lines where scenario = 'actual'",
    "revenue day rows": "select count(*) from marts.fct_revenue_daily",
    "invoiced, all currencies in USD minor units": (
        "select sum(amount_reporting_minor) from marts.fct_revenue_daily"
    ),
    "deferred revenue at 2026-09-30, USD minor units": (
        "select sum(deferred_revenue_minor) from marts.fct_deferred_revenue "
        "where month_end_date = date '2026-09-30' and currency = 'USD'"
    ),
    "contracted MRR in 2026-09, USD minor units": (
        "select sum(end_mrr_minor) from marts.fct_mrr_movements where mrr_month = date '2026-09-01' "
        "and currency = 'USD'"
    ),
}


def generate(landing: Path, events: int, customers: int) -> None:
    from dagster_billing.generator import generate_landing

    marker = landing / ".finance-check-params.json"
    params = {"events": events, "customers": customers}
    if marker.exists() and json.loads(marker.read_text()) == params:
        return
    shutil.rmtree(landing, ignore_errors=True)
    # the same data set as bench/bench_ingest_windowing.py: Parquet files, no malformed rows
    generate_landing(
        landing,
        customers=customers,
        events=events,
        seed=1,
        end=date.fromisoformat(AS_OF),
        formats=("parquet",),
        malformed=False,
        overwrite=True,
    )
    marker.write_text(json.dumps(params))


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
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for name, sql in FIGURES.items():
            print(f"{name}: {con.execute(sql).fetchone()[0]:,}")
        all_tie = True
        for name, (count_sql, mismatch_sql) in CHECKS.items():
            compared = con.execute(count_sql).fetchone()[0]
            mismatches = con.execute(mismatch_sql).fetchone()[0]
            all_tie = all_tie and mismatches == 0 and compared > 0
            print(f"{name}: {compared:,} rows compared, {mismatches:,} mismatches")
        return all_tie
    finally:
        con.close()


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

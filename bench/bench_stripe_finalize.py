"""Finalization throughput (invoices/s) against the local Stripe emulator at 1, 4 and 8 concurrent requests.

Each invoice is about 6 requests (create, 3 lines, finalize, pay or send) plus one customer search, create and
invoice list per customer. Run: .venv/bin/python bench/bench_stripe_finalize.py [--invoices 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from stripe_fixtures import many_invoices, run_finalize, write_invoice_marts  # noqa: E402

from dagster_billing.local_stripe.process import local_stripe  # noqa: E402


def measure(invoices: int, concurrency: int, workdir: Path) -> tuple[float, dict]:
    warehouse = workdir / f"bench-{concurrency}.duckdb"
    write_invoice_marts(warehouse, many_invoices(invoices))
    with local_stripe(workdir / f"emulator-{concurrency}") as emulator:
        started = time.perf_counter()
        summary = run_finalize(warehouse, emulator.api_base, concurrency=concurrency)
        elapsed = time.perf_counter() - started
        stats = emulator.stats()
    assert summary.errors == [] and summary.due == invoices
    return elapsed, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency in (1, 4, 8):
            elapsed, stats = measure(args.invoices, concurrency, Path(tmp))
            print(
                f"concurrency {concurrency}: {args.invoices} invoices in {elapsed:.2f} s = "
                f"{args.invoices / elapsed:.1f} invoices/s ({stats['total'] / elapsed:.0f} requests/s, "
                f"{stats['total']} requests)"
            )


if __name__ == "__main__":
    main()

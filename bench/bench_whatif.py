"""Benchmark: five what-if scenarios over the whole history in one run, against the full pipeline on the same data.

    python bench/bench_whatif.py                       # 1M events, 5,000 customers
    python bench/bench_whatif.py --events 10000000

The history (the benchmarks' cached scale data set) is billed from an empty warehouse as of 2026-10-01 (the full
run: every asset through Dagster, dbt with its tests, Stripe off; what `billing run` does). Then `billing whatif`
runs five scenarios (the three examples of pricing_configs/scenarios/, one identical to 2026-01 and one with an
elasticity) over every billing date (`--from 2000-01-01`), in its own process. Prints both wall times, the ratio
(issue 15's target: at most 20%), the what-if's phases (inputs copied, dbt, report) and its fixed cost: the same
what-if on a 1,000-event history, which is almost all dbt start-up and parsing, so the data work is the rest.
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

REPO_ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-10-01"
EXAMPLES = ["tier1_price_rise", "growth_volume_api_calls", "starter_to_starter_plus"]
EXTRA = {
    "same_as_2026": "whatif:\n  description: the 2026-01 price list unchanged\n",
    "elastic_api_calls": 'whatif:\n  elasticity: {api_calls: "-10", storage_gb: "5"}\n',
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "BILLING_"))}


def _timed(command: list[str], what: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def _pipeline(workdir: Path, landing: Path) -> float:
    code = (
        "import sys; from pathlib import Path; from dagster_billing.pipeline_run import run_pipeline; "
        "from dagster_billing.settings import BillingPaths, REPO_ROOT; "
        f"r = run_pipeline(BillingPaths(Path({str(landing)!r}), Path({str(workdir / 'warehouse.duckdb')!r}), "
        f"REPO_ROOT / 'pricing_configs'), {AS_OF!r}); sys.exit(0 if r.success else 1)"
    )
    elapsed, _ = _timed([sys.executable, "-c", code], f"the pipeline run in {workdir}")
    return elapsed


def _pricing_with_scenarios(workdir: Path) -> Path:
    pricing = workdir / "pricing_configs"
    shutil.rmtree(pricing, ignore_errors=True)
    shutil.copytree(REPO_ROOT / "pricing_configs", pricing)
    base = (REPO_ROOT / "pricing_configs" / "2026-01.yaml").read_text()
    for name, settings in EXTRA.items():
        (pricing / "scenarios" / f"{name}.yaml").write_text(base + settings)
    return pricing


def _whatif(workdir: Path, pricing: Path) -> tuple[float, str]:
    """`billing whatif` with the five scenarios over the whole history, timed with its phases."""
    code = (
        "import sys, time; from datetime import date; from pathlib import Path; "
        "from dagster_billing.settings import BillingPaths; from dagster_billing.pricing import load_pricing_configs; "
        "from dagster_billing.whatif import compare_scenarios; from dagster_billing.whatif.report import write_report; "
        f"paths = BillingPaths(Path('.'), Path({str(workdir / 'warehouse.duckdb')!r}), Path({str(pricing)!r})); "
        f"r = compare_scenarios({[*EXAMPLES, *EXTRA]!r}, date(2000, 1, 1), paths=paths); "
        "t = time.perf_counter(); write_report(r, load_pricing_configs(paths.pricing_dir), "
        f"Path({str(workdir / 'whatif_report.html')!r})); "
        "r.seconds['report'] = time.perf_counter() - t; "
        "print('PHASES', ' '.join(f'{k}={v:.2f}' for k, v in r.seconds.items()), len(r.invoices), len(r.customers))"
    )
    elapsed, out = _timed([sys.executable, "-c", code], f"the what-if in {workdir}")
    phases = next(line for line in out.splitlines() if line.startswith("PHASES"))
    return elapsed, phases.removeprefix("PHASES ")


def _prepare(workdir: Path, events: int, customers: int) -> Path:
    from dagster_billing.generator import generate_scale_landing

    landing = workdir.parent / f"landing-{events}-{customers}"
    generate_scale_landing(landing, events=events, customers=customers, end=date.fromisoformat(AS_OF))
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    return landing


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "data" / "bench")
    parser.add_argument(
        "--skip-fixed", action="store_true", help="do not measure the fixed cost on 1,000 events"
    )
    parser.add_argument(
        "--whatif-only",
        action="store_true",
        help="reuse the warehouses an earlier run of this script built and time the what-ifs only",
    )
    args = parser.parse_args()

    sizes = [(args.events, args.customers, "whatif")]
    if not args.skip_fixed:
        sizes.append((1_000, 50, "whatif-fixed"))
    results = {}
    for events, customers, name in sizes:
        workdir = args.workdir / f"{name}-{events}-{customers}"
        if args.whatif_only:
            pricing = _pricing_with_scenarios(workdir)
            whatif, phases = _whatif(workdir, pricing)
            print(
                f"{events:>11,} events, {customers:,} customers: five what-ifs {whatif:6.1f} s; phases (s): {phases}"
            )
            continue
        landing = _prepare(workdir, events, customers)
        full = _pipeline(workdir, landing)
        pricing = _pricing_with_scenarios(workdir)
        whatif, phases = _whatif(workdir, pricing)
        results[name] = (full, whatif)
        print(
            f"{events:>11,} events, {customers:,} customers: full pipeline {full:6.1f} s; five what-ifs over the whole "
            f"history {whatif:6.1f} s = {whatif / full:.0%} of it (target at most 20%); phases (s): {phases} "
            "(then invoice and customer rows compared)",
            flush=True,
        )
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024
    print(f"peak memory of the largest child process: {peak_gb:.2f} GB")
    if "whatif-fixed" in results:
        (full, whatif), (fixed_full, fixed_whatif) = results["whatif"], results["whatif-fixed"]
        print(
            f"fixed cost (1,000 events): pipeline {fixed_full:.1f} s, what-if {fixed_whatif:.1f} s; beyond it: "
            f"pipeline {full - fixed_full:.1f} s, what-if {whatif - fixed_whatif:.1f} s = "
            f"{(whatif - fixed_whatif) / max(full - fixed_full, 0.001):.0%} of the pipeline's data work"
        )


if __name__ == "__main__":
    main()

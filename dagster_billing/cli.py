"""`billing`: generate sample data, run the pipeline, or both (`billing demo`)."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import IO

import psutil

from dagster_billing.settings import REPO_ROOT, BillingPaths, billing_paths

# Exit codes of `billing run` / `billing demo` (README, "The CLI"; DECISIONLOG, "Stripe").
EXIT_OK = 0
EXIT_RUN_FAILED = 1  # a step or a blocking check failed: the warehouse may be partly built
EXIT_USAGE = 2  # a wrong option (argparse's own code)
EXIT_STRIPE_ERRORS = (
    3  # every step ran, but some invoices ended in `error` in Stripe (the next run retries them)
)
EXIT_WAREHOUSE_IN_USE = 4  # another process holds the warehouse; nothing was done, try again later

DEMO_DIR = REPO_ROOT / "data" / "demo"
DEMO_AS_OF = "2026-10-01"
# The demo's second run: the next day, after a late partner batch landed for windows already invoiced.
DEMO_NEXT_DAY = "2026-10-02"
# The demo's Stripe go-live: the last month's invoices are finalized in the emulator, the older history is not.
DEMO_STRIPE_FINALIZE_FROM = "2026-09-01"


def _paths(args: argparse.Namespace) -> BillingPaths:
    defaults = billing_paths()
    return BillingPaths(
        landing_dir=Path(args.landing or defaults.landing_dir).resolve(),
        warehouse_path=Path(args.warehouse or defaults.warehouse_path).resolve(),
        pricing_dir=Path(args.pricing or defaults.pricing_dir).resolve(),
    )


def _generate(landing_dir: Path, customers: int, events: int, seed: int, end: date, tax: bool) -> None:
    from dagster_billing.generator import generate_landing

    landing = generate_landing(
        landing_dir, customers=customers, events=events, seed=seed, end=end, overwrite=True, tax=tax
    )
    print(
        f"Generated {landing_dir}: {landing.customers} customers, {landing.subscriptions} subscriptions, "
        f"{landing.rows_written} usage rows in {len(landing.usage_files)} files; {landing.plan_changes} plan "
        f"changes ({landing.cadence_changes} to or from a yearly plan), {landing.prorated_stubs} prorated stubs, "
        f"{landing.trials_as_own_period} trials as their own period"
    )


def _run(paths: BillingPaths, as_of: str, *, full_refresh: bool = False) -> int:
    """Expected failures (the warehouse in use, a failed step, Stripe errors, a stop signal) end in one line on
    stderr and an exit code (see EXIT_*), never a traceback; the full story is in the log file."""
    from dagster_billing.pipeline_run import RunInterrupted, WarehouseInUse, stop_children_on_signal

    log_path = paths.warehouse_path.parent / "logs" / f"run-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.log"
    try:
        with stop_children_on_signal():
            return _run_and_report(paths, as_of, log_path, full_refresh=full_refresh)
    except WarehouseInUse as busy:
        print(f"billing run: {busy}", file=sys.stderr)
        return EXIT_WAREHOUSE_IN_USE
    except RunInterrupted as stop:
        print(f"billing run: {stop}; the full log: {log_path}", file=sys.stderr)
        return stop.exit_code


def _run_and_report(paths: BillingPaths, as_of: str, log_path: Path, *, full_refresh: bool = False) -> int:
    from dagster_billing.pipeline_run import check_warehouse_free, run_pipeline, warehouse_lock_errors
    from dagster_billing.run_summary import receivables_summary, run_summary
    from dagster_billing.stripe_sync.run_summary import read_stripe_report, stripe_summary

    check_warehouse_free(paths.warehouse_path)  # before anything starts: a clear line instead of failed steps
    log_path.parent.mkdir(parents=True, exist_ok=True)
    mode = "full refresh" if full_refresh else "new files only"
    print(f"Running every asset as of {as_of}, {mode} (dbt and Dagster output: {log_path}) ...", flush=True)
    # dagster-dbt echoes every dbt log line to stdout, Dagster logs step failures with their stack trace to stderr:
    # both go to the log file so the summary stays readable.
    with log_path.open("w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        result = run_pipeline(paths, as_of, full_refresh=full_refresh)
    with warehouse_lock_errors(paths.warehouse_path):
        print(run_summary(paths, result.run_id))
        report = read_stripe_report(paths.warehouse_path, since=result.started_at)
        print(stripe_summary(paths.warehouse_path, report))
        print(receivables_summary(paths))
    if not result.success:
        print(f"billing run: the run did not complete; the full log: {log_path}", file=sys.stderr)
        for failure in result.failures:
            print(f"  {failure}", file=sys.stderr)
        return EXIT_RUN_FAILED
    if report.error_count:
        print(
            f"billing run: the run completed, but {report.error_count} invoices ended in error in Stripe (listed "
            "above); run `billing run` again to take them up, or see the log: " + str(log_path),
            file=sys.stderr,
        )
        return EXIT_STRIPE_ERRORS
    print("Run succeeded.")
    print(
        f"Query it: .venv/bin/duckdb -readonly {paths.warehouse_path}   (tables: raw.*, staging.*, intermediate.*, marts.*, billing.* (the ledger), stripe.*)"
    )
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    _generate(
        _paths(args).landing_dir,
        args.customers,
        args.events,
        args.seed,
        date.fromisoformat(args.end),
        args.tax,
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return _run(_paths(args), args.as_of, full_refresh=args.full_refresh)


def cmd_explain(args: argparse.Namespace) -> int:
    import duckdb

    from dagster_billing.ledger.explain import InvoiceNotFound, explain_invoice

    warehouse = Path(args.warehouse or billing_paths().warehouse_path).resolve()
    if not warehouse.exists():
        print(f"billing explain: no warehouse at {warehouse}; run `billing run` first", file=sys.stderr)
        return EXIT_RUN_FAILED
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException:
        print(
            f"billing explain: the warehouse {warehouse} is in use by a run; try again when it ends",
            file=sys.stderr,
        )
        return EXIT_WAREHOUSE_IN_USE
    try:
        print(explain_invoice(con, args.invoice_id))
    except InvoiceNotFound as missing:
        print(f"billing explain: {missing}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except duckdb.CatalogException:
        print(
            f"billing explain: {warehouse} has no invoice marts yet; run `billing run` first", file=sys.stderr
        )
        return EXIT_RUN_FAILED
    finally:
        con.close()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """A fresh demo folder every time, so the demo always starts from the same state."""
    demo_dir = Path(args.dir).resolve()
    shutil.rmtree(demo_dir, ignore_errors=True)
    paths = BillingPaths(demo_dir / "landing", demo_dir / "warehouse.duckdb", billing_paths().pricing_dir)
    # the demo bills tax: its customers' locations (customer_tax.csv) meet pricing_configs/tax/
    _generate(paths.landing_dir, args.customers, args.events, args.seed, date.fromisoformat(DEMO_AS_OF), True)
    from dagster_billing.local_stripe.demo import demo_stripe

    with demo_stripe(
        demo_dir / "localstripe", DEMO_STRIPE_FINALIZE_FROM
    ):  # invoices are finalized in a local Stripe emulator
        first = _run(paths, DEMO_AS_OF)
        if first != EXIT_OK:
            return first
        late = _land_late_batch(paths)
        print(f"\nThe next day: a late partner batch landed ({late}); running as of {DEMO_NEXT_DAY} ...\n")
        return _run(paths, DEMO_NEXT_DAY)


def _land_late_batch(paths: BillingPaths) -> str:
    from dagster_billing.generator.late_events import write_late_batch

    written = write_late_batch(
        paths.warehouse_path,
        paths.landing_dir,
        since=DEMO_STRIPE_FINALIZE_FROM,
        next_issue_by=datetime.fromisoformat(DEMO_AS_OF),
    )
    return str(written.relative_to(paths.landing_dir)) if written else "no customer to send it for"


def _add_path_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--landing", help="landing folder (default: $BILLING_LANDING_DIR or ./data/landing)")
    parser.add_argument(
        "--warehouse", help="DuckDB file (default: $BILLING_WAREHOUSE_PATH or ./data/warehouse.duckdb)"
    )
    parser.add_argument(
        "--pricing", help="pricing config folder (default: $BILLING_PRICING_DIR or ./pricing_configs)"
    )


def cmd_whatif(args: argparse.Namespace) -> int:
    from dagster_billing.pricing import PricingConfigError, load_pricing_configs
    from dagster_billing.whatif import DbtFailed, ScenarioError, WarehouseNotReady, compare_scenarios
    from dagster_billing.whatif.report import write_report
    from dagster_billing.whatif.summary import comparison_table, summarize

    paths = _paths(args)
    try:
        comparison = compare_scenarios(
            args.scenarios, args.date_from, args.date_to, paths=paths, flag_percent=args.flag_percent
        )
    except (ScenarioError, PricingConfigError, WarehouseNotReady, DbtFailed) as error:
        problems = getattr(error, "problems", [])
        print(f"billing whatif: {problems[0] if len(problems) == 1 else error}", file=sys.stderr)
        return EXIT_RUN_FAILED
    actual_configs = load_pricing_configs(paths.pricing_dir)
    summaries = summarize(comparison, actual_configs)
    print(
        f"What-if over billing dates {comparison.range.date_from} to {comparison.range.date_to} (exclusive), "
        "issued invoices only:"
    )
    print(comparison_table(summaries))
    for summary in summaries:
        for warning in summary.warnings:
            print(f"warning: {summary.name}: {warning}")
    report = Path(args.report) if args.report else comparison.database_path.with_name("whatif_report.html")
    write_report(comparison, actual_configs, report)
    print(f"Report: {report}")
    print(
        f"Tables: whatif.whatif_invoices_compared, _customers_compared, _months_compared in {comparison.database_path}"
    )
    return EXIT_OK


def date_argument(text: str) -> date:
    """A YYYY-MM-DD date; anything else is a usage error (exit 2)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def as_of_argument(text: str) -> str:
    """`--as-of` as a UTC date or date and time; anything else is a usage error (exit 2), not a traceback."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS' (UTC), got {text!r}"
        ) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a synthetic landing folder")
    _add_path_options(generate)
    generate.add_argument("--customers", type=int, default=200)
    generate.add_argument("--events", type=int, default=20_000)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--end", default=DEMO_AS_OF, help="last day of generated usage (YYYY-MM-DD)")
    generate.add_argument(
        "--tax",
        action="store_true",
        help="also write customer_tax.csv (tax locations: several jurisdictions)",
    )
    generate.set_defaults(handler=cmd_generate)

    run = commands.add_parser("run", help="materialize every asset through Dagster and print a summary")
    _add_path_options(run)
    run.add_argument(
        "--as-of", required=True, type=as_of_argument, help="bill up to this UTC date (YYYY-MM-DD)"
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the usage aggregates from every event instead of folding in only new files (same "
        "invoices; the ledger of issued invoices is kept as it is)",
    )
    run.set_defaults(handler=cmd_run)

    explain = commands.add_parser(
        "explain", help="print an invoice, each line, the events behind it and what an adjustment corrects"
    )
    explain.add_argument("invoice_id", help="the invoice (inv_...), as in marts.fct_invoices")
    explain.add_argument(
        "--warehouse", help="DuckDB file (default: $BILLING_WAREHOUSE_PATH or ./data/warehouse.duckdb)"
    )
    explain.set_defaults(handler=cmd_explain)

    whatif = commands.add_parser(
        "whatif",
        help="re-price issued invoices under candidate price lists (pricing_configs/scenarios/) and compare",
    )
    _add_path_options(whatif)
    whatif.add_argument(
        "scenarios", nargs="+", metavar="SCENARIO", help="a file name of <pricing>/scenarios/ or a path"
    )
    whatif.add_argument(
        "--from",
        dest="date_from",
        type=date_argument,
        help="first billing date (default: 12 months before --to)",
    )
    whatif.add_argument(
        "--to",
        dest="date_to",
        type=date_argument,
        help="billing dates before this (default: the first of the month of the day after the last issued invoice)",
    )
    whatif.add_argument(
        "--flag-percent",
        type=Decimal,
        default=Decimal(10),
        help="flag customers whose change exceeds this percent (default 10)",
    )
    whatif.add_argument(
        "--report", help="the HTML report's path (default: whatif_report.html beside the warehouse)"
    )
    whatif.set_defaults(handler=cmd_whatif)

    demo = commands.add_parser(
        "demo",
        help=f"generate sample data in {DEMO_DIR}, run everything as of {DEMO_AS_OF}, land a late batch and run "
        "the next day",
    )
    demo.add_argument("--customers", type=int, default=200)
    demo.add_argument("--events", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--dir", default=str(DEMO_DIR), help=f"the demo folder, emptied first (default: {DEMO_DIR})"
    )
    demo.set_defaults(handler=cmd_demo)
    return parser


WORKER_ENV = "BILLING_CLI_WORKER"  # set in the child that does the work, so it does not supervise again
SUPERVISED = ("run", "demo")  # the commands that start dbt (and, for demo, the Stripe emulator)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the worker, before exec: Linux sends it SIGTERM when the supervisor dies, even by SIGKILL; Dagster turns
    that SIGTERM into an interrupt, and dagster-dbt forwards it to `dbt build`. Elsewhere, a no-op."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return


def _stop_all(processes: list[psutil.Process], grace_seconds: float) -> None:
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=grace_seconds)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def _copy(source: IO[bytes], target: IO[bytes], forwarding: threading.Event) -> None:
    """The worker's output, line by line, until a stop: what it says while it winds down is not shown."""
    for line in iter(source.readline, b""):
        if forwarding.is_set():
            target.write(line)
            target.flush()


def _supervise(argv: list[str], grace_seconds: float = 20.0) -> int:
    """`billing run` / `billing demo` do their work in a child process and watch it. On SIGTERM, SIGINT or SIGHUP
    the worker gets SIGTERM, which Dagster turns into an interrupt that dagster-dbt passes to `dbt build`; whatever
    is still running after `grace_seconds` is killed, and one line says so. (Dagster owns the signal handlers
    inside a run, so the process running it cannot be relied on to stop its dbt child itself.) A SIGKILL of this
    process, which nothing can catch, reaches the worker as SIGTERM through PDEATHSIG."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "dagster_billing.cli", *argv],
        env={**os.environ, WORKER_ENV: "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_die_with_parent,
    )
    forwarding = threading.Event()
    forwarding.set()
    copies = [
        threading.Thread(target=_copy, args=(worker.stdout, sys.stdout.buffer, forwarding), daemon=True),
        threading.Thread(target=_copy, args=(worker.stderr, sys.stderr.buffer, forwarding), daemon=True),
    ]
    for copy in copies:
        copy.start()
    received: list[int] = []
    started: list[psutil.Process] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if received:
            return
        received.append(signum)
        forwarding.clear()
        with contextlib.suppress(psutil.NoSuchProcess):
            started.extend(psutil.Process(worker.pid).children(recursive=True))
        worker.terminate()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    deadline = None
    while worker.poll() is None:
        if received and deadline is None:
            deadline = time.monotonic() + grace_seconds
        if deadline is not None and time.monotonic() > deadline:
            worker.kill()
        time.sleep(0.1)
    if not received:
        for copy in copies:
            copy.join(timeout=5)  # a grandchild left holding the pipe must not hang us
        return worker.returncode
    _stop_all(
        started, grace_seconds=5.0
    )  # dbt normally stopped with the worker; anything left is stopped here
    name = signal.Signals(received[0]).name
    print(
        f"billing {argv[0]}: stopped by {name}, with the {len(started)} processes it had started (dbt); "
        "what was written before stays, and the next run carries on from it",
        file=sys.stderr,
        flush=True,
    )
    return 128 + received[0]


def main(argv: list[str] | None = None) -> int:
    """As the `billing` command (argv None), `run` and `demo` are supervised (`_supervise`); a call with an argv
    list (tests) runs in this process."""
    command_line = sys.argv[1:] if argv is None else argv
    if argv is None and not os.environ.get(WORKER_ENV) and command_line[:1] and command_line[0] in SUPERVISED:
        return _supervise(command_line)
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())

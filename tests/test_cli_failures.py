"""`billing run` as an operator meets it when something expected goes wrong: a non-zero exit, one clear line on
stderr saying what happened and what to do, no traceback, no process left behind.

Each test runs the installed CLI as a subprocess on one small generated landing folder (shared by the session);
Stripe is left unconfigured, so only the warehouse side runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import psutil
import pytest

from dagster_billing.generator import generate_landing
from dagster_billing.warehouse_file import ensure_warehouse_file

BILLING = Path(sys.executable).parent / "billing"
AS_OF = "2026-10-01"


@pytest.fixture(scope="session")
def cli_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("cli") / "landing"
    generate_landing(landing, customers=20, events=1_500, seed=3, end=date.fromisoformat(AS_OF))
    return landing


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "BILLING_", "DAGSTER_HOME"))}


def _command(landing: Path, warehouse: Path) -> list[str]:
    return [str(BILLING), "run", "--as-of", AS_OF, "--landing", str(landing), "--warehouse", str(warehouse)]


def _billing_run(landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(landing, warehouse), capture_output=True, text=True, env=_env(), timeout=600
    )


def _assert_no_traceback(done: subprocess.CompletedProcess | tuple[str, str]) -> None:
    out, err = (done.stdout, done.stderr) if isinstance(done, subprocess.CompletedProcess) else done
    assert "Traceback" not in out + err, err


def test_warehouse_held_by_another_process_is_one_line_and_exit_4(cli_landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(300)"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == "open"
        done = _billing_run(cli_landing, warehouse)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 4, done.stderr
    _assert_no_traceback(done)
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(
        f"billing run: the warehouse {warehouse} is in use by another process (pid {holder.pid}, "
    )
    assert line.endswith("; wait for it to finish or stop it, then run again")
    assert done.stdout == ""  # nothing was started


def test_failed_dbt_node_on_a_fresh_warehouse_names_it_without_a_traceback(cli_landing, tmp_path):
    """A fresh warehouse where someone created the fx seed's table by hand: `dbt seed` cannot load it."""
    warehouse = tmp_path / "warehouse.duckdb"
    ensure_warehouse_file(warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute("create schema reference")
    con.execute("create table reference.fx_rates (edited_by_hand varchar)")
    con.close()
    done = _billing_run(cli_landing, warehouse)
    assert done.returncode == 1, done.stderr
    _assert_no_traceback(done)
    headline, *failures = done.stderr.strip().splitlines()
    assert headline.startswith("billing run: the run did not complete") and "the full log: " in headline
    assert len(failures) == 1, failures  # one line per failed step
    assert failures[0].startswith("  billing_dbt_models: dbt seed fx_rates (seeds/fx_rates.csv) failed: ")
    assert "\x1b[" not in done.stderr  # no terminal colour codes
    assert "Run succeeded" not in done.stdout and "Billing windows:" in done.stdout  # what was built is shown


def _dbt_build(cli: psutil.Process) -> psutil.Process | None:
    for child in cli.children(recursive=True):
        try:
            command = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "build" in command and any(Path(part).name == "dbt" for part in command):
            return child
    return None


def _start_until_dbt_builds(landing: Path, warehouse: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """`billing run` started and watched until its `dbt build` runs; returns it and every process under it."""
    run = subprocess.Popen(
        _command(landing, warehouse), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    cli, deadline = psutil.Process(run.pid), time.monotonic() + 300
    while _dbt_build(cli) is None:
        if run.poll() is not None or time.monotonic() > deadline:
            run.kill()
            raise AssertionError(f"dbt build never started: {run.communicate()}")
        time.sleep(0.2)
    time.sleep(2)  # dbt is well into its build
    return run, cli.children(recursive=True)


def test_sigterm_stops_the_run_and_its_dbt_build(cli_landing, tmp_path):
    run, descendants = _start_until_dbt_builds(cli_landing, tmp_path / "warehouse.duckdb")
    try:
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 128 + signal.SIGTERM, err
    _assert_no_traceback((out, err))
    assert len(err.strip().splitlines()) == 1 and err.startswith("billing run: stopped by SIGTERM"), err
    _, alive = psutil.wait_procs(descendants, timeout=5)
    assert alive == [], [p.cmdline() for p in alive]


def test_sigkill_of_the_cli_still_stops_its_dbt_build(cli_landing, tmp_path):
    """SIGKILL cannot be caught: the worker under the CLI gets SIGTERM from Linux (PDEATHSIG) and stops dbt."""
    run, descendants = _start_until_dbt_builds(cli_landing, tmp_path / "warehouse.duckdb")
    run.kill()
    run.communicate(timeout=60)
    _, alive = psutil.wait_procs(descendants, timeout=30)
    for process in alive:
        process.kill()
    assert alive == [], "still running after the CLI was killed"


def test_summary_of_a_partly_built_fresh_warehouse_shows_what_there_is(tmp_path):
    """A run that failed half-way on a fresh warehouse: the views it never built read as empty."""
    from dagster_billing.run_summary import run_summary
    from dagster_billing.settings import BillingPaths

    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    con.execute("create schema intermediate")
    con.execute(
        "create table raw.ingested_files (status varchar, rows_read int, rows_accepted int, rows_duplicate int, "
        "rows_quarantined int)"
    )
    con.execute("create table intermediate.int_billing_windows (is_closed boolean, customer_id varchar)")
    con.execute("insert into intermediate.int_billing_windows values (true, 'cus_1')")
    con.close()
    summary = run_summary(BillingPaths(tmp_path / "landing", warehouse, tmp_path / "pricing"))
    assert "Billing windows: 1 closed, 0 open, for 1 customers" in summary

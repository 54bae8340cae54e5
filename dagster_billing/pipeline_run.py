"""Materialize every asset once, in-process, for a given `as_of`: what `billing run` and the tests call."""

from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType

import dagster as dg
import duckdb
import psutil

from dagster_billing.defs.orchestration.schedules import as_of_ops_config, billing_pipeline_job
from dagster_billing.defs.usage.partitions import arrival_day_for_as_of
from dagster_billing.settings import BillingPaths
from dagster_billing.warehouse_file import ensure_warehouse_file


@dataclass(frozen=True)
class PipelineRun:
    success: bool
    failures: list[str]
    run_id: str | None = None  # the Dagster run: the ledger records it on every invoice it issued
    started_at: datetime | None = None  # UTC, naive as the warehouse stores it: Stripe rows attempted since


@contextmanager
def _instance() -> Iterator[dg.DagsterInstance]:
    """With DAGSTER_HOME set, runs are recorded where `dagster dev` shows them; otherwise they are ephemeral, in a
    temporary folder removed with the instance (every run used to leave one behind)."""
    if os.environ.get("DAGSTER_HOME"):
        with dg.DagsterInstance.get() as instance:
            yield instance
        return
    with tempfile.TemporaryDirectory(prefix="billing-dagster-") as tempdir:
        with dg.DagsterInstance.ephemeral(tempdir=tempdir) as instance:
            yield instance


_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
_DBT_NODE_FAILURE = re.compile(r"^\s*Failure in (\w+) (\S+) \(([^)]*)\)")
_DBT_ERROR_HEADER = re.compile(r"^\s*\w+ Error in ")


def short_failure(message: str) -> str:
    """One line per failed step. dagster-dbt's error holds the whole dbt output: keep, for each failed dbt node,
    its kind, name and file and the first line of dbt's reason; anything else keeps its first line."""
    lines = [line.strip() for line in _ANSI_COLOUR.sub("", message).splitlines()]
    nodes = []
    for number, line in enumerate(lines):
        failed = _DBT_NODE_FAILURE.match(line)
        if failed:
            kind, name, path = failed.groups()
            reason = next(
                (text for text in lines[number + 1 :] if text and not _DBT_ERROR_HEADER.match(text)), "failed"
            )
            nodes.append(f"dbt {kind} {name} ({path}) failed: {reason}")
    if nodes:
        return "; ".join(nodes)
    return next((line for line in lines if line), "failed")[:500]


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    failures = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error  # type: ignore[union-attr]
            failures.append(f"{event.step_key}: {short_failure(error.message) if error else 'failed'}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data  # type: ignore[assignment]
            if not evaluation.passed:
                failures.append(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed"
                )
    return failures


def run_pipeline(
    paths: BillingPaths,
    as_of: str,
    *,
    future_tolerance_minutes: int | None = None,
    full_refresh: bool = False,
) -> PipelineRun:
    """Everything from the landing folder to the marts, with the embedded defaults of `paths`. A daily run folds
    only new files into the incremental usage models; `full_refresh` rebuilds them from every event."""
    paths.export_env()
    ensure_warehouse_file(paths.warehouse_path)
    from dagster_billing.definitions import defs  # after export_env: resources read the paths when built

    definitions = defs()
    job = definitions.resolve_job_def(billing_pipeline_job.name)  # every asset but the on-demand what-ifs
    ops: dict = as_of_ops_config(as_of, full_refresh=full_refresh)
    if future_tolerance_minutes is not None:
        ops["raw__usage_events"] = {"config": {"future_tolerance_minutes": future_tolerance_minutes}}
    # The CLI prints its own summary; Dagster's console shows only warnings and errors (the UI keeps everything).
    run_config = {"ops": ops, "loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    with _instance() as instance:
        result = job.execute_in_process(
            run_config=run_config,
            instance=instance,
            raise_on_error=False,
            partition_key=arrival_day_for_as_of(as_of, today=started_at.date()),
        )
    return PipelineRun(result.success, _failures(result), result.run_id, started_at)


class WarehouseInUse(Exception):
    """Another process holds the DuckDB file (DuckDB allows one writing process per file)."""


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def _in_use(path: Path, error: duckdb.Error) -> WarehouseInUse | None:
    holder = _LOCK_HOLDER.search(str(error))
    if "lock" not in str(error).lower():
        return None
    who = f" (pid {holder['pid']}, {holder['program']})" if holder else ""
    return WarehouseInUse(
        f"the warehouse {path} is in use by another process{who}; wait for it to finish or stop it, then run again"
    )


def check_warehouse_free(path: Path) -> None:
    """Opened for writing and closed at once: fails fast, before any step, when another process holds the file."""
    if not path.exists():
        return
    try:
        duckdb.connect(str(path)).close()
    except duckdb.IOException as error:
        busy = _in_use(path, error)
        if busy:
            raise busy from None
        raise


@contextmanager
def warehouse_lock_errors(path: Path) -> Iterator[None]:
    """A lock taken by another process while we read the summary is the same clear message."""
    try:
        yield
    except duckdb.IOException as error:
        busy = _in_use(path, error)
        if busy:
            raise busy from None
        raise


class RunInterrupted(BaseException):
    """A stop signal: a BaseException, like KeyboardInterrupt, so no step's `except Exception` swallows it."""

    def __init__(self, signum: int, stopped: int) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name}; {stopped} child processes (dbt) stopped with it")
        self.exit_code = 128 + signum  # the shell's convention: 143 for SIGTERM, 130 for SIGINT


def stop_children(grace_seconds: float = 5.0) -> int:
    """SIGTERM to every process this one started (dbt and whatever dbt started), SIGKILL to those still there."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace_seconds)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    return len(children)


@contextmanager
def stop_children_on_signal(
    signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT), exit_after_seconds: float = 30.0
) -> Iterator[None]:
    """On SIGTERM or SIGINT: stop the children first (the `dbt build` dagster-dbt started would otherwise outlive
    us and keep the warehouse locked), then raise RunInterrupted in the main thread so the run unwinds. Should the
    main thread be stuck in a long native call, the process exits on its own after `exit_after_seconds`."""

    def handle(signum: int, frame: FrameType | None) -> None:
        stopped = stop_children()
        code = 128 + signum
        deadline = threading.Timer(exit_after_seconds, os._exit, (code,))
        deadline.daemon = True  # never keeps a process that unwound in time alive
        deadline.start()
        raise RunInterrupted(signum, stopped)

    previous = {signum: signal.signal(signum, handle) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

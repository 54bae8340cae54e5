"""Materialize every asset once, in-process, for a given `as_of`: what `billing run` and the tests call."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import dagster as dg

from dagster_billing.defs.orchestration.schedules import as_of_ops_config
from dagster_billing.settings import BillingPaths
from dagster_billing.warehouse_file import ensure_warehouse_file


@dataclass(frozen=True)
class PipelineRun:
    success: bool
    failures: list[str]


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set, runs are recorded where `dagster dev` shows them; otherwise they are ephemeral.
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral(tempdir=tempfile.mkdtemp(prefix="billing-dagster-"))


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    failures = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error  # type: ignore[union-attr]
            failures.append(f"{event.step_key}: {error.message.strip() if error else 'failed'}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data  # type: ignore[assignment]
            if not evaluation.passed:
                failures.append(
                    f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed"
                )
    return failures


def run_pipeline(
    paths: BillingPaths, as_of: str, *, future_tolerance_minutes: int | None = None
) -> PipelineRun:
    """Everything from the landing folder to the marts, with the embedded defaults of `paths`."""
    paths.export_env()
    ensure_warehouse_file(paths.warehouse_path)
    from dagster_billing.definitions import defs  # after export_env: resources read the paths when built

    definitions = defs()
    job = definitions.resolve_implicit_global_asset_job_def()
    ops: dict = as_of_ops_config(as_of)
    if future_tolerance_minutes is not None:
        ops["raw__usage_events"] = {"config": {"future_tolerance_minutes": future_tolerance_minutes}}
    # The CLI prints its own summary; Dagster's console shows only warnings and errors (the UI keeps everything).
    run_config = {"ops": ops, "loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with _instance() as instance:
        result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
    return PipelineRun(success=result.success, failures=_failures(result))

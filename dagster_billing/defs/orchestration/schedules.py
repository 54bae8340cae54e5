"""The nightly billing run: every asset, billed up to midnight UTC of the night it runs."""

from datetime import date, datetime, timezone

import dagster as dg

from dagster_billing.defs.usage.partitions import arrival_day_for_as_of

billing_pipeline_job = dg.define_asset_job(
    "billing_pipeline_job",
    # every asset but the what-ifs, which analysts launch on demand (dagster_billing/defs/whatif)
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("whatif"),
    description="Ingest the landing folder (the arrival-day partition), fold the new files into the incremental "
    "usage models, price, issue due invoices and finalize them in Stripe. One run per day; a range of days (a "
    "backfill) is one run.",
)


def billing_as_of(scheduled_execution_time: datetime) -> str:
    """The UTC date a tick bills up to (exclusive). A tick at 02:00 on the 2nd bills through the end of the
    1st, so a window that closed at midnight is invoiced the same night, with two hours for late files."""
    return scheduled_execution_time.astimezone(timezone.utc).strftime("%Y-%m-%d")


def as_of_ops_config(as_of: str, *, full_refresh: bool = False) -> dict:
    """The ops config of one billing run: dbt bills and the ledger issues up to `as_of`, and dunning counts days
    overdue up to it too (so a backfilled tick computes the stages as they were that day). `billing run` uses
    the same. `full_refresh` rebuilds dbt's incremental usage models from every event (never the ledger)."""
    dbt_config = {"as_of": as_of, "full_refresh": full_refresh}
    return {
        "billing_dbt_models": {"config": dbt_config},
        "billing_dbt_marts": {"config": dbt_config},
        "issued_invoices": {"config": {"as_of": as_of}},
        "stripe__collections": {"config": {"as_of": as_of}},
    }


def billing_run_request(as_of: str) -> dg.RunRequest:
    """The run of the arrival day that ended at `as_of` (a midnight). run_key = the date: a tick retried after a
    daemon restart never bills the same day twice."""
    return dg.RunRequest(
        run_key=as_of,
        partition_key=arrival_day_for_as_of(as_of, today=date.fromisoformat(as_of)),
        run_config={"ops": as_of_ops_config(as_of)},
        tags={"billing/as_of": as_of},
    )


@dg.schedule(
    cron_schedule="0 2 * * *",
    target=billing_pipeline_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every night at 02:00 UTC, bill up to 00:00 UTC of that day. Off until turned on in the UI.",
)
def daily_billing_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return billing_run_request(billing_as_of(context.scheduled_execution_time))


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[billing_pipeline_job], schedules=[daily_billing_schedule])

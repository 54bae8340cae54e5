"""The nightly schedule and the landing-folder sensor, evaluated with Dagster's test contexts."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from dagster_billing.defs.orchestration.schedules import daily_billing_schedule
from dagster_billing.defs.usage.partitions import arrival_day_for_as_of, arrival_day_partitions, run_as_of
from dagster_billing.defs.usage.sensors import new_usage_files_sensor
from dagster_billing.settings import LANDING_DIR_ENV


def _as_of(request: dg.RunRequest) -> str:
    return request.run_config["ops"]["billing_dbt_models"]["config"]["as_of"]


@pytest.mark.parametrize(
    "scheduled, expected",
    [
        (datetime(2026, 10, 2, 2, 0, tzinfo=timezone.utc), "2026-10-02"),
        (datetime(2027, 1, 1, 2, 0, tzinfo=timezone.utc), "2027-01-01"),
        # The same instant in another zone is still billed by its UTC date.
        (datetime(2026, 10, 1, 22, 0, tzinfo=ZoneInfo("America/New_York")), "2026-10-02"),
    ],
)
def test_schedule_bills_up_to_midnight_of_the_tick_day(scheduled: datetime, expected: str) -> None:
    request = daily_billing_schedule(dg.build_schedule_context(scheduled_execution_time=scheduled))
    assert isinstance(request, dg.RunRequest)
    assert _as_of(request) == expected
    assert request.run_key == expected


def test_schedule_is_daily_at_two_utc_and_off_by_default() -> None:
    assert daily_billing_schedule.cron_schedule == "0 2 * * *"
    assert daily_billing_schedule.execution_timezone == "UTC"
    assert daily_billing_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert daily_billing_schedule.job_name == "billing_pipeline_job"


@pytest.fixture
def usage_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(LANDING_DIR_ENV, str(tmp_path / "landing"))
    return tmp_path / "landing" / "usage"


def _land(usage_dir: Path, relative: str, text: str = "event_id\n1\n") -> Path:
    path = usage_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tick(cursor: str | None) -> dg.SensorResult:
    result = new_usage_files_sensor(dg.build_sensor_context(cursor=cursor))
    assert isinstance(result, dg.SensorResult)
    return result


def test_sensor_skips_when_the_landing_folder_does_not_exist(usage_dir: Path) -> None:
    result = _tick(None)
    assert not result.run_requests
    assert "does not exist" in result.skip_reason.skip_message


def test_sensor_requests_one_run_per_set_of_new_files(usage_dir: Path) -> None:
    usage_dir.mkdir(parents=True)
    empty = _tick(None)
    assert not empty.run_requests and empty.skip_reason

    _land(usage_dir, "2026/10/01/a.csv")
    _land(usage_dir, "2026/10/01/b.jsonl")
    _land(usage_dir, "2026/10/01/.partial.csv")  # hidden: a writer still at work
    _land(usage_dir, "2026/10/01/notes.txt")  # not a usage format
    first = _tick(empty.cursor)
    assert len(first.run_requests) == 1
    assert first.cursor and "a.csv" in first.cursor and ".partial" not in first.cursor

    again = _tick(first.cursor)
    assert not again.run_requests
    assert "No new or changed" in again.skip_reason.skip_message

    _land(usage_dir, "2026/10/02/c.parquet")
    second = _tick(again.cursor)
    assert len(second.run_requests) == 1
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert second.run_requests[0].tags["billing/usage_files"] == "1"


def test_sensor_run_key_is_stable_for_the_same_new_files(usage_dir: Path) -> None:
    _land(usage_dir, "a.csv")
    # A lost or reset cursor sees the same files as new again: the same run_key lets Dagster launch them once.
    assert _tick(None).run_requests[0].run_key == _tick(None).run_requests[0].run_key


def test_sensor_notices_a_rewritten_file(usage_dir: Path) -> None:
    path = _land(usage_dir, "a.csv")
    first = _tick(None)
    path.write_text("event_id\n1\n2\n")
    later = (datetime.now() + timedelta(seconds=5)).timestamp()
    os.utime(path, (later, later))
    # Ingestion refuses the changed file and says so in the run log; the sensor makes that happen promptly.
    assert len(_tick(first.cursor).run_requests) == 1


def test_sensor_treats_an_unreadable_cursor_as_empty(usage_dir: Path) -> None:
    _land(usage_dir, "a.csv")
    assert len(_tick("not json").run_requests) == 1


def test_sensor_skips_but_forgets_deleted_files(usage_dir: Path) -> None:
    path = _land(usage_dir, "a.csv")
    first = _tick(None)
    path.unlink()
    result = _tick(first.cursor)
    assert not result.run_requests
    assert result.cursor == "{}"


def test_sensor_settings() -> None:
    assert new_usage_files_sensor.minimum_interval_seconds == 60
    assert new_usage_files_sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_definitions_load_job_schedule_and_sensor() -> None:
    from dagster_billing.definitions import defs

    definitions = defs()
    job = definitions.resolve_job_def("billing_pipeline_job")
    assert definitions.resolve_schedule_def("daily_billing_schedule").job_name == "billing_pipeline_job"
    assert definitions.resolve_sensor_def("new_usage_files_sensor").job_name == "usage_ingestion_job"

    # The schedule's run config is valid for the real job (the dbt op name and its config field).
    request = daily_billing_schedule(
        dg.build_schedule_context(scheduled_execution_time=datetime(2026, 10, 2, 2, tzinfo=timezone.utc))
    )
    dg.validate_run_config(job, request.run_config)
    # Dunning counts days overdue up to the tick's as_of, like the models bill up to it.
    assert request.run_config["ops"]["stripe__collections"]["config"]["as_of"] == "2026-10-02"

    # every asset but the what-if, which analysts launch on demand
    whatif = dg.AssetKey(["whatif", "scenario_comparison"])
    assert whatif in definitions.resolve_asset_graph().executable_asset_keys
    assert (
        job.asset_layer.executable_asset_keys
        == definitions.resolve_asset_graph().executable_asset_keys - {whatif}
    )
    ingestion = definitions.resolve_job_def("usage_ingestion_job")
    assert {key.to_user_string() for key in ingestion.asset_layer.executable_asset_keys} == {
        "raw/customers",
        "raw/subscriptions",
        "raw/usage_events",
        "raw/ingested_files",
    }
    # The blocking row-conservation check runs with the sensor's ingestion, not only at night.
    checked = {key.asset_key.to_user_string() for key in ingestion.asset_layer.asset_graph.asset_check_keys}
    assert "raw/usage_events" in checked


def test_the_schedule_runs_the_arrival_day_that_just_ended() -> None:
    tick = datetime(2026, 10, 2, 2, 0, tzinfo=timezone.utc)
    request = daily_billing_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-10-01"


@pytest.mark.parametrize(
    "as_of, today, day",
    [
        ("2026-10-02", date(2026, 12, 4), "2026-10-01"),  # a midnight bills the day before it
        ("2026-10-02 13:30:00", date(2026, 12, 4), "2026-10-02"),  # any other instant, its own day
        ("2027-03-01", date(2026, 12, 4), "2026-12-04"),  # never a partition after today
    ],
)
def test_a_run_is_recorded_under_the_arrival_day_its_as_of_ends(as_of: str, today: date, day: str) -> None:
    assert arrival_day_for_as_of(as_of, today) == day
    assert arrival_day_partitions.has_partition_key(day)


def test_a_partition_or_a_backfilled_range_bills_up_to_the_end_of_its_last_day() -> None:
    assert run_as_of("", {"dagster/partition": "2026-10-01"}) == "2026-10-02"
    range_tags = {
        "dagster/asset_partition_range_start": "2026-09-01",
        "dagster/asset_partition_range_end": "2026-09-30",
    }
    assert run_as_of("", range_tags) == "2026-10-01"
    assert run_as_of("2026-09-15", range_tags) == "2026-09-15"  # an explicit as_of wins
    assert run_as_of("", {}) == ""  # no partition: today


def test_ingestion_is_partitioned_by_arrival_day_and_backfills_in_one_run() -> None:
    from dagster_billing.defs.usage.assets import raw_usage_events

    assert raw_usage_events.partitions_def == arrival_day_partitions
    assert raw_usage_events.backfill_policy == dg.BackfillPolicy.single_run()

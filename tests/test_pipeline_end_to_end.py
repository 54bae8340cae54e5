"""The whole pipeline on generated data: what the warehouse holds must match exactly what the generator wrote."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import dagster as dg

from dagster_billing.generator import MALFORMED_KINDS


def test_run_succeeds_with_every_check(pipeline_scenario):
    assert pipeline_scenario.first_run.failures == []
    assert pipeline_scenario.first_run.success


def test_every_landing_file_is_in_the_manifest_with_its_row_count(pipeline_scenario):
    landing = pipeline_scenario.landing
    manifest = dict(
        pipeline_scenario.query("select path, rows_read from raw.ingested_files where status = 'ingested'")
    )
    expected = {
        f.relative_path: f.rows
        for f in landing.usage_files
        if f.relative_path not in landing.unreadable_files
    }
    assert manifest == expected
    unreadable = {
        path
        for (path,) in pipeline_scenario.query(
            "select path from raw.ingested_files where status = 'unreadable'"
        )
    }
    assert unreadable == set(landing.unreadable_files)


def test_conservation_per_file(pipeline_scenario):
    broken = pipeline_scenario.query(
        """select f.path from raw.ingested_files as f
        where f.rows_read <> f.rows_accepted + f.rows_duplicate + f.rows_quarantined
           or f.rows_accepted <> (select count(*) from raw.usage_events as e where e.source_file_id = f.file_id)
           or f.rows_duplicate <> (select count(*) from raw.usage_duplicates as d where d.file_id = f.file_id)
           or f.rows_quarantined <> (select count(*) from raw.usage_quarantine as q
                                     where q.file_id = f.file_id and q.source_row is not null)"""
    )
    assert broken == []


def test_accepted_duplicates_and_conflicts_match_what_was_generated(pipeline_scenario):
    landing = pipeline_scenario.landing
    assert pipeline_scenario.scalar("select count(*) from raw.usage_events") == landing.unique_events
    assert (
        pipeline_scenario.scalar("select count(distinct event_id) from raw.usage_events")
        == landing.unique_events
    )
    assert pipeline_scenario.scalar("select count(*) from raw.usage_duplicates") == landing.retried_duplicates
    conflicts = pipeline_scenario.scalar(
        "select count(*) from raw.usage_quarantine where reason_code = 'duplicate_conflict'"
    )
    assert conflicts == landing.conflicting_duplicates


def test_every_malformed_row_is_quarantined_at_its_line_with_its_own_reason(pipeline_scenario):
    landing = pipeline_scenario.landing
    quarantined = {
        (path, row, code)
        for path, row, code in pipeline_scenario.query(
            "select path, source_row, reason_code from raw.usage_quarantine "
            "where reason_code not in ('duplicate_conflict', 'unreadable_file')"
        )
    }
    expected = {(m.relative_path, m.line, m.kind) for m in landing.malformed}
    assert quarantined == expected
    assert set(Counter(code for *_, code in quarantined)) == set(MALFORMED_KINDS)


def test_quarantine_reasons_are_plain_words_naming_the_value(pipeline_scenario):
    reasons = dict(
        pipeline_scenario.query("select reason_code, any_value(reason) from raw.usage_quarantine group by 1")
    )
    assert (
        reasons["invalid_quantity"].startswith("quantity '")
        and "is not a number" in reasons["invalid_quantity"]
    )
    assert "is not in customers.csv" in reasons["unknown_customer"]
    assert "already received with a different payload" in reasons["duplicate_conflict"]
    assert reasons["unreadable_file"].startswith("the whole file was not ingested")


def test_every_accepted_event_is_billable_or_unbilled_with_a_reason(pipeline_scenario):
    landing = pipeline_scenario.landing
    by_status = dict(
        pipeline_scenario.query(
            "select billing_status, sum(event_count) from intermediate.int_usage_aggregated_to_billing_windows group by 1"
        )
    )
    assert sum(by_status.values()) == landing.unique_events
    assert by_status.get("before_billing_anchor", 0) == landing.events_before_subscription
    assert by_status.get("outside_subscription", 0) == landing.events_after_cancellation
    assert (
        pipeline_scenario.scalar(
            "select count(*) from intermediate.int_usage_events_unbilled where unbilled_reason is null"
        )
        == 0
    )


def test_billable_events_fall_inside_their_window_and_subscription(pipeline_scenario):
    misplaced = pipeline_scenario.scalar(
        """select count(*) from intermediate.int_usage_events_windowed as e
        join staging.stg_subscriptions as s using (subscription_id)
        where e.billing_status = 'billable'
          and not (e.occurred_at >= e.window_start and e.occurred_at < e.window_end
                   and e.occurred_at >= s.started_at and e.occurred_at < coalesce(s.ended_at, 'infinity'::timestamp))"""
    )
    assert misplaced == 0


def test_month_end_anchors_clamp_without_drift(pipeline_scenario):
    # Every monthly anniversary window of a customer anchored on the 31st starts on the 31st or its month's last day
    # (in the cycle that starts at the anchor: a stub, a trial's end or a cadence change starts its own grid).
    rows = pipeline_scenario.query(
        """select w.window_start_date from intermediate.int_billing_windows as w
        join staging.stg_customers as c using (customer_id)
        join intermediate.int_billing_cycles_anchored as k
            on w.customer_id = k.customer_id and w.cycle_index = k.cycle_index
        where day(c.billing_anchor) = 31 and w.interval_unit = 'month' and w.billing_time = 'anniversary'
            and k.cycle_kind = 'anchor'"""
    )
    assert rows, "the generator makes customers anchored on the 31st"
    assert all(d.day == 31 or (d + __import__("datetime").timedelta(days=1)).day == 1 for (d,) in rows)


def test_rerun_ingests_nothing_and_changes_nothing(rerun_scenario):
    scenario, before, second = rerun_scenario
    assert second.success, second.failures
    after = {table: scenario.scalar(f"select count(*) from {table}") for table in before}
    assert after == before


def test_changed_landing_file_fails_the_blocking_check_and_is_not_ingested(rerun_scenario, tmp_path):
    scenario, before, _ = rerun_scenario
    from dagster_billing.defs.usage.assets import raw_customers, raw_usage_events
    from dagster_billing.defs.usage.checks import landing_files_unchanged, usage_rows_conserved_per_file
    from dagster_billing.defs.warehouse.resources import WarehouseResource

    changed = next(f for f in scenario.landing.usage_files if f.file_format == "csv")
    path = scenario.paths.landing_dir / changed.relative_path
    original = path.read_bytes()
    path.write_bytes(original + original.splitlines(keepends=True)[1])  # someone appends a row in place
    try:
        scenario.paths.export_env()
        result = dg.materialize(
            [raw_customers, raw_usage_events, landing_files_unchanged, usage_rows_conserved_per_file],
            resources={"warehouse": WarehouseResource(database=str(scenario.paths.warehouse_path))},
            raise_on_error=False,
            partition_key=datetime.now(timezone.utc).strftime("%Y-%m-%d"),  # ingestion: by arrival day
        )
        evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert evaluations == {"landing_files_unchanged": False, "usage_rows_conserved_per_file": True}
        assert scenario.query("select path from raw.landing_file_changes") == [(changed.relative_path,)]
        assert scenario.scalar("select count(*) from raw.usage_events") == before["raw.usage_events"]
    finally:
        path.write_bytes(original)

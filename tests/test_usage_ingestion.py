"""Usage ingestion on tiny hand-built landing folders: quarantine reasons, dedup, formats, exactly-once."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from landing_builders import CSV_HEADER, INGESTED_AT, csv_event, json_event, new_warehouse


@pytest.fixture
def warehouse(tmp_path):
    warehouse = new_warehouse(tmp_path)
    yield warehouse
    warehouse.con.close()


def only_quarantined(warehouse) -> tuple:
    rows = warehouse.quarantine()
    assert len(rows) == 1, rows
    return rows[0]


# --- one test per quarantine reason (CSV: header on line 1, a good row on 2, a blank line, the bad row on 4)

CSV_ROW_REASONS = [
    ("empty event_id", csv_event(event_id=""), "missing_event_id", "event_id is missing or empty"),
    ("blank event_id", csv_event(event_id="  "), "missing_event_id", "event_id is missing or empty"),
    (
        "empty customer_id",
        csv_event(customer_id=""),
        "missing_customer_id",
        "customer_id is missing or empty",
    ),
    ("blank metric", csv_event(metric=" "), "missing_metric", "metric is missing or empty"),
    (
        "unknown customer",
        csv_event(customer_id="cus_zzz"),
        "unknown_customer",
        "customer_id 'cus_zzz' is not in customers.csv",
    ),
    ("text quantity", csv_event(quantity="abc"), "invalid_quantity", "quantity 'abc' is not a number"),
    ("NaN", csv_event(quantity="NaN"), "non_finite_quantity", "quantity 'NaN' is not a finite number"),
    (
        "Infinity",
        csv_event(quantity="Infinity"),
        "non_finite_quantity",
        "quantity 'Infinity' is not a finite number",
    ),
    ("-inf", csv_event(quantity="-inf"), "non_finite_quantity", "quantity '-inf' is not a finite number"),
    ("negative", csv_event(quantity="-2.5"), "negative_quantity", "quantity -2.5 is negative"),
    (
        "above the maximum",
        csv_event(quantity="99999999999999999999999999"),
        "quantity_above_maximum",
        "quantity 99999999999999999999999999 is above the maximum 1000000000000000",
    ),
    (
        "just above the maximum",
        csv_event(quantity="1000000000000000.000000000001"),
        "quantity_above_maximum",
        "quantity 1000000000000000.000000000001 is above the maximum 1000000000000000",
    ),
    (
        "too large for a decimal",
        csv_event(quantity="1e30"),
        "quantity_above_maximum",
        "quantity 1e30 is above the maximum 1000000000000000",
    ),
    ("no timestamp", csv_event(occurred_at=""), "missing_timestamp", "occurred_at is missing"),
    (
        "month 13",
        csv_event(occurred_at="2025-13-45"),
        "invalid_timestamp",
        "occurred_at '2025-13-45' is not an RFC 3339 timestamp",
    ),
    (
        "yesterday",
        csv_event(occurred_at="yesterday"),
        "invalid_timestamp",
        "occurred_at 'yesterday' is not an RFC 3339 timestamp",
    ),
    (
        "-infinity",
        csv_event(occurred_at="-infinity"),
        "invalid_timestamp",
        "occurred_at '-infinity' is not an RFC 3339 timestamp",
    ),
    (
        "infinity",
        csv_event(occurred_at="infinity"),
        "invalid_timestamp",
        "occurred_at 'infinity' is not an RFC 3339 timestamp",
    ),
    (
        "epoch",
        csv_event(occurred_at="epoch"),
        "invalid_timestamp",
        "occurred_at 'epoch' is not an RFC 3339 timestamp",
    ),
    (
        "future",
        csv_event(occurred_at="2025-06-01T13:00:01Z"),
        "future_timestamp",
        "occurred_at 2025-06-01T13:00:01Z is more than 60 minutes after the ingestion time "
        "2025-06-01T12:00:00Z",
    ),
    (
        "properties array",
        csv_event(properties='"[1,2]"'),
        "invalid_properties",
        "properties is not a JSON object",
    ),
    (
        "properties string",
        csv_event(properties='"""text"""'),
        "invalid_properties",
        "properties is not a JSON object",
    ),
]


@pytest.mark.parametrize(
    ("line", "code", "reason"), [c[1:] for c in CSV_ROW_REASONS], ids=[c[0] for c in CSV_ROW_REASONS]
)
def test_csv_row_is_quarantined_with_its_reason_file_and_line(warehouse, line, code, reason):
    warehouse.write_csv("batch.csv", csv_event(event_id="good"), "", line.replace("e1,", "bad,", 1))
    report = warehouse.ingest()
    assert only_quarantined(warehouse) == ("usage/batch.csv", 4, code, reason)
    assert [e[0] for e in warehouse.events()] == ["good"]
    assert report.quarantined_by_reason == {code: 1}


def test_absent_event_id_in_json_lines_is_missing(warehouse):
    event = json_event()
    del event["event_id"]
    warehouse.write_jsonl("batch.jsonl", json_event("good"), event)
    warehouse.ingest()
    assert only_quarantined(warehouse) == (
        "usage/batch.jsonl",
        2,
        "missing_event_id",
        "event_id is missing or empty",
    )


def test_nan_double_in_parquet_is_not_finite(warehouse):
    warehouse.write_parquet(
        "batch.parquet",
        "select * from (values ('good', 1.5::double), ('bad', 'nan'::double)) as t(event_id, quantity), "
        "(select 'cus_a' as customer_id, 'api_calls' as metric, timestamp '2025-05-01 10:00' as occurred_at)",
    )
    warehouse.ingest()
    assert only_quarantined(warehouse) == (
        "usage/batch.parquet",
        2,
        "non_finite_quantity",
        "quantity 'nan' is not a finite number",
    )


def test_double_quantity_too_large_for_a_decimal_is_above_the_maximum_not_a_failed_ingestion(warehouse):
    warehouse.write_parquet(
        "batch.parquet",
        "select * from (values ('good', 2.0::double), ('huge', 1e30::double), ('minus', -1e30::double)) "
        "as t(event_id, quantity), "
        "(select 'cus_a' as customer_id, 'api_calls' as metric, timestamp '2025-05-01 10:00' as occurred_at)",
    )
    warehouse.ingest()
    assert warehouse.quarantine() == [
        (
            "usage/batch.parquet",
            2,
            "quantity_above_maximum",
            "quantity 1e+30 is above the maximum 1000000000000000",
        ),
        ("usage/batch.parquet", 3, "negative_quantity", "quantity -1e+30 is negative"),
    ]
    assert [e[0] for e in warehouse.events()] == ["good"]


def test_quantity_at_the_maximum_is_accepted_in_every_format(warehouse):
    warehouse.write_csv("a.csv", csv_event("c1", quantity="1000000000000000"))
    warehouse.write_jsonl("b.jsonl", json_event("j1", quantity=10**15), json_event("j2", quantity=10**15 + 1))
    warehouse.write_parquet(
        "c.parquet",
        "select * from (values ('p1', 1e15::double), ('p2', 1000000000000000.2::double)) "
        "as t(event_id, quantity), "
        "(select 'cus_a' as customer_id, 'api_calls' as metric, timestamp '2025-05-01 10:00' as occurred_at)",
    )
    warehouse.ingest()
    assert [(e[0], e[3]) for e in warehouse.events()] == [
        ("c1", Decimal(10**15)),
        ("j1", Decimal(10**15)),
        ("p1", Decimal(10**15)),
    ]
    assert [q[:3] for q in warehouse.quarantine()] == [
        ("usage/b.jsonl", 2, "quantity_above_maximum"),
        ("usage/c.parquet", 2, "quantity_above_maximum"),
    ]


def test_future_tolerance_accepts_just_inside_and_rejects_just_outside(warehouse):
    warehouse.write_csv(
        "batch.csv",
        csv_event(event_id="inside", occurred_at="2025-06-01T12:05:00Z"),
        csv_event(event_id="outside", occurred_at="2025-06-01T12:05:01Z"),
        csv_event(event_id="offset_inside", occurred_at="2025-06-01T14:05:00+02:00"),
    )
    warehouse.ingest(future_tolerance_minutes=5)
    assert [e[0] for e in warehouse.events()] == ["inside", "offset_inside"]
    assert only_quarantined(warehouse) == (
        "usage/batch.csv",
        3,
        "future_timestamp",
        "occurred_at 2025-06-01T12:05:01Z is more than 5 minutes after the ingestion time "
        "2025-06-01T12:00:00Z",
    )


@pytest.mark.parametrize("properties", [[1, 2], "text", 3])
def test_json_properties_that_are_not_an_object_are_invalid(warehouse, properties):
    warehouse.write_jsonl(
        "batch.jsonl", json_event("good", properties={"a": 1}), json_event("bad", properties=properties)
    )
    warehouse.ingest()
    assert only_quarantined(warehouse) == (
        "usage/batch.jsonl",
        2,
        "invalid_properties",
        "properties is not a JSON object",
    )


# --- rows the format cannot parse


def test_csv_lines_with_too_many_or_too_few_fields_are_unparseable_at_their_line(warehouse):
    warehouse.write(
        "batch.csv",
        "\n".join(
            [
                CSV_HEADER,
                csv_event("e1"),
                "",
                csv_event("e2") + ",extra",
                "",
                "",
                "e3,cus_a,api_calls",
                csv_event("e4"),
                "",
                csv_event("e5", quantity="abc"),
            ]
        )
        + "\n",
    )
    report = warehouse.ingest()
    rows = [(path, row, code) for path, row, code, _ in warehouse.quarantine()]
    assert rows == [
        ("usage/batch.csv", 4, "unparseable_row"),
        ("usage/batch.csv", 7, "unparseable_row"),
        ("usage/batch.csv", 10, "invalid_quantity"),
    ]
    reasons = [reason for *_, reason in warehouse.quarantine()]
    assert reasons[0].startswith("line 4 cannot be parsed as CSV")
    assert reasons[1].startswith("line 7 cannot be parsed as CSV")
    assert warehouse.rows("select event_id, source_row from raw.usage_events order by source_row") == [
        ("e1", 2),
        ("e4", 8),
    ]
    assert report.files[0].rows_read == 5
    raw = warehouse.scalar("select raw_record from raw.usage_quarantine where source_row = 7")
    assert raw.strip() == "e3,cus_a,api_calls"


def test_null_json_properties_are_accepted_as_no_properties(warehouse):
    warehouse.write_jsonl("batch.jsonl", json_event("e1", properties=None))
    warehouse.ingest()
    assert warehouse.quarantine() == []
    assert [(e[0], e[5]) for e in warehouse.events()] == [("e1", None)]


def test_json_array_elements_that_are_not_objects_are_unparseable_in_plain_words(warehouse):
    warehouse.write("batch.json", json.dumps([json_event("e1"), 5, "text", None, True]))
    report = warehouse.ingest()
    assert (report.files[0].rows_read, report.files[0].rows_quarantined) == (5, 4)
    assert [q[1:] for q in warehouse.quarantine()] == [
        (2, "unparseable_row", "array element 2 is a JSON number, not an object"),
        (3, "unparseable_row", "array element 3 is a JSON string, not an object"),
        (4, "unparseable_row", "array element 4 is a JSON null, not an object"),
        (5, "unparseable_row", "array element 5 is a JSON boolean, not an object"),
    ]


def test_json_lines_that_are_not_json_objects_are_unparseable_at_their_line(warehouse):
    warehouse.write(
        "batch.jsonl",
        "\n".join(
            [
                json.dumps(json_event("e1")),
                "",
                "{not json",
                json.dumps([json_event("e2")]),
                json.dumps(json_event("e3")),
            ]
        )
        + "\n",
    )
    warehouse.ingest()
    assert [q[:3] for q in warehouse.quarantine()] == [
        ("usage/batch.jsonl", 3, "unparseable_row"),
        ("usage/batch.jsonl", 4, "unparseable_row"),
    ]
    assert [q[3] for q in warehouse.quarantine()] == [
        "line 3 is not valid JSON",
        "line 4 is a JSON array, not an object",
    ]
    assert warehouse.rows("select event_id, source_row from raw.usage_events order by source_row") == [
        ("e1", 1),
        ("e3", 5),
    ]


def test_unreadable_files_are_quarantined_whole_and_the_others_still_ingest(warehouse):
    warehouse.write("a_garbage.parquet", "this is not parquet at all")
    warehouse.write("b_no_metric.csv", "event_id,customer_id,occurred_at\ne1,cus_a,2025-05-01T00:00:00Z\n")
    warehouse.write_csv("c_good.csv", csv_event("good"))
    report = warehouse.ingest()
    quarantined = warehouse.quarantine()
    assert [(path, row, code) for path, row, code, _ in quarantined] == [
        ("usage/a_garbage.parquet", None, "unreadable_file"),
        ("usage/b_no_metric.csv", None, "unreadable_file"),
    ]
    assert quarantined[0][3].startswith(
        "the whole file was not ingested: usage/a_garbage.parquet could not be read"
    )
    assert quarantined[1][3] == (
        "the whole file was not ingested: required column(s) metric missing from usage/b_no_metric.csv"
    )
    assert [(f.path, f.status, f.rows_read) for f in report.files] == [
        ("usage/a_garbage.parquet", "unreadable", 0),
        ("usage/b_no_metric.csv", "unreadable", 0),
        ("usage/c_good.csv", "ingested", 1),
    ]
    assert [e[0] for e in warehouse.events()] == ["good"]
    assert not any(warehouse.segments_dir.glob("file_id=1/*")), "no segment is kept for an unreadable file"


# --- duplicates


def test_conflicting_copy_in_a_later_file_is_quarantined_naming_the_first_copy(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1", quantity="1"))
    warehouse.write_csv("b.csv", csv_event("other"), csv_event("e1", quantity="2"))
    warehouse.ingest()
    assert only_quarantined(warehouse) == (
        "usage/b.csv",
        3,
        "duplicate_conflict",
        "event_id 'e1' was already received with a different payload (first copy: usage/a.csv row 2)",
    )
    assert warehouse.rows("select event_id, quantity from raw.usage_events order by 1") == [
        ("e1", Decimal(1)),
        ("other", Decimal(1)),
    ]


def test_conflicting_copy_in_the_same_file_is_quarantined(warehouse):
    warehouse.write_jsonl(
        "a.jsonl", json_event("e1", quantity=1), json_event("e1", quantity=1, metric="storage")
    )
    warehouse.ingest()
    assert only_quarantined(warehouse) == (
        "usage/a.jsonl",
        2,
        "duplicate_conflict",
        "event_id 'e1' was already received with a different payload (first copy: usage/a.jsonl row 1)",
    )


def test_conflict_with_an_event_of_an_earlier_run(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1", quantity="1"))
    warehouse.ingest()
    warehouse.write_csv("b.csv", csv_event("e1", quantity="3"))
    warehouse.ingest()
    assert only_quarantined(warehouse)[:3] == ("usage/b.csv", 2, "duplicate_conflict")
    assert "(first copy: usage/a.csv row 2)" in only_quarantined(warehouse)[3]


def duplicates(warehouse) -> list[tuple]:
    return warehouse.rows(
        "select d.path, d.source_row, d.event_id, f.path, d.first_source_row from raw.usage_duplicates as d "
        "join raw.ingested_files as f on f.file_id = d.first_file_id order by d.file_id, d.source_row"
    )


def test_exact_duplicates_within_a_file_and_across_files_point_at_the_first_copy(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1"), csv_event("e2"), csv_event("e1"))
    warehouse.write_jsonl(
        "nested/b.jsonl", json_event("e2", quantity=1.0, occurred_at="2025-05-01T10:00:00Z")
    )
    report = warehouse.ingest()
    assert duplicates(warehouse) == [
        ("usage/a.csv", 4, "e1", "usage/a.csv", 2),
        ("usage/nested/b.jsonl", 1, "e2", "usage/a.csv", 3),
    ]
    assert warehouse.quarantine() == []
    assert [e[0] for e in warehouse.events()] == ["e1", "e2"]
    assert [(f.rows_read, f.rows_accepted, f.rows_duplicate) for f in report.files] == [(3, 2, 1), (1, 0, 1)]


def test_same_payload_written_differently_is_an_exact_duplicate(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1", quantity="1", occurred_at="2025-01-01T02:00:00+02:00"))
    warehouse.write_jsonl("b.jsonl", json_event("e1", quantity=1.0, occurred_at="2025-01-01T00:00:00Z"))
    warehouse.write_parquet(
        "c.parquet",
        "select 'e1' as event_id, 'cus_a' as customer_id, 'api_calls' as metric, 1 as quantity, "
        "timestamptz '2025-01-01 00:00:00+00' as occurred_at",
    )
    warehouse.write_jsonl("d.jsonl", json_event("e1", quantity="1", occurred_at="2025-01-01T00:00:00"))
    warehouse.ingest()
    assert [d[0] for d in duplicates(warehouse)] == ["usage/b.jsonl", "usage/c.parquet", "usage/d.jsonl"]
    assert warehouse.quarantine() == []


def test_same_properties_written_with_other_spacing_are_an_exact_duplicate(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1", properties='"{""plan"": ""pro"", ""n"": 2}"'))
    warehouse.write_jsonl(
        "b.jsonl", json_event("e1", occurred_at="2025-05-01T10:00:00Z", properties={"plan": "pro", "n": 2})
    )
    warehouse.write_parquet(
        "c.parquet",
        "select 'e1' as event_id, 'cus_a' as customer_id, 'api_calls' as metric, "
        "timestamp '2025-05-01 10:00' as occurred_at, {'plan': 'pro', 'n': 2} as properties",
    )
    warehouse.ingest()
    assert [d[0] for d in duplicates(warehouse)] == ["usage/b.jsonl", "usage/c.parquet"]
    assert warehouse.quarantine() == []


def test_events_resent_in_a_later_run_are_exact_duplicates(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1"), csv_event("e2"))
    warehouse.ingest()
    warehouse.write_csv("b.csv", csv_event("e2"), csv_event("e3"), csv_event("e1"))
    report = warehouse.ingest()
    assert duplicates(warehouse) == [
        ("usage/b.csv", 2, "e2", "usage/a.csv", 3),
        ("usage/b.csv", 4, "e1", "usage/a.csv", 2),
    ]
    assert [e[0] for e in warehouse.events()] == ["e1", "e2", "e3"]
    assert [(f.path, f.rows_accepted, f.rows_duplicate) for f in report.files] == [("usage/b.csv", 1, 2)]


def test_a_third_copy_points_at_the_first_and_earlier_copies_are_not_decided_again(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1", quantity="1"))
    warehouse.write_csv("b.csv", csv_event("e1", quantity="1"), csv_event("e1", quantity="5"))
    warehouse.ingest()
    warehouse.write_csv("c.csv", csv_event("e1", quantity="1"), csv_event("e1", quantity="7"))
    report = warehouse.ingest()
    assert duplicates(warehouse) == [
        ("usage/b.csv", 2, "e1", "usage/a.csv", 2),
        ("usage/c.csv", 2, "e1", "usage/a.csv", 2),
    ]
    conflicts = warehouse.rows(
        "select path, source_row, reason from raw.usage_quarantine where reason_code = 'duplicate_conflict' "
        "order by file_id, source_row"
    )
    assert [(path, row) for path, row, _ in conflicts] == [("usage/b.csv", 3), ("usage/c.csv", 3)]
    assert all("(first copy: usage/a.csv row 2)" in reason for _, _, reason in conflicts)
    assert [
        (f.path, f.rows_read, f.rows_accepted, f.rows_duplicate, f.rows_quarantined) for f in report.files
    ] == [("usage/c.csv", 2, 0, 1, 1)]
    assert [(e[0], e[3]) for e in warehouse.events()] == [("e1", Decimal("1"))]


def test_rows_read_are_conserved_per_file(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1"), csv_event("e2", quantity="abc"), csv_event("e1"), "x,y")
    warehouse.write_jsonl("b.jsonl", json_event("e1", quantity=5), json_event("e3"), "[]", json_event("e4"))
    warehouse.write("c.json", json.dumps([json_event("e3"), json_event("e5", customer_id="nobody")]))
    warehouse.ingest()
    counts = warehouse.rows(
        """select f.path, f.rows_read, f.rows_accepted, f.rows_duplicate, f.rows_quarantined,
              (select count(*) from raw.usage_events as e where e.source_file_id = f.file_id),
              (select count(*) from raw.usage_duplicates as d where d.file_id = f.file_id),
              (select count(*) from raw.usage_quarantine as q
               where q.file_id = f.file_id and q.source_row is not null)
        from raw.ingested_files as f order by f.file_id"""
    )
    assert counts == [
        ("usage/a.csv", 4, 1, 1, 2, 1, 1, 2),
        ("usage/b.jsonl", 4, 2, 0, 2, 2, 0, 2),
        ("usage/c.json", 2, 0, 1, 1, 0, 1, 1),
    ]


# --- formats


def test_parquet_column_types_are_normalized(warehouse):
    common = "'cus_a' as customer_id, 'api_calls' as metric"
    warehouse.write_parquet(
        "p1.parquet",
        f"select 'p1' as event_id, {common}, 2.5::double as quantity, "
        "timestamp '2025-05-01 10:00' as occurred_at, "
        """'{"region": "eu"}' as properties""",
    )
    warehouse.write_parquet(
        "p2.parquet",
        f"select 'p2' as event_id, {common}, 2.5::decimal(10, 3) as quantity, "
        "timestamptz '2025-05-01 12:00:00+02' as occurred_at, {'region': 'eu'} as properties",
    )
    warehouse.write_parquet(
        "p3.parquet",
        f"select 'p3' as event_id, {common}, '2.5' as quantity, '2025-05-01T06:00:00-04:00' as occurred_at",
    )
    warehouse.write_parquet(
        "deep/er/p4.parquet", f"select 'p4' as event_id, {common}, '2025-05-01 10:00' as occurred_at"
    )
    report = warehouse.ingest()
    assert [f.status for f in report.files] == ["ingested"] * 4
    ten = datetime(2025, 5, 1, 10, 0)
    assert [e[:5] for e in warehouse.events()] == [
        ("p1", "cus_a", "api_calls", Decimal("2.5"), ten),
        ("p2", "cus_a", "api_calls", Decimal("2.5"), ten),
        ("p3", "cus_a", "api_calls", Decimal("2.5"), ten),
        ("p4", "cus_a", "api_calls", Decimal(1), ten),
    ]
    properties = {e[0]: e[5] and json.loads(e[5]) for e in warehouse.events()}
    assert properties == {"p1": {"region": "eu"}, "p2": {"region": "eu"}, "p3": None, "p4": None}
    assert report.files[0].path == "usage/deep/er/p4.parquet", "nested folders are found, in path order"


def test_text_formats_convert_offsets_to_utc_and_read_bare_timestamps_as_utc(warehouse):
    warehouse.write_csv(
        "a.csv",
        csv_event("c1", occurred_at="2025-05-01T12:00:00+02:00", properties='"{""plan"": ""pro""}"'),
        csv_event("c2", occurred_at="2025-05-01 10:00:00", quantity=""),
    )
    warehouse.write_jsonl(
        "b.ndjson",
        json_event("j1", occurred_at="2025-05-01T05:30:00-04:30", properties={"plan": "pro"}),
        json_event("j2", occurred_at="2025-05-01T10:00:00"),
    )
    warehouse.ingest()
    ten = datetime(2025, 5, 1, 10, 0)
    assert [(e[0], e[3], e[4]) for e in warehouse.events()] == [
        ("c1", Decimal(1), ten),
        ("c2", Decimal(1), ten),
        ("j1", Decimal(1), ten),
        ("j2", Decimal(1), ten),
    ]
    assert json.loads(warehouse.events()[0][5]) == {"plan": "pro"}
    assert json.loads(warehouse.events()[2][5]) == {"plan": "pro"}


def cloud_event(event_id: str, **data) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "/api",
        "subject": "cus_b",
        "type": "storage_gb",
        "time": "2025-05-01T12:00:00+02:00",
        "data": data,
    }


def test_cloudevents_lines_and_batches_map_onto_the_contract(warehouse):
    warehouse.write_jsonl("a.jsonl", cloud_event("ce1", quantity=3, region="eu"), cloud_event("ce2"))
    warehouse.write(
        "b.json", json.dumps([cloud_event("ce3", quantity="0.5"), cloud_event("ce4", quantity=-1)])
    )
    report = warehouse.ingest()
    ten = datetime(2025, 5, 1, 10, 0)
    assert [e[:5] for e in warehouse.events()] == [
        ("ce1", "cus_b", "storage_gb", Decimal(3), ten),
        ("ce2", "cus_b", "storage_gb", Decimal(1), ten),
        ("ce3", "cus_b", "storage_gb", Decimal("0.5"), ten),
    ]
    assert json.loads(warehouse.events()[0][5]) == {"region": "eu"}
    assert only_quarantined(warehouse) == ("usage/b.json", 2, "negative_quantity", "quantity -1 is negative")
    assert [f.rows_read for f in report.files] == [2, 2]


def test_single_json_object_file_is_one_event(warehouse):
    warehouse.write("one.json", json.dumps(json_event("solo")))
    warehouse.ingest()
    assert warehouse.rows("select event_id, source_row from raw.usage_events") == [("solo", 1)]


def test_usage_events_do_not_depend_on_the_session_time_zone(warehouse):
    warehouse.write_csv("a.csv", csv_event("c1", occurred_at="2025-05-01T12:00:00+02:00"))
    warehouse.write_jsonl("b.jsonl", json_event("j1", occurred_at="2025-05-01T10:00:00"))
    warehouse.write_parquet(
        "c.parquet",
        "select 'p1' as event_id, 'cus_a' as customer_id, 'm' as metric, "
        "timestamptz '2025-05-01 10:00:00+00' as occurred_at",
    )
    warehouse.write_parquet(
        "d.parquet",
        "select 'p2' as event_id, 'cus_a' as customer_id, 'm' as metric, "
        "timestamp '2025-05-01 10:00:00' as occurred_at",
    )
    warehouse.ingest()
    warehouse.con.execute("set TimeZone = 'America/New_York'")
    ten = datetime(2025, 5, 1, 10, 0)
    assert warehouse.rows("select event_id, occurred_at from raw.usage_events order by 1") == [
        ("c1", ten),
        ("j1", ten),
        ("p1", ten),
        ("p2", ten),
    ]


def test_bare_dates_and_zone_names_do_not_depend_on_the_session_time_zone(warehouse):
    warehouse.write_csv(
        "a.csv",
        csv_event("date_only", occurred_at="2025-05-01"),
        csv_event("zone_name", occurred_at="2025-05-01 12:00:00 Europe/Paris"),
    )
    warehouse.ingest()
    warehouse.con.execute("set TimeZone = 'America/New_York'")
    assert warehouse.rows("select event_id, occurred_at from raw.usage_events order by 1") == [
        ("date_only", datetime(2025, 5, 1, 0, 0)),
        ("zone_name", datetime(2025, 5, 1, 10, 0)),
    ]


def test_ingesting_in_another_session_time_zone_gives_the_same_utc_times(warehouse):
    warehouse.con.execute("set TimeZone = 'Asia/Kolkata'")
    warehouse.write_csv(
        "a.csv",
        csv_event("c1", occurred_at="2025-05-01T12:00:00+02:00"),
        csv_event("c2", occurred_at="2025-06-01T12:30:00Z"),
    )
    warehouse.write_parquet(
        "b.parquet",
        "select 'p1' as event_id, 'cus_a' as customer_id, 'm' as metric, "
        "timestamptz '2025-05-01 10:00:00+00' as occurred_at",
    )
    warehouse.ingest()
    warehouse.con.execute("set TimeZone = 'UTC'")
    assert warehouse.rows("select event_id, occurred_at from raw.usage_events order by 1") == [
        ("c1", datetime(2025, 5, 1, 10, 0)),
        ("c2", datetime(2025, 6, 1, 12, 30)),
        ("p1", datetime(2025, 5, 1, 10, 0)),
    ]


# --- exactly once


def table_counts(warehouse) -> dict[str, int]:
    tables = (
        "raw.ingested_files",
        "raw.usage_events",
        "raw.usage_duplicates",
        "raw.usage_quarantine",
        "raw.usage_event_keys",
    )
    return {table: warehouse.scalar(f"select count(*) from {table}") for table in tables}


def test_rerun_ingests_nothing(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1"), csv_event("e1"), csv_event("e2", quantity="x"))
    warehouse.write("bad.parquet", "garbage")
    warehouse.ingest()
    before = table_counts(warehouse)
    report = warehouse.ingest()
    assert report.files == [] and report.changed_files == [] and report.already_ingested == 2
    assert report.quarantined_by_reason == {}
    assert table_counts(warehouse) == before


def test_a_file_changed_after_ingestion_is_reported_and_not_ingested_again(warehouse):
    path = warehouse.write_csv("a.csv", csv_event("e1"))
    first = warehouse.ingest()
    path.write_text(CSV_HEADER + "\n" + csv_event("e1", quantity="9") + "\n")
    report = warehouse.ingest()
    assert report.files == [] and report.already_ingested == 0
    assert [(c.path, c.current_sha256 != c.ingested_sha256) for c in report.changed_files] == [
        ("usage/a.csv", True)
    ]
    assert warehouse.rows("select path from raw.landing_file_changes") == [("usage/a.csv",)]
    assert warehouse.rows("select event_id, quantity from raw.usage_events") == [("e1", Decimal(1))]
    assert first.files[0].rows_accepted == 1


def test_orphan_segment_folders_are_removed(warehouse):
    warehouse.write_csv("a.csv", csv_event("e1"))
    warehouse.ingest()
    orphan = warehouse.segments_dir / "file_id=99"
    orphan.mkdir()
    (orphan / "leftover.parquet").write_bytes(b"half written")
    warehouse.ingest()
    assert not orphan.exists()
    assert (warehouse.segments_dir / "file_id=1").is_dir()
    assert [e[0] for e in warehouse.events()] == ["e1"]


def test_segments_stay_readable_after_the_landing_file_is_deleted(warehouse):
    path = warehouse.write_parquet(
        "a.parquet",
        "select 'e1' as event_id, 'cus_a' as customer_id, 'm' as metric, '2025-05-01' as occurred_at",
    )
    warehouse.ingest()
    path.unlink()
    warehouse.ingest()
    assert [e[0] for e in warehouse.events()] == ["e1"]


def test_missing_customers_table_stops_ingestion(tmp_path):
    from landing_builders import connect

    from dagster_billing.ingestion.usage_ingestion import ingest_usage_files

    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(RuntimeError, match="raw.customers is missing"):
        ingest_usage_files(con, tmp_path / "landing", tmp_path / "segments", ingested_at=INGESTED_AT)
    con.close()


def test_csv_with_byte_order_mark_windows_line_ends_and_upper_case_header(warehouse):
    header = "\ufeffEvent_ID,Customer_ID,Metric,Quantity,Occurred_At,Properties"
    rows = [csv_event("e1"), "", csv_event("e2", quantity="x"), csv_event("e3")]
    warehouse.write("a.csv", "\r\n".join([header, *rows]) + "\r\n")
    warehouse.ingest()
    assert [q[1:3] for q in warehouse.quarantine()] == [(4, "invalid_quantity")]
    assert warehouse.rows("select event_id, source_row from raw.usage_events order by 2") == [
        ("e1", 2),
        ("e3", 5),
    ]


@pytest.mark.parametrize("offset", ["+24:00", "+25:00", "-24:00", "+05:60", "+0560", "+99:99", "+24"])
def test_offsets_beyond_23_59_are_invalid_timestamps(warehouse, offset):
    occurred_at = f"2025-05-01T10:00:00{offset}"
    warehouse.write_csv("a.csv", csv_event("good", occurred_at="2025-05-01T10:00:00+23:59"))
    warehouse.write_jsonl("b.jsonl", json_event("bad", occurred_at=occurred_at))
    warehouse.ingest()
    assert only_quarantined(warehouse) == (
        "usage/b.jsonl",
        1,
        "invalid_timestamp",
        f"occurred_at '{occurred_at}' is not an RFC 3339 timestamp",
    )
    assert [(e[0], e[4]) for e in warehouse.events()] == [("good", datetime(2025, 4, 30, 10, 1))]


# --- JSON read exactly: numbers as written, one value per key, CloudEvents data an object


def json_line(event_id: str, quantity: str, **fields) -> str:
    """A JSON Lines record with `quantity` written as the given JSON number text (json.dumps would round it)."""
    event = json.dumps(json_event(event_id, quantity=0, **fields))
    return event.replace('"quantity": 0', f'"quantity": {quantity}')


def test_json_numbers_keep_every_digit_in_lines_arrays_and_cloudevents(warehouse):
    exact, too_large = "123456789012345.123456789012", "12345678901234567.123456789012"
    warehouse.write("a.jsonl", json_line("line", exact) + "\n" + json_line("line_huge", too_large) + "\n")
    warehouse.write(
        "b.json", "[" + json_line("element", exact) + ", " + json_line("element_huge", too_large) + "]"
    )
    cloud = json.dumps(cloud_event("cloud", quantity=0)).replace('"quantity": 0', f'"quantity": {exact}')
    warehouse.write("c.jsonl", cloud + "\n")
    warehouse.ingest()
    assert [(e[0], e[3]) for e in warehouse.events()] == [
        ("cloud", Decimal(exact)),
        ("element", Decimal(exact)),
        ("line", Decimal(exact)),
    ]
    assert warehouse.rows(
        "select path, source_row, reason_code, reason, quantity from raw.usage_quarantine order by file_id"
    ) == [
        (
            path,
            row,
            "quantity_above_maximum",
            f"quantity {too_large} is above the maximum 1000000000000000",
            too_large,
        )
        for path, row in (("usage/a.jsonl", 2), ("usage/b.json", 2))
    ]


def test_json_objects_with_a_key_twice_are_quarantined_alone(warehouse):
    good = json.dumps(json_event("good"))
    twice = json_line("twice", "1").replace('"quantity": 1', '"quantity": 1, "quantity": 1000')
    in_data = json.dumps(cloud_event("in_data", quantity=1)).replace(
        '"quantity": 1', '"quantity": 1, "quantity": 2'
    )
    in_properties = json.dumps(json_event("in_properties", properties={"user": "a"})).replace(
        '"user": "a"', '"user": "a", "user": "b"'
    )
    warehouse.write("a.jsonl", "\n".join([good, twice, in_data, in_properties]) + "\n")
    warehouse.write("b.json", f"[{json.dumps(json_event('good_too'))}, {twice}]")
    report = warehouse.ingest()
    assert warehouse.quarantine() == [
        ("usage/a.jsonl", 2, "duplicate_json_key", "line 2 has the key 'quantity' more than once"),
        ("usage/a.jsonl", 3, "duplicate_json_key", "line 3: data has the key 'quantity' more than once"),
        ("usage/a.jsonl", 4, "duplicate_json_key", "line 4: properties has the key 'user' more than once"),
        ("usage/b.json", 2, "duplicate_json_key", "array element 2 has the key 'quantity' more than once"),
    ]
    assert [e[0] for e in warehouse.events()] == ["good", "good_too"]
    assert [(f.rows_read, f.rows_accepted, f.rows_quarantined) for f in report.files] == [
        (4, 1, 3),
        (2, 1, 1),
    ]


def test_cloudevent_data_that_is_not_an_object_is_quarantined_and_absent_data_is_one(warehouse):
    no_data = {key: value for key, value in cloud_event("no_data").items() if key != "data"}
    events = [no_data, {**cloud_event("null_data"), "data": None}]
    events += [{**cloud_event(f"bad_{i}"), "data": data} for i, data in enumerate(["5", 5, [1], True])]
    warehouse.write_jsonl("a.jsonl", *events)
    warehouse.ingest()
    assert [(e[0], e[3]) for e in warehouse.events()] == [("no_data", Decimal(1)), ("null_data", Decimal(1))]
    assert [q[1:] for q in warehouse.quarantine()] == [
        (3, "invalid_cloudevent_data", "line 3: data is a JSON string, not an object"),
        (4, "invalid_cloudevent_data", "line 4: data is a JSON number, not an object"),
        (5, "invalid_cloudevent_data", "line 5: data is a JSON array, not an object"),
        (6, "invalid_cloudevent_data", "line 6: data is a JSON boolean, not an object"),
    ]


# --- bytes: invalid UTF-8 and over-long lines are quarantined alone, a byte-order mark is skipped

MAX_RECORD_BYTES = 1 << 20


def test_a_line_that_is_not_utf8_is_quarantined_alone(warehouse):
    csv_lines = [CSV_HEADER, csv_event("c1"), csv_event("c2", metric="caf\xe9"), csv_event("c3")]
    warehouse.write("a.csv", "")
    (warehouse.landing_dir / "usage" / "a.csv").write_bytes("\n".join(csv_lines).encode("latin-1") + b"\n")
    jsonl_lines = [
        json.dumps(json_event("j1")),
        json.dumps(json_event("j2", metric="caf\xe9"), ensure_ascii=False),
    ]
    (warehouse.landing_dir / "usage" / "b.jsonl").write_bytes(
        "\n".join([*jsonl_lines, "", json.dumps(json_event("j3"))]).encode("latin-1") + b"\n"
    )
    report = warehouse.ingest()
    assert warehouse.quarantine() == [
        ("usage/a.csv", 3, "unparseable_row", "line 3 is not valid UTF-8"),
        ("usage/b.jsonl", 2, "unparseable_row", "line 2 is not valid UTF-8"),
    ]
    assert [e[0] for e in warehouse.events()] == ["c1", "c3", "j1", "j3"]
    assert [(f.status, f.rows_read, f.rows_accepted, f.rows_quarantined) for f in report.files] == [
        ("ingested", 3, 2, 1),
        ("ingested", 3, 2, 1),
    ]


def test_a_line_longer_than_the_maximum_is_quarantined_alone(warehouse):
    padding = "x" * MAX_RECORD_BYTES
    warehouse.write_csv("a.csv", csv_event("c1"), csv_event("c2", metric=padding), csv_event("c3"))
    warehouse.write_jsonl("b.jsonl", json_event("j1"), json_event("j2", metric=padding), json_event("j3"))
    warehouse.write("c.json", json.dumps([json_event("a1"), json_event("a2", metric=padding)]))
    report = warehouse.ingest()
    assert [q[:3] for q in warehouse.quarantine()] == [
        ("usage/a.csv", 3, "unparseable_row"),
        ("usage/b.jsonl", 2, "unparseable_row"),
        ("usage/c.json", 2, "unparseable_row"),
    ]
    assert [q[3] for q in warehouse.quarantine()] == [
        "line 3 is longer than the maximum 1048576 bytes",
        "line 2 is longer than the maximum 1048576 bytes",
        "array element 2 is longer than the maximum 1048576 bytes",
    ]
    assert [e[0] for e in warehouse.events()] == ["a1", "c1", "c3", "j1", "j3"]
    assert [(f.rows_read, f.rows_quarantined) for f in report.files] == [(3, 1), (3, 1), (2, 1)]
    raw = warehouse.rows("select length(raw_record) from raw.usage_quarantine order by file_id")
    assert all(length <= 1000 for (length,) in raw), "only the start of an over-long line is kept"


def test_a_line_of_exactly_the_maximum_is_read(warehouse):
    event = json.dumps(json_event("j1", properties={"pad": ""}))
    padded = event.replace('"pad": ""', '"pad": "' + "x" * (MAX_RECORD_BYTES - len(event)) + '"')
    assert len(padded.encode()) == MAX_RECORD_BYTES
    warehouse.write("a.jsonl", padded + "\n")
    warehouse.ingest()
    assert warehouse.quarantine() == []
    assert [e[0] for e in warehouse.events()] == ["j1"]


def test_a_byte_order_mark_is_skipped_in_every_text_format(warehouse):
    warehouse.write("a.csv", "\ufeff" + CSV_HEADER + "\n" + csv_event("c1") + "\n")
    warehouse.write(
        "b.jsonl", "\ufeff" + json.dumps(json_event("j1")) + "\n" + json.dumps(json_event("j2")) + "\n"
    )
    warehouse.write("c.json", "\ufeff" + json.dumps([json_event("a1")]))
    warehouse.write("d.json", "\ufeff" + json.dumps(json_event("o1")))
    warehouse.ingest()
    assert warehouse.quarantine() == []
    assert warehouse.rows("select event_id, source_row from raw.usage_events order by 1") == [
        ("a1", 1),
        ("c1", 2),
        ("j1", 1),
        ("j2", 2),
        ("o1", 1),
    ]


def test_a_json_file_that_is_not_utf8_is_unreadable_whole(warehouse):
    body = json.dumps([json_event("a1"), json_event("a2", metric="caf\xe9")], ensure_ascii=False)
    (warehouse.landing_dir / "usage" / "a.json").write_bytes(body.encode("latin-1"))
    report = warehouse.ingest()
    assert [q[:3] for q in warehouse.quarantine()] == [("usage/a.json", None, "unreadable_file")]
    assert "usage/a.json is not valid UTF-8 (line 1)" in warehouse.quarantine()[0][3]
    assert [(f.status, f.rows_read) for f in report.files] == [("unreadable", 0)]


# --- links in the landing folder


def test_links_out_of_the_landing_folder_are_refused_and_listed_links_inside_are_read(warehouse, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(CSV_HEADER + "\n" + csv_event("secret") + "\n")
    usage = warehouse.landing_dir / "usage"
    (usage / "a_system_file.csv").symlink_to("/etc/passwd")
    (usage / "b_outside.csv").symlink_to(outside / "secret.csv")
    (usage / "c_folder").symlink_to(outside)
    (usage / "d_dangling.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    archive = warehouse.landing_dir / "archive"
    archive.mkdir()
    (archive / "real.csv").write_text(CSV_HEADER + "\n" + csv_event("inside") + "\n")
    (usage / "e_inside.csv").symlink_to(archive / "real.csv")
    report = warehouse.ingest()
    assert [(f.path, f.status, f.rows_read) for f in report.files] == [
        ("usage/a_system_file.csv", "unreadable", 0),
        ("usage/b_outside.csv", "unreadable", 0),
        ("usage/c_folder", "unreadable", 0),
        ("usage/d_dangling.jsonl", "unreadable", 0),
        ("usage/e_inside.csv", "ingested", 1),
    ]
    prefix = "the whole file was not ingested: "
    assert [(q[0], q[1], q[2], q[3].removeprefix(prefix)) for q in warehouse.quarantine()] == [
        (
            "usage/a_system_file.csv",
            None,
            "unreadable_file",
            "usage/a_system_file.csv is a link to /etc/passwd, outside the landing folder: not read",
        ),
        (
            "usage/b_outside.csv",
            None,
            "unreadable_file",
            f"usage/b_outside.csv is a link to {outside / 'secret.csv'}, outside the landing folder: not read",
        ),
        (
            "usage/c_folder",
            None,
            "unreadable_file",
            "usage/c_folder is a link to a folder: linked folders are not read, land the files themselves",
        ),
        (
            "usage/d_dangling.jsonl",
            None,
            "unreadable_file",
            f"usage/d_dangling.jsonl is a link to {tmp_path / 'nowhere.jsonl'}, which does not exist",
        ),
    ]
    assert warehouse.scalar("select count(*) from raw.usage_quarantine where raw_record is not null") == 0
    assert [e[0] for e in warehouse.events()] == ["inside"]
    assert warehouse.ingest().already_ingested == 5, "a refused link is recorded once, not retried every run"

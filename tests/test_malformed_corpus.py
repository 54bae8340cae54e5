"""The malformed-input corpus (tests/malformed_corpus/): every kind of bad row is quarantined with its reason, file
and row; every good row is accepted; rows are conserved per file."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from landing_builders import json_event, new_warehouse

CORPUS = Path(__file__).parent / "malformed_corpus"
MAX_RECORD_BYTES = 1 << 20


def _expected() -> list[tuple[str, int | None, str, str]]:
    with (CORPUS / "expected_quarantine.csv").open(newline="") as handle:
        return [
            (row["path"], int(row["row"]) if row["row"] else None, row["reason_code"], row["field"])
            for row in csv.DictReader(handle)
        ]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """The corpus, plus the files built here, ingested once into a fresh warehouse."""
    root = tmp_path_factory.mktemp("corpus")
    warehouse = new_warehouse(root)
    shutil.copytree(CORPUS / "usage", warehouse.landing_dir / "usage", dirs_exist_ok=True)
    padding = "x" * MAX_RECORD_BYTES
    warehouse.write_jsonl(
        "h_long_line.jsonl",
        json_event("good_h1"),
        json_event("bad_h2", metric=padding),
        json_event("good_h3"),
    )
    warehouse.write_parquet(
        "i_types.parquet",
        "select * from (values ('good_i1', 2.5::double, timestamp '2025-05-01 10:00'), "
        "('bad_i2', 'nan'::double, timestamp '2025-05-01 10:00'), "
        "('bad_i3', 1e30::double, timestamp '2025-05-01 10:00'), "
        "('bad_i4', -5::double, timestamp '2025-05-01 10:00'), "
        "('bad_i5', 1::double, null), "
        "('good_c1', 1::double, timestamp '2025-05-01 10:00')) as t(event_id, quantity, occurred_at), "
        "(select 'cus_a' as customer_id, 'api_calls' as metric)",
    )
    outside = root / "outside.csv"
    outside.write_text("event_id,customer_id,metric,occurred_at\nbad_j1,cus_a,api_calls,2025-05-01\n")
    (warehouse.landing_dir / "usage" / "j_outside.csv").symlink_to(outside)
    report = warehouse.ingest()
    yield warehouse, report
    warehouse.con.close()


def test_every_bad_row_is_quarantined_with_its_reason_file_and_row(ingested):
    warehouse, _ = ingested
    quarantined = warehouse.quarantine()
    assert [(path, row, code) for path, row, code, _ in quarantined] == [
        (path, row, code) for path, row, code, _ in _expected()
    ]
    for (path, row, code, reason), (*_, field) in zip(quarantined, _expected(), strict=True):
        assert field in reason, (path, row, code, reason)


def test_the_corpus_covers_every_reason_code_in_the_readme(ingested):
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("| reason_code |") : readme.index("**Conservation.**")]
    rows = [line for line in section.splitlines()[2:] if line.startswith("|")]
    documented = {code.strip("` ") for line in rows for code in line.split("|")[1].split("/")}
    assert documented == {code for _, _, code, _ in _expected()}


def test_every_good_row_is_accepted_and_only_those(ingested):
    warehouse, _ = ingested
    events = {event_id: quantity for event_id, _, _, quantity, _, _ in warehouse.events()}
    assert sorted(events) == [
        "good_a1",
        "good_c1",
        "good_c20",
        "good_h1",
        "good_h3",
        "good_i1",
        "good_j1",
        "good_j6",
        "good_j7",
        "good_u1",
        "good_u4",
    ]
    assert events["good_j7"] == Decimal("123456789012345.123456789012")
    assert events["good_c20"] == Decimal(10**15)
    assert events["good_j6"] == Decimal(1), "a CloudEvent without data is one unit"


def test_rows_are_conserved_per_file(ingested):
    warehouse, report = ingested
    counts = warehouse.rows(
        """select f.path, f.status, f.rows_read, f.rows_accepted, f.rows_duplicate, f.rows_quarantined,
              (select count(*) from raw.usage_events as e where e.source_file_id = f.file_id),
              (select count(*) from raw.usage_duplicates as d where d.file_id = f.file_id),
              (select count(*) from raw.usage_quarantine as q
               where q.file_id = f.file_id and q.source_row is not null)
        from raw.ingested_files as f order by f.file_id"""
    )
    for path, _, read, accepted, duplicate, quarantined, *in_tables in counts:
        assert read == accepted + duplicate + quarantined, path
        assert [accepted, duplicate, quarantined] == in_tables, path
    assert {path: (status, read) for path, status, read, *_ in counts} == {
        "usage/a_rows.csv": ("ingested", 18),
        "usage/b_lines.jsonl": ("ingested", 11),
        "usage/c_batch.json": ("ingested", 6),
        "usage/d_not_utf8.csv": ("ingested", 3),
        "usage/e_not_parquet.parquet": ("unreadable", 0),
        "usage/f_no_metric.csv": ("unreadable", 0),
        "usage/g_not_utf8.json": ("unreadable", 0),
        "usage/h_long_line.jsonl": ("ingested", 3),
        "usage/i_types.parquet": ("ingested", 6),
        "usage/j_outside.csv": ("unreadable", 0),
    }
    duplicates = warehouse.rows(
        "select path, source_row from raw.usage_duplicates order by file_id, source_row"
    )
    assert duplicates == [("usage/a_rows.csv", 19), ("usage/i_types.parquet", 6)]
    assert report.total("rows_read") == sum(read for _, _, read, *_ in counts)


def test_nothing_from_outside_the_landing_folder_is_stored(ingested):
    warehouse, _ = ingested
    assert warehouse.scalar("select count(*) from raw.usage_quarantine where raw_record like '%bad_j1%'") == 0
    target = str(warehouse.landing_dir.parent / "outside.csv")
    assert [q[3] for q in warehouse.quarantine() if target in q[3]] == [
        f"the whole file was not ingested: usage/j_outside.csv is a link to {target}, outside the landing folder: "
        "not read"
    ]

"""DDL of the `raw` tables the ingestion owns. Created idempotently before every ingestion."""

import duckdb

RAW_SCHEMA_DDL = """
create schema if not exists raw;

create sequence if not exists raw.ingested_file_ids start 1;

-- One row per landing file ingested: its content hash makes ingestion exactly-once.
create table if not exists raw.ingested_files (
    file_id integer primary key,
    path varchar not null unique,
    kind varchar not null,
    file_format varchar not null,
    size_bytes bigint not null,
    sha256 varchar not null,
    segment_path varchar,
    segment_kind varchar,
    segment_schema json,
    status varchar not null,
    rows_read bigint not null,
    rows_accepted bigint not null,
    rows_duplicate bigint not null,
    rows_quarantined bigint not null,
    error varchar,
    ingested_at timestamp not null,
    run_id varchar
);

-- Every usage row (or whole file, source_row null) that was not accepted, with its reason in plain words.
create table if not exists raw.usage_quarantine (
    file_id integer not null,
    path varchar not null,
    source_row bigint,
    reason_code varchar not null,
    reason varchar not null,
    event_id varchar,
    customer_id varchar,
    metric varchar,
    quantity varchar,
    occurred_at varchar,
    raw_record varchar,
    quarantined_at timestamp not null
);

-- Retried events: the same event_id and payload as an event accepted earlier. Counted and dropped.
create table if not exists raw.usage_duplicates (
    file_id integer not null,
    path varchar not null,
    source_row bigint not null,
    event_id varchar not null,
    first_file_id integer not null,
    first_source_row bigint not null,
    detected_at timestamp not null
);

-- The id hash and location of every valid row (retried duplicates included): what dedup of later files is
-- checked against without rereading events.
create table if not exists raw.usage_event_keys (
    event_id_hash ubigint not null,
    file_id integer not null,
    source_row bigint not null
);

-- Landing files whose content changed after they were ingested: an error until someone resolves it.
create table if not exists raw.landing_file_changes (
    path varchar not null,
    ingested_sha256 varchar not null,
    current_sha256 varchar not null,
    detected_at timestamp not null
);
"""


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_SCHEMA_DDL)

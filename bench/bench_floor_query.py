"""Benchmark: the floor under the read-ratio targets. One stripped-down SQL query beside DuckDB's own read.

    python bench/bench_floor_query.py                      # 10M events (the targets' size)
    python bench/bench_floor_query.py --events 1000000

The query does less than the pipeline must: exact dedup by event_id (hash, then the rare suspects by id), monthly
anniversary windows from each customer's anchor (UTC, no time zones, no subscriptions, no calendar billing), and
count / sum / max per customer, metric and window into a temp table. No validation or quarantine, no manifest, no
keys or segments written, no pricing. Its ratio to the all-column read is a lower bound for ingest + windowing
(target 4x) and for the path through invoices (target 5x). Two dedup variants: DuckDB's `group by hash having
count(*) > 1`, and the hashes sorted in NumPy (the issue's faster dedup). Both run in one process after the read,
warm, best of --repeat.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from bench_ingest_windowing import REPO_ROOT, _generate, _usage_files_sql

from dagster_billing.sql_literals import sql_identifier, sql_string_literal

# `repeated` (hashes seen twice or more) is a table or a registered Arrow table, depending on the variant.
FLOOR_QUERY = """
with events as (
    select event_id, customer_id, metric, quantity, occurred_at, hash(event_id) as id_hash from {source}
),
suspects as (select * from events semi join repeated using (id_hash)),
first_copies as (
    select * exclude (copy_number)
    from (select *, row_number() over (partition by event_id order by occurred_at) as copy_number from suspects)
    where copy_number = 1
),
deduplicated as (
    select * from events anti join repeated using (id_hash)
    union all
    select * from first_copies
),
placed as (
    select
        customers.customer_id, metric, quantity,
        date_diff('month', customers.anchor, occurred_at::date)
            - case when day(occurred_at) < least(day(customers.anchor), day(last_day(occurred_at))) then 1 else 0 end
            as window_index
    from deduplicated join customers using (customer_id)
    where occurred_at >= customers.anchor
)
select customer_id, metric, window_index, count(*) as events, sum(quantity) as total, max(quantity) as peak
from placed group by all
"""


def _best(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "data" / "bench")
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    landing = args.workdir / f"landing-{args.events}-{args.customers}"
    _generate(landing, args.events, args.customers)

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "create table customers as select customer_id, billing_anchor::date as anchor "
        f"from read_csv({sql_string_literal(landing / 'customers.csv')})"
    )
    source = f"read_parquet({_usage_files_sql(landing)})"
    columns = [row[0] for row in con.execute(f"describe select * from {source}").fetchall()]
    read_sql = (
        f"select count(*), {', '.join(f'sum(hash({sql_identifier(c)}))' for c in columns)} from {source}"
    )
    query = FLOOR_QUERY.format(source=source)

    def group_by_dedup() -> None:
        con.execute(
            "create or replace temp table repeated as "
            f"select hash(event_id) as id_hash from {source} group by 1 having count(*) > 1"
        )
        con.execute(f"create or replace temp table floor_result as {query}")

    def numpy_sort_dedup() -> None:
        hashes = con.sql(f"select hash(event_id) as h from {source}").to_arrow_table()["h"].to_numpy()
        ordered = np.sort(hashes)
        repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        con.register("repeated_hashes", pa.table({"id_hash": repeated}))
        con.execute("create or replace temp view repeated as select id_hash from repeated_hashes")
        con.execute(f"create or replace temp table floor_result as {query}")

    read = _best(lambda: con.execute(read_sql).fetchall(), args.repeat + 1)
    grouped = _best(group_by_dedup, args.repeat)
    ((rows, events),) = con.execute("select count(*), sum(events) from floor_result").fetchall()
    con.execute("drop table repeated")
    sorted_ = _best(numpy_sort_dedup, args.repeat)
    print(
        f"events: {args.events:,} generated; {events:,} deduplicated events placed in {rows:,} windows x metrics"
    )
    print(f"duckdb read, all columns:           {read:6.2f} s")
    print(f"floor query, group-by-hash dedup:   {grouped:6.2f} s = {grouped / read:4.1f}x the read")
    print(f"floor query, NumPy-sorted dedup:    {sorted_:6.2f} s = {sorted_ / read:4.1f}x the read")
    print(
        "targets: ingest + windowing within 4x, through invoices within 5x (each doing more than this query)"
    )


if __name__ == "__main__":
    main()

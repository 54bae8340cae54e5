"""DuckDB SQL that renders generated usage events from their row number in a file.

Every random choice is `hash(event_index, seed, purpose)`, so an event depends only on its index: files can be
written in parallel chunks, a repeated index reproduces the event, and the same seed gives the same bytes.
Customers come from DuckDB variables (lists ordered by Zipf rank) instead of joins, so rows keep their order
and no sort is needed.
"""

from __future__ import annotations

from dagster_billing.generator.file_plan import PlannedUsageFile

# Share of events per metric; `active_users` counts distinct `properties.user_id`.
METRIC_WEIGHTS = (
    ("api_calls", 40),
    ("compute_minutes", 20),
    ("storage_gb", 10),
    ("active_users", 20),
    ("seats_in_use", 10),
)
# Share of events outside the customer's subscriptions that are kept (usage before the anchor or after
# cancelling); the rest go to an always-subscribed customer, so most usage is billable.
KEEP_UNSUBSCRIBED_SHARE = 0.05
_REGIONS = "['us-east-1', 'eu-west-1', 'ap-northeast-1']"


def _uniform(purpose: str, seed: int) -> str:
    """A value in [0, 1) fixed by the event and purpose."""
    return f"(hash(event_index, {seed}, '{purpose}') / 18446744073709551616.0)"


def _metric_case(seed: int) -> str:
    total = sum(weight for _, weight in METRIC_WEIGHTS)
    cases, upper = [], 0
    for metric, weight in METRIC_WEIGHTS:
        upper += weight
        cases.append(f"when {_uniform('metric', seed)} < {upper / total} then '{metric}'")
    return "case " + " ".join(cases[:-1]) + f" else '{METRIC_WEIGHTS[-1][0]}' end"


def _index_and_variant_sql(planned: PlannedUsageFile) -> str:
    """(event_index, is_conflict) of row `file_row` (0-based): the file's own events, then its copy groups."""
    index_cases, conflict_cases = [], []
    offset = planned.unique_events
    for group in planned.copy_groups:
        r = f"(file_row - {offset})"
        index_cases.append(
            f"when file_row < {offset + group.copies} "
            f"then {group.source_first} + {r} * {group.source_count} // {group.copies}"
        )
        conflict_cases.append(
            f"when file_row < {offset + group.copies} then {str(group.conflicting).lower()}"
        )
        offset += group.copies
    own = f"when file_row < {planned.unique_events} then {planned.first_event} + file_row"
    return (
        f"case {own} {' '.join(index_cases)} end as event_index, "
        f"case when file_row < {planned.unique_events} then false "
        f"{' '.join(conflict_cases)} end as is_conflict"
    )


_ZIPF = "getvariable('zipf_customers')"
_ALWAYS = "getvariable('always_subscribed')"
_QUANTITY = """case metric
            when 'api_calls' then 1 + floor(pow(quantity_draw, 3) * 2000)
            when 'compute_minutes' then round(0.5 + quantity_draw * 120, 3)
            when 'storage_gb' then round(0.25 + quantity_draw * 500, 4)
            when 'active_users' then 1
            else 1 + floor(quantity_draw * 40) end"""
_REGION = f"{_REGIONS}[1 + cast(floor(region_draw * 3) as int)]"
_USER_ID = "'usr_' || lpad(cast(cast(floor(pow(user_draw, 2) * 300) as bigint) as varchar), 4, '0')"
# A bijection of the index below 2^48 (odd multiplier), so ids never collide and do not look sequential.
_EVENT_ID = "format('evt_{{:012x}}', (event_index * 2654435761 + {offset}) % 281474976710656)"


def _draws_sql(seed: int, events: int, start_epoch: int, span_seconds: int) -> str:
    """Every random draw of an event, from its index."""
    u = lambda purpose: _uniform(purpose, seed)  # noqa: E731 - keeps the SQL readable
    # Event times rise with the index (files are time slices); the jitter keeps them off a fixed grid.
    occurred = (
        f"{start_epoch} + cast(floor((event_index + {u('time')}) * {span_seconds} / {events}) as bigint)"
    )
    # Zipf (s = 1) over ranks: P(rank r) ~ 1 / r, so a few customers send most usage.
    rank = f"least(len({_ZIPF}), cast(floor(exp({u('customer')} * ln(len({_ZIPF}) + 1))) as bigint))"
    fallback = f"cast(1 + hash(event_index, {seed}, 'fallback') % greatest(len({_ALWAYS}), 1) as bigint)"
    return f"""event_index, is_conflict, {occurred} as occurred_epoch, {rank} as zipf_rank,
            {_metric_case(seed)} as metric,
            {u("keep")} < {KEEP_UNSUBSCRIBED_SHARE} or len({_ALWAYS}) = 0 as keep_unsubscribed,
            {fallback} as fallback_slot, {u("quantity")} as quantity_draw, {u("user")} as user_draw,
            {u("region")} as region_draw, {u("style")} as style_draw"""


def events_sql(
    planned: PlannedUsageFile, *, events: int, seed: int, start_epoch: int, span_seconds: int
) -> str:
    """Normalized columns of every generated row of one file, in file order.

    Needs list variables `zipf_customers`, `zipf_active_from`, `zipf_active_until` (epoch seconds, null while
    active) and `always_subscribed` (customer ids); `landing.py` sets them.
    """
    until = "coalesce(getvariable('zipf_active_until')[zipf_rank], 9223372036854775807)"
    unsubscribed = "(before_subscription or after_cancellation)"
    return f"""
    with rows as (
        select {_index_and_variant_sql(planned)}
        from range({int(planned.generated_rows)}) as t(file_row)
    ), drawn as (
        select {_draws_sql(seed, events, start_epoch, span_seconds)}
        from rows
    ), placed as (
        select *,
            occurred_epoch < getvariable('zipf_active_from')[zipf_rank] as before_subscription,
            occurred_epoch >= {until} as after_cancellation
        from drawn
    )
    select
        event_index,
        {_EVENT_ID.format(offset=(int(seed) % 1_000_003) * 1_000_003)} as event_id,
        case when {unsubscribed} and not keep_unsubscribed then {_ALWAYS}[fallback_slot]
             else {_ZIPF}[zipf_rank] end as customer_id,
        {unsubscribed} and keep_unsubscribed and before_subscription as before_subscription,
        {unsubscribed} and keep_unsubscribed and after_cancellation as after_cancellation,
        metric,
        cast({_QUANTITY} + case when is_conflict then 1 else 0 end as decimal(18, 6)) as quantity,
        make_timestamp(occurred_epoch * 1000000) as occurred_at,
        case when metric = 'active_users' then json_object('user_id', {_USER_ID}, 'region', {_REGION})
             else json_object('region', {_REGION}) end as properties,
        style_draw
    from placed"""


def occurred_at_text_sql() -> str:
    """RFC 3339 text: mostly `Z`, some with an offset (same instant), some without one (UTC by contract)."""
    plain = "'%Y-%m-%dT%H:%M:%S'"
    return (
        f"case when style_draw < 0.80 then strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') "
        f"when style_draw < 0.87 then strftime(occurred_at + interval 2 hour, {plain}) || '+02:00' "
        f"when style_draw < 0.93 then strftime(occurred_at - interval 5 hour, {plain}) || '-05:00' "
        f"else strftime(occurred_at, {plain}) end"
    )


def quantity_text_sql() -> str:
    """Decimal text without trailing zeros: `12`, `0.125`."""
    return "rtrim(rtrim(cast(quantity as varchar), '0'), '.')"

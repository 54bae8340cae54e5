{{ config(materialized='table') }}

{#- Each customer's billing windows, cycle by cycle (int_billing_cycles_anchored). Within a cycle, anniversary
    windows recur from the cycle's anchor date; calendar windows from the calendar boundary at or before it (weeks
    start on Monday, ISO; quarters and half-years on January 1 plus whole groups of months). Period j is always computed from this base in one step (no drift). A window is its period
    cut to the cycle: the first window of a later cycle starts at the cadence change itself, and the window in force
    when the cadence changes closes there, early; its full period is kept (`period_start`, `period_end`) so its fee is
    prorated against the whole period. -#}
with

cycles as (

    select * from {{ ref('int_billing_cycles_anchored') }}
    where interval_unit is not null

),

customers_cadenced as (

    select * from {{ ref('int_customers_cadenced') }}

),

run as (

    select {{ as_of_timestamp() }} as as_of

),

cadences as (

    select
        cycles.*,
        customers_cadenced.last_subscription_ended_at,
        run.as_of,
        case
            -- a stub is one window of the period that ends at the anchor
            when cycles.is_stub
                then {{ add_billing_intervals(
                    'cycles.cycle_anchor_date', 'cycles.interval_unit', '-cycles.interval_count'
                ) }}
            when cycles.billing_time = 'calendar'
                then {{ calendar_period_start(
                    'cycles.cycle_anchor_date', 'cycles.interval_unit', 'cycles.interval_count'
                ) }}
            else cycles.cycle_anchor_date
        end as grid_base_date,
        -- generous bound: a local date is at most a day after its UTC date; filtered exactly below
        greatest(
            {{ billing_units_between(
                'cycles.cycle_anchor_date',
                'least(run.as_of::date, coalesce(cycles.cycle_end::date, run.as_of::date)) + 2',
                'cycles.interval_unit'
            ) }} // cycles.interval_count + 3,
            0
        ) as window_count_bound,
    from cycles
    inner join customers_cadenced
        on cycles.customer_id = customers_cadenced.customer_id
    cross join run

),

period_indexes as (

    select
        *,
        unnest(range(0, window_count_bound)) as period_index,
    from cadences

),

period_dates as (

    select
        *,
        {{ add_billing_intervals('grid_base_date', 'interval_unit', 'period_index * interval_count') }}
            as period_start_date,
        {{ add_billing_intervals('grid_base_date', 'interval_unit', '(period_index + 1) * interval_count') }}
            as period_end_date,
    from period_indexes

),

period_instants as (

    select
        *,
        {{ local_midnight_to_utc('period_start_date', 'timezone') }} as period_start,
        {{ local_midnight_to_utc('period_end_date', 'timezone') }} as period_end,
    from period_dates

),

-- the period cut to its cycle: it starts no earlier than the cycle, ends no later than the next cycle's start
windows_cut as (

    select
        *,
        greatest(period_start, cycle_start) as window_start,
        case when cycle_end < period_end then cycle_end else period_end end as window_end,
        case when period_start >= cycle_start then period_start_date else cycle_start_date end as window_start_date,
        case
            when cycle_end < period_end then {{ utc_to_local_date('cycle_end', 'timezone') }}
            else period_end_date
        end as window_end_date,
    from period_instants
    where period_end > cycle_start and (cycle_end is null or period_start < cycle_end)

),

final as (

    select
        customer_id,
        (row_number() over (partition by customer_id order by window_start) - 1)::integer as window_index,
        cycle_index,
        window_start_date,
        window_end_date,
        window_start,
        window_end,
        -- the full interval the window belongs to: earlier than window_start for a partial first calendar window or
        -- the first window of a later cycle, later than window_end for a window closed early by a cadence change;
        -- the fixed fee is prorated over the full period
        period_start,
        period_end,
        period_start_date,
        period_end_date,
        interval_unit,
        interval_count,
        billing_time,
        timezone,
        billing_anchor,
        window_end <= as_of as is_closed,
        window_start <> period_start or window_end <> period_end as is_partial_period,
        cycle_end is not null and window_end = cycle_end as ends_where_next_cycle_starts,

    from windows_cut
    where
        window_start <= as_of
        and (last_subscription_ended_at is null or window_start < last_subscription_ended_at)

)

select * from final

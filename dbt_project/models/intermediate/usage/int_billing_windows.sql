{{ config(materialized='table') }}

with

customers_cadenced as (

    select * from {{ ref('int_customers_cadenced') }}

),

run as (

    select {{ as_of_timestamp() }} as as_of

),

-- Anniversary windows recur from the anchor itself; calendar windows from the calendar boundary at or before
-- it (weeks start on Monday, ISO). Boundary j is always computed from this base in one step (no drift).
cadences as (

    select
        customers_cadenced.customer_id,
        customers_cadenced.billing_anchor,
        customers_cadenced.timezone,
        customers_cadenced.interval_unit,
        customers_cadenced.interval_count,
        customers_cadenced.billing_time,
        customers_cadenced.last_subscription_ended_at,
        run.as_of,
        case
            when customers_cadenced.billing_time = 'calendar'
                then date_trunc(customers_cadenced.interval_unit, customers_cadenced.billing_anchor)::date
            else customers_cadenced.billing_anchor
        end as grid_base_date,
        -- generous bound: the as_of local date is at most a day after its UTC date; filtered exactly below
        greatest(
            {{ billing_units_between(
                'customers_cadenced.billing_anchor',
                'run.as_of::date + 2',
                'customers_cadenced.interval_unit'
            ) }} // customers_cadenced.interval_count + 3,
            0
        ) as window_count_bound,

    from customers_cadenced
    cross join run
    where customers_cadenced.interval_unit is not null

),

window_indexes as (

    select
        *,
        unnest(range(0, window_count_bound)) as window_index,

    from cadences

),

window_dates as (

    select
        *,
        {{ add_billing_intervals('grid_base_date', 'interval_unit', 'window_index * interval_count') }}
            as period_start_date,
        greatest(
            billing_anchor,
            {{ add_billing_intervals('grid_base_date', 'interval_unit', 'window_index * interval_count') }}
        ) as window_start_date,
        {{ add_billing_intervals('grid_base_date', 'interval_unit', '(window_index + 1) * interval_count') }}
            as window_end_date,

    from window_indexes

),

window_instants as (

    select
        *,
        {{ local_midnight_to_utc('window_start_date', 'timezone') }} as window_start,
        {{ local_midnight_to_utc('period_start_date', 'timezone') }} as period_start,
        {{ local_midnight_to_utc('window_end_date', 'timezone') }} as window_end,

    from window_dates

),

final as (

    select
        customer_id,
        window_index,
        window_start_date,
        window_end_date,
        window_start,
        window_end,
        -- the full interval the window belongs to; earlier than window_start only for a partial first calendar
        -- window, whose fixed fee is prorated over the full period
        period_start,
        interval_unit,
        interval_count,
        billing_time,
        timezone,
        billing_anchor,
        window_end <= as_of as is_closed,
        billing_time = 'calendar' and window_index = 0 and billing_anchor <> grid_base_date as is_partial_period,

    from window_instants
    where
        window_start <= as_of
        and (last_subscription_ended_at is null or window_start < last_subscription_ended_at)

)

select * from final

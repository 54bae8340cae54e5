{{ config(materialized='table') }}

{#- Billable usage per customer, subscription, billing window, metric and revenue day: the weights that spread a
    usage line's invoiced amount over the days the usage was consumed. Only `sum` (quantity) and `count` (events)
    metrics have a meaningful daily share; `max`, `latest` and `unique_count` lines are recognized ratably over
    their window instead (see int_revenue_allocated_to_days), so they are left out here. One scan of the events. -#}
with

events as (

    select * from {{ ref('int_usage_events_windowed') }}
    where billing_status = 'billable' and aggregation in ('sum', 'count')

),

final as (

    select
        customer_id,
        subscription_id,
        window_start,
        metric,
        {{ revenue_date_of('occurred_at') }} as revenue_date,
        any_value(aggregation) as aggregation,
        count(*) as event_count,
        sum(quantity) as sum_quantity,
        -- the day's share of the line: summed quantity for `sum`, number of events for `count`
        case any_value(aggregation)
            when 'count' then count(*)::decimal(38, 12)
            else sum(quantity)
        end as usage_weight,
    from events
    group by customer_id, subscription_id, window_start, metric, revenue_date

)

select * from final

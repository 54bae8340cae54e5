{#- Billable usage per customer, subscription, billing window, metric and revenue day: the weights that spread a
    usage line's invoiced amount over the days the usage was consumed. Only `sum` (quantity) and `count` (events)
    metrics have a meaningful daily share; `max`, `latest` and `unique_count` lines are recognized ratably over
    their window instead (see int_revenue_allocated_to_days), so they are left out here. A view on the
    incremental int_usage_days_accumulated: no event is read here. -#}
with

days as (

    select * from {{ ref('int_usage_days_accumulated') }}
    where billing_status = 'billable'

),

final as (

    select
        customer_id,
        subscription_id,
        window_start,
        metric,
        revenue_date,
        aggregation,
        event_count,
        sum_quantity,
        -- the day's share of the line: summed quantity for `sum`, number of events for `count`
        case aggregation
            when 'count' then event_count::decimal(38, 12)
            else sum_quantity
        end as usage_weight,
    from days

)

select * from final

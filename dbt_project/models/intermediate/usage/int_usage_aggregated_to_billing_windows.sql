{#- A view on the incremental aggregates (int_usage_aggregates_accumulated): the columns pricing reads, with
    what depends on the run's as_of (`is_window_closed`) computed now rather than stored. Aggregation rules follow
    Stripe meters (sum, count, last) and Lago billable metrics (count, sum, max, unique_count, latest); see
    DECISIONLOG.md. -#}
with

accumulated as (

    select * from {{ ref('int_usage_aggregates_accumulated') }}

),

run as (

    select {{ as_of_timestamp() }} as as_of

),

final as (

    select
        accumulated.customer_id,
        accumulated.window_start,
        accumulated.window_end,
        accumulated.window_end <= run.as_of as is_window_closed,
        accumulated.subscription_id,
        accumulated.plan_id,
        accumulated.metric,
        accumulated.billing_status,
        accumulated.aggregation,
        accumulated.is_metric_configured,
        accumulated.unique_property,
        accumulated.event_count,
        accumulated.sum_quantity,
        accumulated.max_quantity,
        accumulated.latest_quantity,
        case when accumulated.unique_property is not null then len(accumulated.unique_values) end as unique_count,
        -- only billable usage has a billed quantity
        case
            when accumulated.billing_status <> 'billable' then null
            when accumulated.aggregation = 'sum' then accumulated.sum_quantity
            when accumulated.aggregation = 'count' then accumulated.event_count
            when accumulated.aggregation = 'max' then accumulated.max_quantity
            when accumulated.aggregation = 'latest' then accumulated.latest_quantity
            when accumulated.aggregation = 'unique_count' then len(accumulated.unique_values)
        end::decimal(38, 12) as billed_quantity,
        accumulated.first_event_at,
        accumulated.last_event_at,

    from accumulated
    cross join run

)

select * from final

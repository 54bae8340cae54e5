{{ config(materialized='table') }}

{#- One scan of the events gives both the billable aggregates (per window, subscription and metric) and the
    unbilled counts (window and subscription null). Aggregation rules follow Stripe meters (sum, count, last)
    and Lago billable metrics (count, sum, max, unique_count, latest); see DECISIONLOG.md. -#}
with

events_windowed as (

    select * from {{ ref('int_usage_events_windowed') }}

),

run as (

    select {{ as_of_timestamp() }} as as_of

),

events_ruled as (

    select
        billing_group_key,
        -- events of a customer missing from the customer list have no group; keep them apart per customer
        case when billing_group_key is null then customer_id end as orphan_customer_id,
        customer_id,
        window_start,
        window_end,
        subscription_id,
        plan_id,
        metric,
        billing_status,
        quantity,
        occurred_at,
        aggregation,
        unique_property,
        is_metric_configured,
        unique_value,
        latest_tie_break_id,
    from events_windowed

),

-- Grouped on a small integer key and the metric; the group's attributes are constant within it (any_value).
-- Measured at 10M events: grouping on every attribute column costs ~30% more; `count(distinct)` moves the whole
-- aggregate onto DuckDB's slow distinct path (+1.4 s, while `list_distinct(list(...))` is ~free); the
-- (occurred_at, event_id) tie-break struct is built only for `latest` metrics.
aggregated as (

    select
        billing_group_key,
        orphan_customer_id,
        metric,
        any_value(customer_id) as customer_id,
        any_value(window_start) as window_start,
        any_value(window_end) as window_end,
        any_value(subscription_id) as subscription_id,
        any_value(plan_id) as plan_id,
        any_value(billing_status) as billing_status,
        any_value(aggregation) as aggregation,
        any_value(unique_property) as unique_property,
        any_value(is_metric_configured) as is_metric_configured,
        count(*) as event_count,
        sum(quantity) as sum_quantity,
        max(quantity) as max_quantity,
        -- the last event by occurred_at; simultaneous events are ordered by event_id (greatest wins)
        arg_max(quantity, (occurred_at, latest_tie_break_id)) filter (where aggregation = 'latest') as latest_quantity,
        len(list_distinct(list(unique_value) filter (where unique_value is not null))) as unique_value_count,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,

    from events_ruled
    group by billing_group_key, orphan_customer_id, metric

),

final as (

    select
        aggregated.customer_id,
        aggregated.window_start,
        aggregated.window_end,
        aggregated.window_end <= run.as_of as is_window_closed,
        aggregated.subscription_id,
        aggregated.plan_id,
        aggregated.metric,
        aggregated.billing_status,
        aggregated.aggregation,
        aggregated.is_metric_configured,
        aggregated.unique_property,
        aggregated.event_count::bigint as event_count,
        aggregated.sum_quantity::decimal(38, 12) as sum_quantity,
        aggregated.max_quantity,
        aggregated.latest_quantity,
        case when aggregated.unique_property is not null then aggregated.unique_value_count end as unique_count,
        -- only billable usage has a billed quantity
        case
            when aggregated.billing_status <> 'billable' then null
            when aggregated.aggregation = 'sum' then aggregated.sum_quantity
            when aggregated.aggregation = 'count' then aggregated.event_count
            when aggregated.aggregation = 'max' then aggregated.max_quantity
            when aggregated.aggregation = 'latest' then aggregated.latest_quantity
            when aggregated.aggregation = 'unique_count'
                then case when aggregated.unique_property is not null then aggregated.unique_value_count end
        end::decimal(38, 12) as billed_quantity,
        aggregated.first_event_at,
        aggregated.last_event_at,

    from aggregated
    cross join run

)

select * from final

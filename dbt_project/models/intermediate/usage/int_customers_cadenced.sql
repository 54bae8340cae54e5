{{ config(materialized='table') }}

with

customers as (

    select * from {{ ref('stg_customers') }}

),

subscriptions as (

    select * from {{ ref('stg_subscriptions') }}

),

pricing_plans as (

    select * from {{ ref('stg_pricing_plans') }}
    -- what-if scenarios re-price usage; they never move the billing calendar
    where scenario = 'actual'

),

-- The loader guarantees a plan's cadence is the same in every pricing version and currency, so any row will do.
plan_cadences as (

    select
        plan_id,
        any_value(interval_unit) as interval_unit,
        any_value(interval_count) as interval_count,
        any_value(billing_time) as billing_time,

    from pricing_plans
    group by plan_id

),

-- The cadence comes from the customer's FIRST subscription (earliest start, ties by subscription_id), so the
-- window grid never moves when later plan changes are appended and rebuilt invoices stay identical.
subscription_spans as (

    select
        customer_id,
        arg_min(plan_id, (started_at, subscription_id)) as first_plan_id,
        arg_min(subscription_id, (started_at, subscription_id)) as first_subscription_id,
        min(started_at) as first_subscription_started_at,
        -- null while any subscription is open-ended
        case when bool_and(ended_at is not null) then max(ended_at) end as last_subscription_ended_at,
        count(*) as subscription_count,

    from subscriptions
    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.billing_anchor,
        customers.timezone,
        subscription_spans.first_subscription_id,
        subscription_spans.first_plan_id,
        plan_cadences.interval_unit,
        plan_cadences.interval_count,
        plan_cadences.billing_time,
        subscription_spans.first_subscription_started_at,
        subscription_spans.last_subscription_ended_at,
        subscription_spans.subscription_count,

    from customers
    inner join subscription_spans
        on customers.customer_id = subscription_spans.customer_id
    left join plan_cadences
        on subscription_spans.first_plan_id = plan_cadences.plan_id

)

select * from final

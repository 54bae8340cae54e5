{{ config(materialized='table') }}

{#- Each customer's billing cycles: one row per customer per cycle, a run of time billed on one cadence (interval
    unit, interval count, anniversary or calendar) from one anchor. The first cycle starts at the customer's billing
    anchor with the cadence of its first subscription's plan. A subscription whose plan has another cadence than the
    subscription before it starts a new cycle at its `started_at`, which becomes the new anchor (its local date sets
    the cycle's day), as Stripe and Lago start a new billing period when the interval changes. Changes within one
    cadence keep the cycle, so appending such history never moves a window. A cycle ends where the next one starts
    (null for the last). Several cycle starts at or before the billing anchor fall on the anchor; the latest
    subscription's cadence is the one in force there. -#}
with

customers as (

    select
        customer_id,
        billing_anchor,
        timezone,
        {{ local_midnight_to_utc('billing_anchor', 'timezone') }} as billing_anchor_at,
    from {{ ref('stg_customers') }}

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

subscriptions_cadenced as (

    select
        subscriptions.customer_id,
        subscriptions.subscription_id,
        subscriptions.plan_id,
        subscriptions.started_at,
        plan_cadences.interval_unit,
        plan_cadences.interval_count,
        plan_cadences.billing_time,
        concat_ws(
            '|', plan_cadences.interval_unit, plan_cadences.interval_count::varchar, plan_cadences.billing_time
        ) as cadence,
        row_number() over (
            partition by subscriptions.customer_id
            order by subscriptions.started_at, subscriptions.subscription_id
        ) as subscription_rank,
    from subscriptions
    left join plan_cadences
        on subscriptions.plan_id = plan_cadences.plan_id

),

subscriptions_compared as (

    select
        *,
        lag(cadence) over (partition by customer_id order by subscription_rank) as previous_cadence,
    from subscriptions_cadenced

),

cycle_starts as (

    select
        subscriptions_compared.*,
        customers.billing_anchor,
        customers.timezone,
        customers.billing_anchor_at,
        case
            when subscriptions_compared.subscription_rank = 1 then customers.billing_anchor_at
            else greatest(subscriptions_compared.started_at, customers.billing_anchor_at)
        end as cycle_start,
    from subscriptions_compared
    inner join customers
        on subscriptions_compared.customer_id = customers.customer_id
    where
        subscriptions_compared.subscription_rank = 1
        or subscriptions_compared.cadence <> subscriptions_compared.previous_cadence

),

cycle_starts_ranked as (

    select
        *,
        row_number() over (
            partition by customer_id, cycle_start order by subscription_rank desc
        ) as start_rank,
    from cycle_starts

),

final as (

    select
        customer_id,
        row_number() over (partition by customer_id order by cycle_start) - 1 as cycle_index,
        subscription_id as cycle_subscription_id,
        plan_id as cycle_plan_id,
        cycle_start,
        lead(cycle_start) over (partition by customer_id order by cycle_start) as cycle_end,
        -- the local date the cycle's windows recur from
        case
            when cycle_start = billing_anchor_at then billing_anchor
            else {{ utc_to_local_date('cycle_start', 'timezone') }}
        end as cycle_anchor_date,
        interval_unit,
        interval_count,
        billing_time,
        billing_anchor,
        timezone,
    from cycle_starts_ranked
    where start_rank = 1

)

select * from final

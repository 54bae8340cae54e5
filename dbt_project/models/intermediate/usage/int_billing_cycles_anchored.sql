{{ config(materialized='table') }}

{#- Each customer's billing cycles: one row per customer per cycle, a run of time billed on one cadence (interval
    unit, interval count, anniversary or calendar) from one anchor. The first cycle starts at the customer's billing
    anchor with the cadence of its first subscription's plan. A subscription whose plan has another cadence than the
    subscription before it starts a new cycle at its `started_at`, which becomes the new anchor (its local date sets
    the cycle's day), as Stripe and Lago start a new billing period when the interval changes. Changes within one
    cadence keep the cycle, so appending such history never moves a window. A cycle ends where the next one starts
    (null for the last). Several cycle starts at or before the billing anchor fall on the anchor; the latest
    subscription's cadence is the one in force there. A customer with `before_anchor: prorated_stub` whose first
    subscription starts before the anchor (and not with `proration_behavior: none`) gets a stub cycle first, from
    that start (at most one period before the anchor, as Stripe requires) to the anchor, billed like a window of
    the period that ends at the anchor (Stripe's prorated stub). With `trial_period: own_period` a subscription's trial end starts a new cycle
    (Stripe: the trial is its own zero-amount period and the billing cycle anchor moves to the trial end), so the
    trial is a window of its own, closed at the trial end. -#}
with

customers as (

    select
        customer_id,
        billing_anchor,
        timezone,
        before_anchor,
        trial_period,
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
        subscriptions.proration_behavior,
        subscriptions.trial_ends_at,
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
        false as is_stub,
        case when subscriptions_compared.subscription_rank = 1 then 'anchor' else 'cadence_change' end as cycle_kind,
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

-- Stripe's prorated stub from a subscription's start to a later billing cycle anchor
stub_starts as (

    select
        subscriptions_compared.*,
        customers.billing_anchor,
        customers.timezone,
        customers.billing_anchor_at,
        true as is_stub,
        'stub' as cycle_kind,
        greatest(
            subscriptions_compared.started_at,
            {{ local_midnight_to_utc(
                add_billing_intervals(
                    'customers.billing_anchor',
                    'subscriptions_compared.interval_unit',
                    '-subscriptions_compared.interval_count'
                ),
                'customers.timezone'
            ) }}
        ) as cycle_start,
    from subscriptions_compared
    inner join customers
        on subscriptions_compared.customer_id = customers.customer_id
    where
        subscriptions_compared.subscription_rank = 1
        and customers.before_anchor = 'prorated_stub'
        and subscriptions_compared.proration_behavior <> 'none'
        and subscriptions_compared.started_at < customers.billing_anchor_at
        and subscriptions_compared.interval_unit is not null

),

-- Stripe: a trial is its own period; the paid cycle starts at the trial end, the new anchor
trial_end_starts as (

    select
        subscriptions_compared.*,
        customers.billing_anchor,
        customers.timezone,
        customers.billing_anchor_at,
        false as is_stub,
        'trial_end' as cycle_kind,
        subscriptions_compared.trial_ends_at as cycle_start,
    from subscriptions_compared
    inner join customers
        on subscriptions_compared.customer_id = customers.customer_id
    where
        customers.trial_period = 'own_period'
        and subscriptions_compared.trial_ends_at > subscriptions_compared.started_at
        and subscriptions_compared.trial_ends_at > customers.billing_anchor_at

),

cycle_starts_ranked as (

    select
        *,
        row_number() over (
            partition by customer_id, cycle_start order by subscription_rank desc
        ) as start_rank,
    from (
        select * from cycle_starts
        union all
        select * from stub_starts
        union all
        select * from trial_end_starts
    ) as all_starts

),

final as (

    select
        customer_id,
        row_number() over (partition by customer_id order by cycle_start) - 1 as cycle_index,
        subscription_id as cycle_subscription_id,
        plan_id as cycle_plan_id,
        cycle_start,
        lead(cycle_start) over (partition by customer_id order by cycle_start) as cycle_end,
        -- the local date the cycle's windows recur from (a stub's: the billing anchor it leads to)
        case
            when cycle_start = billing_anchor_at or is_stub then billing_anchor
            else {{ utc_to_local_date('cycle_start', 'timezone') }}
        end as cycle_anchor_date,
        case
            when cycle_start = billing_anchor_at then billing_anchor
            else {{ utc_to_local_date('cycle_start', 'timezone') }}
        end as cycle_start_date,
        is_stub,
        -- what started the cycle: the billing anchor, a stub before it, a cadence change or a trial's end
        case when cycle_kind = 'cadence_change' and cycle_start = billing_anchor_at then 'anchor' else cycle_kind end
            as cycle_kind,
        interval_unit,
        interval_count,
        billing_time,
        billing_anchor,
        timezone,
    from cycle_starts_ranked
    where start_rank = 1

)

select * from final

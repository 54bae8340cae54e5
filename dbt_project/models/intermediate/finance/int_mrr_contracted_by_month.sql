{{ config(materialized='table') }}

{#- Contracted MRR per customer and month: the fixed fee of the subscription in force at the END of the month
    (for the month of the run's as_of: at as_of), normalized to a month (a yearly fee / 12, a weekly fee x 52 / 12,
    divided by the interval count) and multiplied by the seats, in integer minor units rounded half up.
    Months are calendar months of the revenue time zone. The month spine is generated: every month from the
    month of the customer's first subscription start through the month of as_of, whatever the subscriptions' ends
    (open-ended subscriptions included), with no hard-coded first month. A trial, or no subscription, is 0. -#}
with

subscriptions as (

    select * from {{ ref('stg_subscriptions') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

segments as (

    select * from {{ ref('int_subscription_segments_priced') }}
    where scenario = 'actual' and is_plan_priced and not is_trial

),

plans as (

    select * from {{ ref('stg_pricing_plans') }}
    where scenario = 'actual'

),

run as (

    select
        {{ as_of_timestamp() }} as as_of,
        date_trunc('month', {{ revenue_date_of(as_of_timestamp()) }})::date as as_of_month,

),

first_subscriptions as (

    select
        customer_id,
        date_trunc('month', {{ revenue_date_of('min(started_at)') }})::date as first_subscription_month,
    from subscriptions
    group by customer_id

),

customer_months as (

    select
        first_subscriptions.customer_id,
        customers.currency,
        first_subscriptions.first_subscription_month,
        unnest(generate_series(
            first_subscriptions.first_subscription_month, run.as_of_month, interval 1 month
        ))::date as mrr_month,
    from first_subscriptions
    inner join customers
        on first_subscriptions.customer_id = customers.customer_id
    cross join run
    where first_subscriptions.first_subscription_month <= run.as_of_month

),

measured as (

    select
        customer_months.*,
        -- the instant the month's MRR is read at: its end, or as_of for the month as_of falls in
        least({{ revenue_day_start("customer_months.mrr_month + interval 1 month") }}, run.as_of) as measured_at,
    from customer_months
    cross join run

),

-- the segment in force at measured_at: started before it and not ended before it (a subscription ending exactly
-- at the month end was in force for the whole month, so it churns in the next month)
in_force as (

    select
        measured.customer_id,
        measured.mrr_month,
        segments.subscription_id,
        segments.plan_id,
        segments.pricing_version,
        segments.quantity,
        segments.base_fee_amount,
        segments.minor_unit_digits,
        plans.interval_unit,
        plans.interval_count,
    from measured
    inner join segments
        on
            measured.customer_id = segments.customer_id
            and measured.measured_at > segments.segment_start
            and measured.measured_at <= segments.segment_end
    inner join plans
        on
            segments.pricing_version = plans.pricing_version
            and segments.plan_id = plans.plan_id
            and segments.currency = plans.currency

),

normalized as (

    select
        *,
        -- fee per period x seats x months-per-period factor, as an exact fraction multiplier / divisor
        case interval_unit when 'week' then 52 else 1 end as period_multiplier,
        case interval_unit when 'year' then 12 when 'week' then 12 else 1 end * interval_count as period_divisor,
    from in_force

),

priced as (

    select
        customer_id,
        mrr_month,
        subscription_id,
        plan_id,
        pricing_version,
        quantity,
        interval_unit,
        interval_count,
        -- half up, in integers: (n + d / 2) // d with n >= 0
        (
            (
                (base_fee_amount * 1000000000000)::hugeint * quantity * period_multiplier
                * {{ finance_minor_factor('minor_unit_digits') }}
                + 1000000000000::hugeint * period_divisor // 2
            )
            // (1000000000000::hugeint * period_divisor)
        )::bigint as contracted_mrr_minor,
    from normalized

),

final as (

    select
        measured.customer_id,
        measured.mrr_month,
        measured.currency,
        measured.first_subscription_month,
        measured.measured_at,
        priced.subscription_id,
        priced.plan_id,
        priced.pricing_version,
        priced.quantity as seats,
        priced.interval_unit,
        priced.interval_count,
        coalesce(priced.contracted_mrr_minor, 0)::bigint as contracted_mrr_minor,
    from measured
    left join priced
        on
            measured.customer_id = priced.customer_id
            and measured.mrr_month = priced.mrr_month

)

select * from final

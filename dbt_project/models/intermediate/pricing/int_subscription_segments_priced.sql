{{ config(materialized='table') }}

{#- Subscription segments (int_subscriptions_windowed) with the plan that prices them in each scenario: the
    plan's price in the customer's currency, from the pricing version of the window. `is_plan_priced` is false
    when that version has no such plan in that currency; a singular test fails the build on it, so nothing is
    billed at a guessed price. -#}
with

windows_versioned as (

    select * from {{ ref('int_billing_windows_versioned') }}

),

subscription_segments as (

    select * from {{ ref('int_subscriptions_windowed') }}

),

pricing_plans as (

    select * from {{ ref('stg_pricing_plans') }}

),

final as (

    select
        windows_versioned.scenario,
        subscription_segments.customer_id,
        windows_versioned.currency,
        windows_versioned.timezone,
        windows_versioned.window_start_date,
        windows_versioned.window_end_date,
        subscription_segments.window_start,
        subscription_segments.window_end,
        subscription_segments.period_start,
        subscription_segments.period_end,
        windows_versioned.is_closed as is_window_closed,
        windows_versioned.pricing_version,
        windows_versioned.pricing_version_source,
        subscription_segments.subscription_id,
        subscription_segments.plan_id,
        pricing_plans.plan_name,
        subscription_segments.quantity,
        subscription_segments.segment_start,
        subscription_segments.segment_end,
        subscription_segments.is_trial,
        subscription_segments.covers_window_start,
        subscription_segments.covers_window_end,
        subscription_segments.ends_in_termination,
        subscription_segments.start_proration_behavior,
        subscription_segments.end_proration_behavior,
        pricing_plans.plan_id is not null as is_plan_priced,
        pricing_plans.minor_unit_digits,
        pricing_plans.rounding_mode,
        pricing_plans.proration_unit,
        pricing_plans.base_fee_amount,
        pricing_plans.base_fee_timing,
        pricing_plans.minimum_spend_amount,
    from subscription_segments
    inner join windows_versioned
        on
            subscription_segments.customer_id = windows_versioned.customer_id
            and subscription_segments.window_start = windows_versioned.window_start
    left join pricing_plans
        on
            windows_versioned.scenario = pricing_plans.scenario
            and windows_versioned.pricing_version = pricing_plans.pricing_version
            and subscription_segments.plan_id = pricing_plans.plan_id
            and windows_versioned.currency = pricing_plans.currency

)

select * from final

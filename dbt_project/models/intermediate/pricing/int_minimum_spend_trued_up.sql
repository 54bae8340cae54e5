{{ config(materialized='table') }}

{#- A plan's minimum spend is per window and subscription, on that subscription's usage charges (exact, before
    rounding), prorated like the fixed fee by the share of the full period the subscription covered (Lago's
    spending minimum). When the charges fall below it, a true-up line bills the difference on the same invoice as
    the usage (DECISIONLOG.md). -#}
with

subscription_segments as (

    select * from {{ ref('int_subscription_segments_priced') }}
    where is_plan_priced and minimum_spend_amount is not null

),

usage_charges as (

    select * from {{ ref('int_usage_charges_priced') }}

),

subscription_windows as (

    select
        scenario,
        customer_id,
        currency,
        window_start,
        window_end,
        pricing_version,
        subscription_id,
        plan_id,
        plan_name,
        minor_unit_digits,
        rounding_mode,
        minimum_spend_amount,
        any_value(
            case proration_unit
                when 'day'
                    then date_diff('day', {{ utc_to_local_date('period_start', 'timezone') }}, window_end_date)
                else {{ seconds_between('period_start', 'window_end') }}
            end
        ) as units_in_period,
        sum(
            case proration_unit
                when 'day'
                    then date_diff(
                        'day',
                        {{ utc_to_local_date('segment_start', 'timezone') }},
                        {{ utc_to_local_date('segment_end', 'timezone') }}
                    )
                else {{ seconds_between('segment_start', 'segment_end') }}
            end
        ) as units_covered,
    from subscription_segments
    group by
        scenario, customer_id, currency, window_start, window_end, pricing_version, subscription_id, plan_id,
        plan_name, minor_unit_digits, rounding_mode, minimum_spend_amount

),

minimums_prorated as (

    select
        *,
        {{ exact_fraction('minimum_spend_amount', 'units_covered', 'units_in_period') }} as minimum_amount,
    from subscription_windows

),

usage_totals as (

    select
        scenario,
        customer_id,
        window_start,
        subscription_id,
        {{ as_amount('sum(amount)') }} as usage_amount,
    from usage_charges
    group by scenario, customer_id, window_start, subscription_id

),

final as (

    select
        minimums_prorated.scenario,
        minimums_prorated.customer_id,
        minimums_prorated.currency,
        minimums_prorated.window_end as billing_at,
        'minimum_spend_true_up' as line_type,
        minimums_prorated.subscription_id,
        minimums_prorated.plan_id,
        minimums_prorated.plan_name,
        minimums_prorated.pricing_version,
        minimums_prorated.minimum_spend_amount,
        minimums_prorated.minimum_amount,
        coalesce(usage_totals.usage_amount, 0) as usage_amount,
        minimums_prorated.window_start as period_start,
        minimums_prorated.window_end as period_end,
        minimums_prorated.window_start,
        minimums_prorated.window_end,
        {{ as_amount('minimums_prorated.minimum_amount - coalesce(usage_totals.usage_amount, 0)') }} as amount,
        minimums_prorated.minor_unit_digits,
        minimums_prorated.rounding_mode,
    from minimums_prorated
    left join usage_totals
        on
            minimums_prorated.scenario = usage_totals.scenario
            and minimums_prorated.customer_id = usage_totals.customer_id
            and minimums_prorated.window_start = usage_totals.window_start
            and minimums_prorated.subscription_id = usage_totals.subscription_id
    where coalesce(usage_totals.usage_amount, 0) < minimums_prorated.minimum_amount

)

select * from final

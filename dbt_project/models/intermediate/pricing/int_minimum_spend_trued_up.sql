{{ config(materialized='table') }}

{#- A plan's minimum spend is per window and subscription, on that subscription's usage charges (exact, before
    rounding), prorated like the fixed fee by the share of the full period the subscription covered (Lago's
    spending minimum). When the charges fall below it, a true-up line bills the difference on the same invoice as
    the usage (DECISIONLOG.md). A true-up whose usage has a held line (too large to price), or whose minimum is
    more than a line can hold, is held too (amount 0, `hold_reason`): its invoice waits. -#}
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
        window_start_date,
        window_end_date,
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
                    then date_diff(
                            'day',
                            {{ utc_to_local_date('period_start', 'timezone') }},
                            {{ utc_to_local_date('period_end', 'timezone') }}
                        )
                -- the full period, also for a window closed early by a cadence change
                else {{ seconds_between('period_start', 'period_end') }}
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
                        -- the day a subscription is terminated counts as used (Lago)
                        + case when coalesce(ends_in_termination, false) then 1 else 0 end
                else {{ seconds_between('segment_start', 'segment_end') }}
            end
        ) as units_covered,
    from subscription_segments
    group by
        scenario, customer_id, currency, window_start, window_end, window_start_date, window_end_date,
        pricing_version, subscription_id, plan_id, plan_name, minor_unit_digits, rounding_mode, minimum_spend_amount

),

minimums_prorated as (

    select
        *,
        {{ exact_fraction('minimum_spend_amount', 'units_covered', 'units_in_period') }} as minimum_amount,
    from subscription_windows

),

-- the floating-point estimate of the window's usage decides whether its exact sum can be taken at all (each line
-- is exact and below the line limit, or held with amount 0, but many lines could still sum above what the type holds)
usage_estimated as (

    select
        *,
        sum(amount::double) over (partition by scenario, customer_id, window_start, subscription_id)
            as usage_estimate,
    from usage_charges

),

usage_totals as (

    select
        scenario,
        customer_id,
        window_start,
        subscription_id,
        count(hold_reason) > 0 as has_held_usage,
        {{ as_amount(
            'sum(amount) filter (where ' ~ fits_in_a_line('usage_estimate', '0') ~ ')'
        ) }} as usage_amount,
    from usage_estimated
    group by scenario, customer_id, window_start, subscription_id

),

trued_up as (

    select
        minimums_prorated.*,
        usage_totals.usage_amount,
        case
            when
                usage_totals.has_held_usage
                or (usage_totals.window_start is not null and usage_totals.usage_amount is null)
                then 'the minimum spend true-up of ' || minimums_prorated.plan_name || ' in '
                    || strftime(minimums_prorated.window_start_date, '%Y-%m-%d') || '..'
                    || strftime(minimums_prorated.window_end_date, '%Y-%m-%d')
                    || ' waits for its usage, which is too large to price'
            when not {{ fits_in_a_line(
                'minimums_prorated.minimum_amount::double', 'minimums_prorated.minor_unit_digits'
            ) }}
                then {{ line_hold_reason(
                    "'the minimum spend of ' || minimums_prorated.plan_name",
                    'minimums_prorated.minimum_amount::double', 'minimums_prorated.currency',
                    'minimums_prorated.minor_unit_digits', "'check the plan''s minimum_spend'"
                ) }}
        end as hold_reason,
    from minimums_prorated
    left join usage_totals
        on
            minimums_prorated.scenario = usage_totals.scenario
            and minimums_prorated.customer_id = usage_totals.customer_id
            and minimums_prorated.window_start = usage_totals.window_start
            and minimums_prorated.subscription_id = usage_totals.subscription_id

),

final as (

    select
        scenario,
        customer_id,
        currency,
        window_end as billing_at,
        'minimum_spend_true_up' as line_type,
        subscription_id,
        plan_id,
        plan_name,
        pricing_version,
        minimum_spend_amount,
        minimum_amount,
        coalesce(usage_amount, 0) as usage_amount,
        window_start as period_start,
        window_end as period_end,
        window_end_date as billing_date,
        window_start_date as period_start_date,
        window_end_date as period_end_date,
        window_start,
        window_end,
        case
            when hold_reason is null then {{ as_amount('minimum_amount - coalesce(usage_amount, 0)') }}
            else {{ as_amount('0') }}
        end as amount,
        hold_reason,
        minor_unit_digits,
        rounding_mode,
    from trued_up
    where hold_reason is not null or coalesce(usage_amount, 0) < minimum_amount

)

select * from final

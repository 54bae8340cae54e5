{{ config(materialized='table') }}

{#- Each revenue line's amount_minor spread over the revenue days (dbt var `revenue_timezone`) its period covers,
    in integer minor units that sum EXACTLY to the line.
    Weights: `ratable` lines by the seconds of the line's period that fall on the day (a whole day for a period
    from midnight to midnight, a part for a period starting mid-day, e.g. a plan change); `usage_quantity` lines by
    the day's billable quantity (or event count) of the line's subscription and metric; a usage line whose days
    have no quantity at all (a tier's flat fee on an empty window) falls back to ratable.
    Rounding: cumulative allocation. Day k gets floor(|A| x W_k / W) - floor(|A| x W_(k-1) / W) (sign restored),
    where W_k is the running weight through day k and W the line's total: every day gets its share rounded down
    and the remainders are carried forward to the day on which the running total crosses the next minor unit, so
    the last day closes the line exactly. Integer arithmetic only (HUGEINT), no floating point. -#}
with

lines as (

    select * from {{ ref('int_revenue_lines_typed') }}

),

usage_days as (

    select * from {{ ref('int_usage_daily_quantities') }}

),

lines_spanned as (

    select
        *,
        {{ revenue_date_of('period_start') }} as first_day,
        -- the period is half-open: its last day is the one holding its last microsecond (at least the first day)
        greatest(
            {{ revenue_date_of('period_start') }},
            {{ revenue_date_of("period_end - interval 1 microsecond") }}
        ) as last_day,
    from lines

),

line_days as (

    select
        *,
        unnest(generate_series(first_day, last_day, interval 1 day))::date as revenue_date,
    from lines_spanned

),

line_days_timed as (

    select
        *,
        greatest(
            date_diff(
                'second',
                greatest(period_start, {{ revenue_day_start('revenue_date') }}),
                least(period_end, {{ revenue_day_start('revenue_date + 1') }})
            ),
            0
        )::hugeint as seconds_on_day,
    from line_days

),

line_days_weighed as (

    select
        line_days_timed.*,
        -- quantities have at most 12 decimals: scaled to exact integers
        case
            when line_days_timed.allocation_basis = 'usage_quantity'
                then coalesce((usage_days.usage_weight * 1000000000000)::hugeint, 0)
            else 0
        end as usage_units_on_day,
    from line_days_timed
    left join usage_days
        on
            line_days_timed.allocation_basis = 'usage_quantity'
            and line_days_timed.customer_id = usage_days.customer_id
            and line_days_timed.subscription_id = usage_days.subscription_id
            and line_days_timed.metric = usage_days.metric
            and line_days_timed.revenue_date = usage_days.revenue_date
            and line_days_timed.period_start <= usage_days.window_start
            and line_days_timed.period_end > usage_days.window_start

),

line_totals as (

    select
        *,
        sum(usage_units_on_day) over (partition by line_id) as usage_units_of_line,
        sum(seconds_on_day) over (partition by line_id) as seconds_of_line,
    from line_days_weighed

),

weights_chosen as (

    select
        *,
        case
            when allocation_basis = 'usage_quantity' and usage_units_of_line > 0 then 'usage_quantity'
            when seconds_of_line > 0 then 'ratable'
            -- an empty period (start = end): everything on its single day
            else 'single_day'
        end as allocation_basis_used,
        case
            when allocation_basis = 'usage_quantity' and usage_units_of_line > 0 then usage_units_on_day
            when seconds_of_line > 0 then seconds_on_day
            else 1::hugeint
        end as weight,
    from line_totals

),

cumulated as (

    select
        *,
        sum(weight) over (
            partition by line_id order by revenue_date rows between unbounded preceding and current row
        ) as running_weight,
        sum(weight) over (partition by line_id) as line_weight,
    from weights_chosen

),

allocated_to_date as (

    select
        *,
        sign(amount_minor) * ((abs(amount_minor)::hugeint * running_weight) // line_weight) as allocated_through_day,
    from cumulated

),

final as (

    select
        line_id,
        invoice_id,
        customer_id,
        revenue_date,
        date_trunc('month', revenue_date)::date as revenue_month,
        revenue_type,
        line_type,
        subscription_id,
        plan_id,
        metric,
        currency,
        minor_unit_digits,
        billing_at,
        billed_on,
        date_trunc('month', billed_on)::date as billed_month,
        allocation_basis_used as allocation_basis,
        amount_minor as line_amount_minor,
        (
            allocated_through_day
            - coalesce(lag(allocated_through_day) over (partition by line_id order by revenue_date), 0)
        )::bigint as amount_minor,
    from allocated_to_date

)

select * from final

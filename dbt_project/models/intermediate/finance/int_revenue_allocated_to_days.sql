{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='line_id',
    on_schema_change='fail',
    post_hook=["{{ revenue_drafts_gone_deleted() }}"],
) }}

{#- Each revenue line's amount_minor spread over the revenue days (dbt var `revenue_timezone`) its period covers,
    in integer minor units that sum EXACTLY to the line.
    Weights: `ratable` lines by the seconds of the line's period that fall on the day (a whole day for a period
    from midnight to midnight, a part for a period starting mid-day, e.g. a plan change); `usage_quantity` lines by
    the day's billable quantity (or event count) of the line's subscription and metric; a usage line whose days
    have no quantity at all (a tier's flat fee on an empty window) falls back to ratable.
    Rounding: cumulative allocation. Day k gets floor(|A| x W_k / W) - floor(|A| x W_(k-1) / W) (sign restored),
    where W_k is the running weight through day k and W the line's total: every day gets its share rounded down
    and the remainders are carried forward to the day on which the running total crosses the next minor unit, so
    the last day closes the line exactly. Integer arithmetic only (HUGEINT), no floating point.
    For ratable lines the running weight is the seconds from the period's start to the day's end, computed
    directly (no window function over millions of line-days); only usage-weighted lines need a running sum.
    Incremental: an issued line never changes, so it is allocated once, by the run that issues it (watermark:
    the latest `issued_at` stored); drafts are allocated afresh by every run, and the rows of drafts that are gone
    (issued under their own id, re-cut or dropped) are deleted by the post-hook. A daily run therefore costs the
    day's new lines, not the history. One difference from a full refresh, on purpose: an issued usage line keeps
    the day spread of the usage known when it was allocated; a later late event reaches revenue as its adjustment
    line, and only `--full-refresh` spreads old lines again with all the usage known now (same line totals, days
    within the line's period). The rows written by a run carry its `allocated_at`, the watermark of the revenue
    marts downstream. Changing `revenue_timezone` needs `--full-refresh`. -#}
with

all_lines as (

    select * from {{ ref('int_revenue_lines_typed') }}

),

lines as (

    select * from all_lines
    {% if is_incremental() %}
        where
            not is_issued
            or issued_at > (
                select coalesce(max(allocated.issued_at), timestamp '0001-01-01') from {{ this }} as allocated
            )
    {% endif %}

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
        greatest(date_diff('second', period_start, period_end), 0)::hugeint as seconds_of_line,
    from lines

),

line_days as (

    select
        *,
        unnest(generate_series(first_day, last_day, interval 1 day))::date as revenue_date,
    from lines_spanned

),

-- usage lines of `sum`/`count` metrics: the day's quantity, when the window had any
usage_line_days as (

    select
        line_days.*,
        coalesce((usage_days.usage_weight * 1000000000000)::hugeint, 0) as weight,
    from line_days
    left join usage_days
        on
            line_days.customer_id = usage_days.customer_id
            and line_days.subscription_id = usage_days.subscription_id
            and line_days.metric = usage_days.metric
            and line_days.revenue_date = usage_days.revenue_date
            and line_days.period_start <= usage_days.window_start
            and line_days.period_end > usage_days.window_start
    where line_days.allocation_basis = 'usage_quantity'

),

usage_line_days_cumulated as (

    select
        *,
        sum(weight) over (
            partition by line_id order by revenue_date rows between unbounded preceding and current row
        ) as weight_through_day,
        sum(weight) over (partition by line_id) as line_weight,
    from usage_line_days

),

usage_allocated as (

    select
        *,
        'usage_quantity' as allocation_basis_used,
        weight_through_day - weight as weight_before_day,
    from usage_line_days_cumulated
    where line_weight > 0

),

-- everything else, and usage lines whose window had no quantity: by seconds
ratable_line_days as (

    select line_days.* from line_days
    where line_days.allocation_basis <> 'usage_quantity'
    union all
    select line_days.* from line_days
    where
        line_days.allocation_basis = 'usage_quantity'
        and line_days.line_id in (select usage_allocated.line_id from usage_allocated) is not true

),

ratable_allocated as (

    select
        *,
        case when seconds_of_line > 0 then 'ratable' else 'single_day' end as allocation_basis_used,
        -- an empty period (start = end) weighs 1 on its single day
        case
            when seconds_of_line = 0 then 1
            else greatest(
                    date_diff(
                        'second', period_start, least(period_end, {{ revenue_day_start('revenue_date + 1') }})
                    ),
                    0
                )
        end::hugeint as weight_through_day,
        case
            when seconds_of_line = 0 then 0
            else greatest(
                    date_diff(
                        'second', period_start, greatest(period_start, {{ revenue_day_start('revenue_date') }})
                    ),
                    0
                )
        end::hugeint as weight_before_day,
        greatest(seconds_of_line, 1) as line_weight,
    from ratable_line_days

),

allocated as (

    select
        line_id,
        invoice_id,
        customer_id,
        revenue_date,
        revenue_type,
        line_type,
        subscription_id,
        plan_id,
        metric,
        currency,
        minor_unit_digits,
        billing_at,
        billed_on,
        is_issued,
        issued_at,
        allocation_basis_used,
        amount_minor,
        weight_through_day,
        weight_before_day,
        line_weight,
    from usage_allocated
    union all
    select
        line_id,
        invoice_id,
        customer_id,
        revenue_date,
        revenue_type,
        line_type,
        subscription_id,
        plan_id,
        metric,
        currency,
        minor_unit_digits,
        billing_at,
        billed_on,
        is_issued,
        issued_at,
        allocation_basis_used,
        amount_minor,
        weight_through_day,
        weight_before_day,
        line_weight,
    from ratable_allocated

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
        is_issued,
        issued_at,
        {{ revenue_allocated_at() }} as allocated_at,
        amount_minor as line_amount_minor,
        (
            sign(amount_minor) * (
                (abs(amount_minor)::hugeint * weight_through_day) // line_weight
                - (abs(amount_minor)::hugeint * weight_before_day) // line_weight
            )
        )::bigint as amount_minor,
    from allocated

)

select * from final

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
    post_hook=["{{ revenue_days_recognized_as_of() }}", "{{ revenue_days_of_drafts_gone_deleted() }}"],
) }}

{#- Recognized revenue per customer, revenue day, revenue type and plan, in the invoice currency (integer minor
    units) and in the reporting currency. The days of every line sum exactly to the line (see
    int_revenue_allocated_to_days); days after the run's as_of are the schedule of what was billed in advance.
    Incremental: a run sums again only the customers whose line-days the allocation wrote since the last run (its
    `allocated_at` watermark) or whose rows held a draft line (the draft may be gone), and every customer when
    the fx_rates seed changed (`fx_rates_fingerprint`); the post-hooks move `is_recognized` to the new as_of and
    delete the rows of customers whose only lines were drafts that are gone. -#}
with

fx_rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

),

fx_fingerprint as (

    select {{ fx_rates_fingerprint() }} as fx_rates_fingerprint

),

line_days as (

    select * from {{ ref('int_revenue_allocated_to_days') }}
    {% if is_incremental() %}
        where
            customer_id in (
                select allocated.customer_id from {{ ref('int_revenue_allocated_to_days') }} as allocated
                where allocated.allocated_at > (
                    select coalesce(max(summed.allocated_at), timestamp '0001-01-01') from {{ this }} as summed
                )
                union all
                select summed.customer_id from {{ this }} as summed
                where summed.draft_line_count > 0
            )
            or (select fx_fingerprint.fx_rates_fingerprint from fx_fingerprint) is distinct from (
                select max(summed.fx_rates_fingerprint) from {{ this }} as summed
            )
    {% endif %}

),

run as (

    select {{ as_of_timestamp() }} as as_of

),

daily as (

    select
        customer_id,
        revenue_date,
        revenue_type,
        plan_id,
        currency,
        any_value(minor_unit_digits) as minor_unit_digits,
        sum(amount_minor)::bigint as amount_minor,
        -- a line has one row per day, so rows are distinct lines
        count(*)::integer as line_count,
        count(*) filter (where not is_issued)::integer as draft_line_count,
        max(allocated_at) as allocated_at,
    from line_days
    group by customer_id, revenue_date, revenue_type, plan_id, currency

),

final as (

    select
        daily.customer_id,
        daily.revenue_date,
        date_trunc('month', daily.revenue_date)::date as revenue_month,
        daily.revenue_type,
        daily.plan_id,
        daily.currency,
        daily.amount_minor,
        daily.line_count,
        daily.draft_line_count,
        fx_rates.reporting_currency,
        fx_rates.rate_to_reporting,
        {{ to_reporting_minor(
            'daily.amount_minor', 'daily.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }} as amount_reporting_minor,
        {{ revenue_day_start('daily.revenue_date + 1') }} <= run.as_of as is_recognized,
        daily.allocated_at,
        fx_fingerprint.fx_rates_fingerprint,
    from daily
    cross join run
    cross join fx_fingerprint
    left join fx_rates
        on
            daily.currency = fx_rates.currency
            and daily.revenue_date >= fx_rates.valid_from
            and daily.revenue_date < fx_rates.valid_to

)

select * from final

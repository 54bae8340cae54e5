{#- Recognized revenue per customer, revenue day, revenue type and plan, in the invoice currency (integer minor
    units) and in the reporting currency. The days of every line sum exactly to the line (see
    int_revenue_allocated_to_days); days after the run's as_of are the schedule of what was billed in advance. -#}
with

line_days as (

    select * from {{ ref('int_revenue_allocated_to_days') }}

),

fx_rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

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
        fx_rates.reporting_currency,
        fx_rates.rate_to_reporting,
        {{ to_reporting_minor(
            'daily.amount_minor', 'daily.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }} as amount_reporting_minor,
        {{ revenue_day_start('daily.revenue_date + 1') }} <= run.as_of as is_recognized,
    from daily
    cross join run
    left join fx_rates
        on
            daily.currency = fx_rates.currency
            and daily.revenue_date >= fx_rates.valid_from
            and daily.revenue_date < fx_rates.valid_to

)

select * from final

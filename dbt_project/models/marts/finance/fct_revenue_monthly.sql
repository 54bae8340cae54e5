{#- fct_revenue_daily rolled up to revenue months (calendar months of the revenue time zone). The reporting-
    currency amount is the sum of the daily conversions, so both tables agree to the cent. -#}
with

revenue_daily as (

    select * from {{ ref('fct_revenue_daily') }}

),

final as (

    select
        customer_id,
        revenue_month,
        revenue_type,
        plan_id,
        currency,
        sum(amount_minor)::bigint as amount_minor,
        any_value(reporting_currency) as reporting_currency,
        sum(amount_reporting_minor)::bigint as amount_reporting_minor,
        count(*)::integer as revenue_days,
        -- a month is fully recognized once its last day has ended by the run's as_of
        bool_and(is_recognized) as is_recognized,
    from revenue_daily
    group by customer_id, revenue_month, revenue_type, plan_id, currency

)

select * from final

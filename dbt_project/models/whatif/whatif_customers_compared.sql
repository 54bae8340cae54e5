{#- One row per what-if scenario and customer with an issued invoice in the range: what the customer was billed
    and would have been billed over the range, the change in the invoice currency and in the reporting currency,
    the change in percent (display only; null when nothing was billed), a flag when it exceeds the dbt var
    `whatif_flag_percent` either way, and the customer's size band by what it was billed (in the reporting
    currency): `large` the top 10% of the scenario's customers, `medium` the next 40%, `small` the rest. -#}
with

invoices as (

    select * from {{ ref('whatif_invoices_compared') }}

),

customers as (

    select
        scenario,
        customer_id,
        any_value(currency) as currency,
        any_value(reporting_currency) as reporting_currency,
        -- the plan of the customer's last invoice in the range
        arg_max(plan_id, billing_date) as plan_id,
        arg_max(scenario_plan_id, billing_date) as scenario_plan_id,
        count(*)::integer as invoice_count,
        sum(actual_minor)::bigint as actual_minor,
        sum(scenario_minor)::bigint as scenario_minor,
        sum(change_minor)::bigint as change_minor,
        sum(actual_reporting_minor)::bigint as actual_reporting_minor,
        sum(scenario_reporting_minor)::bigint as scenario_reporting_minor,
    from invoices
    group by scenario, customer_id

),

measured as (

    select
        *,
        scenario_reporting_minor - actual_reporting_minor as change_reporting_minor,
        case
            when actual_minor <> 0 then round(change_minor * 100.0 / actual_minor, 2)::decimal(18, 2)
        end as change_percent,
        case
            when change_minor > 0 then 'more'
            when change_minor < 0 then 'less'
            else 'same'
        end as direction,
        percent_rank() over (partition by scenario order by actual_reporting_minor) as size_rank,
    from customers

),

final as (

    select
        scenario,
        customer_id,
        currency,
        plan_id,
        scenario_plan_id,
        case
            when size_rank >= 0.9 then 'large'
            when size_rank >= 0.5 then 'medium'
            else 'small'
        end as size_band,
        invoice_count,
        actual_minor,
        scenario_minor,
        change_minor,
        change_percent,
        direction,
        coalesce(abs(change_percent) > {{ var('whatif_flag_percent') }}, change_minor <> 0) as is_flagged,
        reporting_currency,
        actual_reporting_minor,
        scenario_reporting_minor,
        change_reporting_minor,
    from measured

)

select * from final

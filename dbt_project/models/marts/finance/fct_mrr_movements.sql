{#- The MRR bridge: per month and invoice currency, contracted MRR at the start of the month (the previous
    month's end), each movement's total, and MRR at the end: start + new + expansion + reactivation
    + contraction + churn = end (contraction and churn are negative), tested. Reporting-currency columns convert
    every customer's MRR of both months at THIS month's rate, so they tie the same way; the difference between
    this month's reporting start and last month's reporting end is `fx_revaluation_reporting_minor`. -#}
with

mrr as (

    select * from {{ ref('fct_mrr') }}

),

monthly as (

    select
        mrr_month,
        currency,
        any_value(reporting_currency) as reporting_currency,
        sum(previous_contracted_mrr_minor)::bigint as start_mrr_minor,
        coalesce(sum(mrr_change_minor) filter (where movement = 'new'), 0)::bigint as new_mrr_minor,
        coalesce(sum(mrr_change_minor) filter (where movement = 'expansion'), 0)::bigint as expansion_mrr_minor,
        coalesce(sum(mrr_change_minor) filter (where movement = 'reactivation'), 0)::bigint
            as reactivation_mrr_minor,
        coalesce(sum(mrr_change_minor) filter (where movement = 'contraction'), 0)::bigint
            as contraction_mrr_minor,
        coalesce(sum(mrr_change_minor) filter (where movement = 'churn'), 0)::bigint as churn_mrr_minor,
        sum(contracted_mrr_minor)::bigint as end_mrr_minor,
        count(*) filter (where movement = 'new')::integer as new_customers,
        count(*) filter (where movement = 'expansion')::integer as expansion_customers,
        count(*) filter (where movement = 'reactivation')::integer as reactivation_customers,
        count(*) filter (where movement = 'contraction')::integer as contraction_customers,
        count(*) filter (where movement = 'churn')::integer as churned_customers,
        count(*) filter (where was_active_last_month)::integer as start_customers,
        count(*) filter (where is_active)::integer as end_customers,
        sum(usage_mrr_minor)::bigint as usage_mrr_minor,
        sum(previous_contracted_mrr_reporting_minor)::bigint as start_mrr_reporting_minor,
        coalesce(sum(mrr_change_reporting_minor) filter (where movement = 'new'), 0)::bigint
            as new_mrr_reporting_minor,
        coalesce(sum(mrr_change_reporting_minor) filter (where movement = 'expansion'), 0)::bigint
            as expansion_mrr_reporting_minor,
        coalesce(sum(mrr_change_reporting_minor) filter (where movement = 'reactivation'), 0)::bigint
            as reactivation_mrr_reporting_minor,
        coalesce(sum(mrr_change_reporting_minor) filter (where movement = 'contraction'), 0)::bigint
            as contraction_mrr_reporting_minor,
        coalesce(sum(mrr_change_reporting_minor) filter (where movement = 'churn'), 0)::bigint
            as churn_mrr_reporting_minor,
        sum(contracted_mrr_reporting_minor)::bigint as end_mrr_reporting_minor,
    from mrr
    group by mrr_month, currency

),

final as (

    select
        *,
        12 * end_mrr_minor as end_arr_minor,
        12 * end_mrr_reporting_minor as end_arr_reporting_minor,
        start_mrr_reporting_minor - coalesce(
            lag(end_mrr_reporting_minor) over (partition by currency order by mrr_month), 0
        ) as fx_revaluation_reporting_minor,
    from monthly

)

select * from final

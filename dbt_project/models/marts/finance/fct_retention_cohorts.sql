{#- Net and gross revenue retention of contracted MRR by signup cohort (the month a customer was first active),
    per month since signup, in the reporting currency. Monthly: the customers active last month (the base), their
    MRR now over their MRR last month. Trailing twelve months (TTM): the customers active twelve months ago, their
    MRR now over their MRR then. Net counts expansion and contraction of the base; gross caps every customer at
    its base MRR (contraction and churn only); new and reactivated customers outside the base are not counted.
    Both months are converted at the measured month's rate (constant currency), so FX moves no ratio.
    Numerators and denominators are columns too: ratios of several cohorts are sum(numerator) / sum(base). -#}
with

mrr as (

    select * from {{ ref('fct_mrr') }}
    where cohort_month is not null

),

fx_rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

),

with_year_ago as (

    select
        mrr.customer_id,
        mrr.cohort_month,
        mrr.mrr_month,
        mrr.is_active,
        mrr.reporting_currency,
        mrr.contracted_mrr_reporting_minor as mrr_now,
        mrr.previous_contracted_mrr_reporting_minor as mrr_last_month,
        coalesce({{ to_reporting_minor(
            'year_ago.contracted_mrr_minor', 'fx_rates.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }}, 0) as mrr_year_ago,
    from mrr
    left join mrr as year_ago
        on
            mrr.customer_id = year_ago.customer_id
            and year_ago.mrr_month = (mrr.mrr_month - interval 12 month)::date
    left join fx_rates
        on
            mrr.currency = fx_rates.currency
            and mrr.mrr_month >= fx_rates.valid_from
            and mrr.mrr_month < fx_rates.valid_to

),

cohort_months as (

    select
        cohort_month,
        mrr_month,
        date_diff('month', cohort_month, mrr_month) as months_since_signup,
        any_value(reporting_currency) as reporting_currency,
        count(*)::integer as cohort_customers,
        count(*) filter (where is_active)::integer as active_customers,
        sum(mrr_now)::bigint as mrr_reporting_minor,
        coalesce(sum(mrr_last_month) filter (where mrr_last_month > 0), 0)::bigint
            as monthly_base_mrr_reporting_minor,
        coalesce(sum(mrr_now) filter (where mrr_last_month > 0), 0)::bigint
            as monthly_net_retained_mrr_reporting_minor,
        coalesce(sum(least(mrr_now, mrr_last_month)) filter (where mrr_last_month > 0), 0)::bigint
            as monthly_gross_retained_mrr_reporting_minor,
        coalesce(sum(mrr_year_ago) filter (where mrr_year_ago > 0), 0)::bigint as ttm_base_mrr_reporting_minor,
        coalesce(sum(mrr_now) filter (where mrr_year_ago > 0), 0)::bigint as ttm_net_retained_mrr_reporting_minor,
        coalesce(sum(least(mrr_now, mrr_year_ago)) filter (where mrr_year_ago > 0), 0)::bigint
            as ttm_gross_retained_mrr_reporting_minor,
    from with_year_ago
    where mrr_month >= cohort_month
    group by cohort_month, mrr_month

),

final as (

    select
        *,
        {{ retention_ratio('monthly_net_retained_mrr_reporting_minor', 'monthly_base_mrr_reporting_minor') }}
            as net_revenue_retention_monthly,
        {{ retention_ratio('monthly_gross_retained_mrr_reporting_minor', 'monthly_base_mrr_reporting_minor') }}
            as gross_revenue_retention_monthly,
        {{ retention_ratio('ttm_net_retained_mrr_reporting_minor', 'ttm_base_mrr_reporting_minor') }}
            as net_revenue_retention_ttm,
        {{ retention_ratio('ttm_gross_retained_mrr_reporting_minor', 'ttm_base_mrr_reporting_minor') }}
            as gross_revenue_retention_ttm,
    from cohort_months

)

select * from final

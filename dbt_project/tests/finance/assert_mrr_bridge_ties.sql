{{ config(meta={'dagster': {'ref': {'name': 'fct_mrr_movements'}}}) }}

-- The MRR bridge ties for every month and currency: start + new + expansion + reactivation + contraction + churn
-- = end (in the invoice currency and in the reporting currency), the start is the previous month's end, and the
-- end is the sum of the customers' MRR in fct_mrr. Returns the months that do not tie.
with

movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

customer_totals as (

    select
        mrr_month,
        currency,
        sum(contracted_mrr_minor) as mrr_minor,
    from {{ ref('fct_mrr') }}
    group by mrr_month, currency

),

checked as (

    select
        movements.*,
        lag(movements.end_mrr_minor) over (
            partition by movements.currency order by movements.mrr_month
        ) as previous_end_mrr_minor,
        lag(movements.mrr_month) over (
            partition by movements.currency order by movements.mrr_month
        ) as previous_month,
        customer_totals.mrr_minor as customers_mrr_minor,
    from movements
    left join customer_totals
        on movements.mrr_month = customer_totals.mrr_month and movements.currency = customer_totals.currency

)

select * from checked
where
    start_mrr_minor + new_mrr_minor + expansion_mrr_minor + reactivation_mrr_minor + contraction_mrr_minor
    + churn_mrr_minor <> end_mrr_minor
    or start_mrr_reporting_minor + new_mrr_reporting_minor + expansion_mrr_reporting_minor
    + reactivation_mrr_reporting_minor + contraction_mrr_reporting_minor + churn_mrr_reporting_minor
    <> end_mrr_reporting_minor
    or (previous_month = mrr_month - interval 1 month and start_mrr_minor <> previous_end_mrr_minor)
    or (previous_month is null and start_mrr_minor <> 0)
    or (previous_month is not null and previous_month <> mrr_month - interval 1 month)
    or customers_mrr_minor is distinct from end_mrr_minor

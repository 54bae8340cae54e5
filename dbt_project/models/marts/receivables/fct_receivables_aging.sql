{#- The accounts-receivable aging on the run's as_of: one row per currency and age bucket (all five buckets for
    every currency with something owed, zeros included), the invoices and amount outstanding in the currency and
    converted once per row to the reporting currency at the as_of day's rate. -#}
with

receivables as (

    select * from {{ ref('fct_receivables') }}

),

fx_rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

),

run as (

    select {{ revenue_date_of(as_of_timestamp()) }} as as_of_date

),

buckets as (

    select
        bucket.bucket_order,
        bucket.age_bucket,
        bucket.age_bucket_label,
    from (
        values
        (1, 'current', 'not yet due'),
        (2, 'days_1_30', '1-30 days past due'),
        (3, 'days_31_60', '31-60 days past due'),
        (4, 'days_61_90', '61-90 days past due'),
        (5, 'days_over_90', 'more than 90 days past due')
    ) as bucket (bucket_order, age_bucket, age_bucket_label)

),

currencies as (

    select
        currency,
        max(minor_unit_digits) as minor_unit_digits,
    from receivables
    group by currency

),

grid as (

    select
        currencies.currency,
        currencies.minor_unit_digits,
        buckets.bucket_order,
        buckets.age_bucket,
        buckets.age_bucket_label,
    from currencies
    cross join buckets

),

summed as (

    select
        grid.currency,
        grid.minor_unit_digits,
        grid.bucket_order,
        grid.age_bucket,
        grid.age_bucket_label,
        count(receivables.invoice_id) as invoice_count,
        coalesce(sum(receivables.amount_outstanding_minor), 0)::bigint as amount_outstanding_minor,
    from grid
    left join receivables
        on grid.currency = receivables.currency and grid.age_bucket = receivables.age_bucket
    group by all

),

final as (

    select
        run.as_of_date,
        summed.currency,
        summed.minor_unit_digits,
        summed.bucket_order,
        summed.age_bucket,
        summed.age_bucket_label,
        summed.invoice_count,
        summed.amount_outstanding_minor,
        fx_rates.reporting_currency,
        fx_rates.reporting_minor_unit_digits,
        {{ to_reporting_minor(
            'summed.amount_outstanding_minor', 'summed.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }} as amount_outstanding_reporting_minor,
    from summed
    cross join run
    left join fx_rates
        on
            summed.currency = fx_rates.currency
            and run.as_of_date >= fx_rates.valid_from
            and run.as_of_date < fx_rates.valid_to

)

select * from final

{{ config(meta={'dagster': {'ref': {'name': 'int_revenue_fx_rates'}}}) }}

-- The fx_rates seed must give the reporting currency (dbt var `reporting_currency`) a rate of exactly 1, and every
-- invoice currency a rate valid from its first invoice. Returns what is missing or wrong.
with

rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

),

reporting_problems as (

    select
        '{{ var("reporting_currency", "USD") }}' as currency,
        'the reporting currency needs a rate of 1 in seeds/fx_rates.csv' as problem,
    where not exists (
            select 1 from rates
            where rates.currency = '{{ var("reporting_currency", "USD") }}' and rates.rate_to_reporting = 1
        )
        or exists (
            select 1 from rates
            where rates.currency = '{{ var("reporting_currency", "USD") }}' and rates.rate_to_reporting <> 1
        )

),

invoice_currencies as (

    select
        currency,
        min(billing_date) as first_billing_date,
    from {{ ref('fct_invoices') }}
    group by currency

),

missing_rates as (

    select
        invoice_currencies.currency,
        'no rate in seeds/fx_rates.csv valid from ' || invoice_currencies.first_billing_date as problem,
    from invoice_currencies
    where not exists (
            select 1 from rates
            where
                rates.currency = invoice_currencies.currency
                and rates.valid_from <= date_trunc('month', invoice_currencies.first_billing_date)
        )

)

select * from reporting_problems
union all
select * from missing_rates

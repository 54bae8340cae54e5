{#- The fx_rates seed as validity ranges: a rate holds from its `valid_from` until the next rate of the same
    currency. Each row also carries the reporting currency (dbt var `reporting_currency`) and its minor unit, so a
    join on (currency, date) gives everything a conversion needs. -#}
with

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

reporting as (

    select
        currency as reporting_currency,
        minor_unit_digits as reporting_minor_unit_digits,
    from fx_rates
    where currency = '{{ var("reporting_currency", "USD") }}'
    qualify row_number() over (order by valid_from desc) = 1

),

final as (

    select
        fx_rates.currency,
        fx_rates.minor_unit_digits,
        fx_rates.valid_from,
        coalesce(
            lead(fx_rates.valid_from) over (partition by fx_rates.currency order by fx_rates.valid_from),
            date '9999-12-31'
        ) as valid_to,
        fx_rates.rate_to_reporting,
        reporting.reporting_currency,
        reporting.reporting_minor_unit_digits,
    from fx_rates
    cross join reporting

)

select * from final

with

source as (

    select * from {{ source('raw', 'pricing_plans') }}

),

renamed as (

    select
        scenario,
        pricing_version,
        effective_from::date as effective_from,
        plan_id,
        upper(currency) as currency,
        plan_name,
        lower(interval_unit) as interval_unit,
        interval_count::integer as interval_count,
        lower(billing_time) as billing_time,
        minor_unit_digits::integer as minor_unit_digits,
        lower(rounding_mode) as rounding_mode,
        lower(proration_unit) as proration_unit,
        base_fee_amount::decimal(38, 12) as base_fee_amount,
        lower(base_fee_timing) as base_fee_timing,
        minimum_spend_amount::decimal(38, 12) as minimum_spend_amount,
        source_file,

    from source

)

select * from renamed

with

source as (

    select * from {{ source('raw', 'pricing_charge_tiers') }}

),

renamed as (

    select
        scenario,
        pricing_version,
        plan_id,
        upper(currency) as currency,
        metric,
        tier_number::integer as tier_number,
        lower_bound::decimal(38, 12) as lower_bound,
        up_to::decimal(38, 12) as up_to,
        unit_amount::decimal(38, 12) as unit_amount,
        rate::decimal(38, 12) as rate,
        flat_amount::decimal(38, 12) as flat_amount,

    from source

)

select * from renamed

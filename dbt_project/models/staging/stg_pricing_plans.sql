with

source as (

    select * from {{ source('raw', 'pricing_plans') }}

),

renamed as (

    select
        pricing_version,
        effective_from::date as effective_from,
        plan_id,
        plan_name,
        upper(currency) as currency,
        lower(interval_unit) as interval_unit,
        interval_count::integer as interval_count,
        lower(billing_time) as billing_time,

    from source

)

select * from renamed

with

source as (

    select * from {{ source('raw', 'pricing_versions') }}

),

renamed as (

    select
        scenario,
        pricing_version,
        effective_from::date as effective_from,
        lower(rounding_mode) as rounding_mode,
        source_file,

    from source

)

select * from renamed

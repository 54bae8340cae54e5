with

source as (

    select * from {{ source('raw', 'pricing_metrics') }}

),

renamed as (

    select
        pricing_version,
        metric,
        metric_name,
        lower(aggregation) as aggregation,
        unique_property,

    from source

)

select * from renamed

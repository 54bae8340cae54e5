with

source as (

    select * from {{ source('raw', 'pricing_metrics') }}

),

renamed as (

    select
        scenario,
        pricing_version,
        metric,
        metric_name,
        lower(aggregation) as aggregation,
        unique_property,
        source_file,

    from source

)

select * from renamed

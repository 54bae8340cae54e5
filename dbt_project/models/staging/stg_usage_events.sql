with

source as (

    select * from {{ source('raw', 'usage_events') }}

),

renamed as (

    select
        event_id,
        customer_id,
        metric,
        quantity::decimal(38, 12) as quantity,
        occurred_at::timestamp as occurred_at,
        properties::json as properties,
        source_file_id,
        source_row,

    from source

)

select * from renamed

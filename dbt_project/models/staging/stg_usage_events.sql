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
        -- JSON object text (validated at ingestion); int_usage_events_windowed casts it to JSON, so that
        -- aggregating does not parse every event's properties (0.36 s of CPU at 10M events)
        properties,
        source_file_id,
        source_row,

    from source

)

select * from renamed

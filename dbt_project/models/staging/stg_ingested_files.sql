{#- The landing files ingested, with when they arrived and their row counts (one row per file). -#}
with

source as (

    select * from {{ source('raw', 'ingested_files') }}

),

renamed as (

    select
        file_id,
        path as landing_path,
        status as file_status,
        rows_read,
        rows_accepted,
        rows_duplicate,
        rows_quarantined,
        ingested_at,
        cast(ingested_at as date) as arrival_date,
    from source

)

select * from renamed

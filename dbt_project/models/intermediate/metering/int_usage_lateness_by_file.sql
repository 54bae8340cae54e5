{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='file_id',
    on_schema_change='fail',
) }}

{#- How late each landing file's accepted events were, counted once, by the run that first sees the file: in a
    window still open, after their window ended but before its invoice was issued (inside the grace period, so
    billed on it), after the invoice was issued (billed as adjustments on a later invoice), or in no billing
    window at all. Lateness is a fact about the arrival, so a file is not classified again on later runs (a full
    refresh classifies every file under today's placements); a daily run reads only the new files' events. -#}
{%- set classified_through = usage_folded_through_file_id('file_id') %}

with

files as (

    select * from {{ ref('stg_ingested_files') }}
    where file_id > {{ classified_through }}

),

events as (

    select * from {{ ref('int_usage_events_windowed') }}
    where source_file_id > {{ classified_through }}

),

issued as (

    select * from {{ ref('stg_issued_invoices') }}

),

events_timed as (

    select
        events.source_file_id as file_id,
        case
            when events.window_end is null then 'not_in_a_window'
            when files.ingested_at < events.window_end then 'in_open_window'
            when issued.issued_at is null or files.ingested_at < issued.issued_at then 'after_window_before_issue'
            else 'after_issue'
        end as lateness,
    from events
    inner join files
        on events.source_file_id = files.file_id
    left join issued
        on events.customer_id = issued.customer_id and events.window_end = issued.billing_at

),

events_by_file as (

    select
        file_id,
        count(*) as events_accepted,
        count(*) filter (where lateness = 'in_open_window') as events_in_open_window,
        count(*) filter (where lateness = 'after_window_before_issue') as events_after_window_before_issue,
        count(*) filter (where lateness = 'after_issue') as events_after_issue,
        count(*) filter (where lateness = 'not_in_a_window') as events_not_in_a_window,
    from events_timed
    group by file_id

),

final as (

    select
        files.file_id,
        files.arrival_date,
        files.rows_read,
        files.rows_quarantined,
        coalesce(events_by_file.events_accepted, 0) as events_accepted,
        coalesce(events_by_file.events_in_open_window, 0) as events_in_open_window,
        coalesce(events_by_file.events_after_window_before_issue, 0) as events_after_window_before_issue,
        coalesce(events_by_file.events_after_issue, 0) as events_after_issue,
        coalesce(events_by_file.events_not_in_a_window, 0) as events_not_in_a_window,
    from files
    left join events_by_file
        on files.file_id = events_by_file.file_id

)

select * from final

{#- Metering health per arrival day (the UTC day a landing file was ingested): how many rows arrived and were
    quarantined, and how late the accepted events were: in a window still open, after their window ended but
    before its invoice was issued (inside the grace period, so still billed on it), after the invoice was issued
    (billed as adjustments on a later invoice), or in no billing window at all. Days with no file are listed
    with zeros, so a day that brought nothing shows as a drop. -#}
with

files as (

    select * from {{ ref('stg_ingested_files') }}

),

events as (

    select * from {{ ref('int_usage_events_windowed') }}

),

issued as (

    select * from {{ ref('stg_issued_invoices') }}

),

events_timed as (

    select
        files.arrival_date,
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

events_by_day as (

    select
        arrival_date,
        count(*) as events_accepted,
        count(*) filter (where lateness = 'in_open_window') as events_in_open_window,
        count(*) filter (where lateness = 'after_window_before_issue') as events_after_window_before_issue,
        count(*) filter (where lateness = 'after_issue') as events_after_issue,
        count(*) filter (where lateness = 'not_in_a_window') as events_not_in_a_window,
    from events_timed
    group by arrival_date

),

files_by_day as (

    select
        arrival_date,
        count(*) as files,
        sum(rows_read) as rows_read,
        sum(rows_quarantined) as rows_quarantined,
    from files
    group by arrival_date

),

days as (

    select unnest(generate_series(min(arrival_date), max(arrival_date), interval 1 day))::date as arrival_date,
    from files

),

final as (

    select
        days.arrival_date,
        coalesce(files_by_day.files, 0) as files,
        coalesce(files_by_day.rows_read, 0)::bigint as rows_read,
        coalesce(files_by_day.rows_quarantined, 0)::bigint as rows_quarantined,
        case
            when files_by_day.rows_read > 0
                then round(files_by_day.rows_quarantined * 100.0 / files_by_day.rows_read, 2)
        end as quarantined_percent,
        coalesce(events_by_day.events_accepted, 0) as events_accepted,
        coalesce(events_by_day.events_in_open_window, 0) as events_in_open_window,
        coalesce(events_by_day.events_after_window_before_issue, 0) as events_after_window_before_issue,
        coalesce(events_by_day.events_after_issue, 0) as events_after_issue,
        coalesce(events_by_day.events_not_in_a_window, 0) as events_not_in_a_window,
        -- the mean of the 7 days before (fewer at the start of the history), for the volume-drop check
        avg(coalesce(events_by_day.events_accepted, 0)) over (
            order by days.arrival_date rows between 7 preceding and 1 preceding
        ) as trailing_7_day_mean_events,
    from days
    left join files_by_day
        on days.arrival_date = files_by_day.arrival_date
    left join events_by_day
        on days.arrival_date = events_by_day.arrival_date

)

select * from final

{#- Metering health per arrival day (the UTC day a landing file was ingested): how many rows arrived and were
    quarantined, and how late the accepted events were: in a window still open, after their window ended but
    before its invoice was issued (inside the grace period, so still billed on it), after the invoice was issued
    (billed as adjustments on a later invoice), or in no billing window at all. Days with no file are listed
    with zeros, so a day that brought nothing shows as a drop. Summed from int_usage_lateness_by_file, which
    classifies each file's events once: no event is read here. -#}
with

files as (

    select * from {{ ref('int_usage_lateness_by_file') }}

),

files_by_day as (

    select
        arrival_date,
        count(*) as files,
        sum(rows_read) as rows_read,
        sum(rows_quarantined) as rows_quarantined,
        sum(events_accepted) as events_accepted,
        sum(events_in_open_window) as events_in_open_window,
        sum(events_after_window_before_issue) as events_after_window_before_issue,
        sum(events_after_issue) as events_after_issue,
        sum(events_not_in_a_window) as events_not_in_a_window,
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
        coalesce(files_by_day.events_accepted, 0)::bigint as events_accepted,
        coalesce(files_by_day.events_in_open_window, 0)::bigint as events_in_open_window,
        coalesce(files_by_day.events_after_window_before_issue, 0)::bigint as events_after_window_before_issue,
        coalesce(files_by_day.events_after_issue, 0)::bigint as events_after_issue,
        coalesce(files_by_day.events_not_in_a_window, 0)::bigint as events_not_in_a_window,
        -- the mean of the 7 days before (fewer at the start of the history), for the volume-drop check
        avg(coalesce(files_by_day.events_accepted, 0)) over (
            order by days.arrival_date rows between 7 preceding and 1 preceding
        ) as trailing_7_day_mean_events,
    from days
    left join files_by_day
        on days.arrival_date = files_by_day.arrival_date

)

select * from final

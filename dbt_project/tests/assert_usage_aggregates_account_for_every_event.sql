{{ config(meta={'dagster': {'ref': {'name': 'int_usage_aggregated_to_billing_windows'}}}) }}

-- Billable plus unbilled event counts equal the accepted events: no usage is lost or double counted.
with

aggregated as (

    select coalesce(sum(event_count), 0) as aggregated_event_count,
    from {{ ref('int_usage_aggregated_to_billing_windows') }}

),

events as (

    select count(*) as event_count,
    from {{ ref('stg_usage_events') }}

)

select
    aggregated.aggregated_event_count,
    events.event_count,
from aggregated
cross join events
where aggregated.aggregated_event_count <> events.event_count

{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_usage_lateness_daily'}}}) }}

-- Warns (does not block) on every arrival day whose accepted events are below half the mean of the 7 days
-- before: an exporter stopped or a partner's batch did not come, and bills would be short.
select arrival_date, events_accepted, trailing_7_day_mean_events
from {{ ref('fct_usage_lateness_daily') }}
where trailing_7_day_mean_events is not null and events_accepted * 2 < trailing_7_day_mean_events

{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_usage_lateness_daily'}}}) }}

-- Warns (does not block) on every arrival day whose quarantined share of rows read is above 2%: a sender's
-- format or clock broke, and its events are missing from the bills until corrected files land.
select arrival_date, rows_read, rows_quarantined, quarantined_percent
from {{ ref('fct_usage_lateness_daily') }}
where rows_quarantined * 50 > rows_read

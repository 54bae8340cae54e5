{{ config(materialized='view') }}

{#- The audit relation: every `actual` usage line, and every adjustment of a usage line, with the accepted events
    behind it (same customer, subscription and metric, occurred inside the line's period, billable). A usage line
    of a tiered charge has one line per tier; each lists the window's events. A view: an event-grain table would
    cost a full copy of the events on every run, and analysts read it one invoice at a time. Join
    raw.ingested_files on source_file_id for the landing file and when it arrived. -#}
with

lines as (

    select * from {{ ref('fct_invoice_lines') }}
    where scenario = 'actual' and metric is not null and line_type in ('usage', 'adjustment')

),

events as (

    select * from {{ ref('int_usage_events_windowed') }}
    where billing_status = 'billable'

),

final as (

    select
        lines.line_id,
        lines.invoice_id,
        lines.invoice_status,
        lines.line_type,
        lines.adjusted_invoice_id,
        lines.customer_id,
        lines.subscription_id,
        lines.metric,
        lines.tier,
        lines.period_start,
        lines.period_end,
        events.event_id,
        events.occurred_at,
        events.quantity,
        events.source_file_id,
        events.source_row,
    from lines
    inner join events
        on
            lines.customer_id = events.customer_id
            and lines.subscription_id = events.subscription_id
            and lines.metric = events.metric
            and lines.period_start <= events.occurred_at
            and lines.period_end > events.occurred_at

)

select * from final

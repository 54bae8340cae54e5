{#- For people investigating usage that is not on any invoice: every accepted event that is not billable, with
    the reason in plain words. -#}
with

events_windowed as (

    select * from {{ ref('int_usage_events_windowed') }}

),

final as (

    select
        event_id,
        customer_id,
        metric,
        quantity,
        occurred_at,
        properties,
        billing_status,
        unbilled_reason,
        source_file_id,
        source_row,

    from events_windowed
    where billing_status <> 'billable'

)

select * from final

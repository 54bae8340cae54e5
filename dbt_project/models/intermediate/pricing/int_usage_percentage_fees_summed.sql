{{ config(materialized='table') }}

{#- Percentage charges (Lago) are priced per event: rate x the event's amount plus the fixed fee per event,
    clamped to the per-event minimum and maximum; the window's charge is the exact sum. Only events of metrics with
    a percentage charge are read (an empty charge list reads none). -#}
with

events_windowed as (

    select * from {{ ref('int_usage_events_windowed') }}
    where billing_status = 'billable'

),

windows_versioned as (

    select * from {{ ref('int_billing_windows_versioned') }}

),

percentage_charges as (

    select * from {{ ref('stg_pricing_charges') }}
    where charge_model = 'percentage'

),

events_charged as (

    select
        windows_versioned.scenario,
        events_windowed.customer_id,
        events_windowed.window_start,
        events_windowed.subscription_id,
        events_windowed.metric,
        events_windowed.quantity,
        {{ as_amount(
            'events_windowed.quantity * (percentage_charges.rate * 0.01)::decimal(38, 14)'
            ~ ' + coalesce(percentage_charges.fixed_fee_per_event, 0)'
        ) }} as unclamped_fee,
        percentage_charges.per_event_min_amount,
        percentage_charges.per_event_max_amount,
    from events_windowed
    inner join windows_versioned
        on
            events_windowed.customer_id = windows_versioned.customer_id
            and events_windowed.window_start = windows_versioned.window_start
    inner join percentage_charges
        on
            windows_versioned.scenario = percentage_charges.scenario
            and windows_versioned.pricing_version = percentage_charges.pricing_version
            and events_windowed.plan_id = percentage_charges.plan_id
            and windows_versioned.currency = percentage_charges.currency
            and events_windowed.metric = percentage_charges.metric

),

final as (

    select
        scenario,
        customer_id,
        window_start,
        subscription_id,
        metric,
        count(*) as event_count,
        sum(quantity) as summed_quantity,
        {{ as_amount(
            'sum(least(greatest(unclamped_fee, coalesce(per_event_min_amount, unclamped_fee)),'
            ~ ' coalesce(per_event_max_amount, unclamped_fee)))'
        ) }} as fee_amount,
    from events_charged
    group by scenario, customer_id, window_start, subscription_id, metric

)

select * from final

{#- A view on purpose: at 10M events an event-grain table costs seconds to write on every run. Windows and
    subscriptions are found with ASOF joins (sort-merge on customer and time), not range joins. -#}
with

events as (

    select * from {{ ref('stg_usage_events') }}

),

billing_windows as (

    select
        customer_id,
        window_start,
        window_end,
    from {{ ref('int_billing_windows') }}

),

subscriptions as (

    select
        customer_id,
        subscription_id,
        plan_id,
        started_at,
        coalesce(ended_at, 'infinity'::timestamp) as ended_at,
    from {{ ref('stg_subscriptions') }}

),

-- small: one row per customer, so the per-event work is a hash lookup and no time zone conversion
customer_anchors as (

    select
        customer_id,
        billing_anchor,
        timezone,
        {{ local_midnight_to_utc('billing_anchor', 'timezone') }} as billing_anchor_at,
    from {{ ref('stg_customers') }}

),

run as (

    select {{ as_of_timestamp() }} as as_of

),

events_windowed as (

    select
        events.*,
        billing_windows.window_start,
        billing_windows.window_end,
    from events
    asof left join billing_windows
        on
            events.customer_id = billing_windows.customer_id
            and events.occurred_at >= billing_windows.window_start

),

events_subscribed as (

    select
        events_windowed.*,
        subscriptions.subscription_id,
        subscriptions.plan_id,
        subscriptions.ended_at as subscription_ended_at,
    from events_windowed
    asof left join subscriptions
        on
            events_windowed.customer_id = subscriptions.customer_id
            and events_windowed.occurred_at >= subscriptions.started_at

),

classified as (

    select
        events_subscribed.*,
        customer_anchors.billing_anchor,
        customer_anchors.timezone as customer_timezone,
        run.as_of,
        case
            when events_subscribed.occurred_at >= run.as_of
                then 'after_as_of'
            when events_subscribed.occurred_at < customer_anchors.billing_anchor_at
                then 'before_billing_anchor'
            when
                events_subscribed.window_start is null
                or events_subscribed.occurred_at >= events_subscribed.window_end
                or events_subscribed.subscription_id is null
                or events_subscribed.occurred_at >= events_subscribed.subscription_ended_at
                then 'outside_subscription'
            else 'billable'
        end as billing_status,
    from events_subscribed
    cross join run
    left join customer_anchors
        on events_subscribed.customer_id = customer_anchors.customer_id

),

final as (

    select
        event_id,
        customer_id,
        metric,
        quantity,
        occurred_at,
        properties,
        source_file_id,
        source_row,
        billing_status,
        -- the window and subscription are only kept for billable events (unbilled usage has no invoice line)
        case when billing_status = 'billable' then window_start end as window_start,
        case when billing_status = 'billable' then window_end end as window_end,
        case when billing_status = 'billable' then subscription_id end as subscription_id,
        case when billing_status = 'billable' then plan_id end as plan_id,
        case billing_status
            when 'after_as_of'
                then 'event occurred at or after the end of this billing run (as_of '
                    || strftime(as_of, '%Y-%m-%d %H:%M:%S') || ' UTC)'
            when 'before_billing_anchor'
                then 'event occurred before the customer''s billing anchor '
                    || strftime(billing_anchor, '%Y-%m-%d') || ' (' || customer_timezone || ')'
            when 'outside_subscription'
                then
                    case
                        when billing_anchor is null
                            then 'customer is not in the customer list'
                        else 'no subscription of the customer was active at '
                            || strftime(occurred_at, '%Y-%m-%d %H:%M:%S') || ' UTC'
                    end
        end as unbilled_reason,

    from classified

)

select * from final

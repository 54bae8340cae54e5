{{ config(materialized='table') }}

{#- Each customer's time line cut into segments at every boundary that changes how usage is billed (billing
    anchor, window starts and ends, subscription starts and ends, the run's as_of). The segments cover all time,
    so the event view places an event with ONE join on the customer and the UTC month, instead of one join per
    concern. (Joining on a small integer customer key instead of customer_id needed a customer join first,
    which cost more than it saved.) -#}
with

-- billing starts at the anchor, or earlier at the start of a prorated stub (int_billing_cycles_anchored)
billing_starts as (

    select
        customer_id,
        min(cycle_start) as billing_start_at,
    from {{ ref('int_billing_cycles_anchored') }}
    group by customer_id

),

customers as (

    select
        stg_customers.customer_id,
        stg_customers.billing_anchor,
        stg_customers.timezone,
        coalesce(
            billing_starts.billing_start_at,
            {{ local_midnight_to_utc('stg_customers.billing_anchor', 'stg_customers.timezone') }}
        ) as billing_anchor_at,
    from {{ ref('stg_customers') }} as stg_customers
    left join billing_starts
        on stg_customers.customer_id = billing_starts.customer_id

),

billing_windows as (

    select * from {{ ref('int_billing_windows') }}

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

run as (

    select {{ as_of_timestamp() }} as as_of

),

boundaries as (

    select
        customer_id,
        '-infinity'::timestamp as boundary_at,
    from customers
    union
    select
        customer_id,
        billing_anchor_at,
    from customers
    union
    select
        customers.customer_id,
        run.as_of,
    from customers
    cross join run
    union
    select
        customer_id,
        window_start,
    from billing_windows
    union
    select
        customer_id,
        window_end,
    from billing_windows
    union
    select
        customer_id,
        started_at,
    from subscriptions
    union
    select
        customer_id,
        ended_at,
    from subscriptions

),

-- Boundaries before the billing anchor or after as_of change nothing (every instant there is
-- `before_billing_anchor` or `after_as_of`): dropping them leaves fewer, longer segments, and every customer's
-- segments between its first finite boundary and as_of, which bounds the months the event view lists them in.
boundaries_kept as (

    select boundaries.*,
    from boundaries
    inner join customers
        on boundaries.customer_id = customers.customer_id
    cross join run
    where
        boundaries.boundary_at = '-infinity'::timestamp
        or boundaries.boundary_at = run.as_of
        or (
            boundaries.boundary_at >= customers.billing_anchor_at
            and boundaries.boundary_at < run.as_of
        )

),

segments as (

    select
        customer_id,
        boundary_at as segment_start,
        lead(boundary_at, 1, 'infinity'::timestamp) over (
            partition by customer_id order by boundary_at
        ) as segment_end,
    from boundaries_kept

),

segments_placed as (

    select
        segments.customer_id,
        segments.segment_start,
        segments.segment_end,
        customers.billing_anchor,
        customers.timezone,
        run.as_of,
        billing_windows.window_start,
        billing_windows.window_end,
        subscriptions.subscription_id,
        subscriptions.plan_id,
        case
            when segments.segment_start >= run.as_of then 'after_as_of'
            when segments.segment_start < customers.billing_anchor_at then 'before_billing_anchor'
            when billing_windows.window_start is null or subscriptions.subscription_id is null
                then 'outside_subscription'
            else 'billable'
        end as billing_status,
    from segments
    cross join run
    inner join customers
        on segments.customer_id = customers.customer_id
    left join billing_windows
        on
            segments.customer_id = billing_windows.customer_id
            and segments.segment_start >= billing_windows.window_start
            and segments.segment_start < billing_windows.window_end
    left join subscriptions
        on
            segments.customer_id = subscriptions.customer_id
            and segments.segment_start >= subscriptions.started_at
            and segments.segment_start < subscriptions.ended_at

),

-- unbilled usage has no window or subscription
segments_classified as (

    select
        customer_id,
        segment_start,
        segment_end,
        billing_status,
        case when billing_status = 'billable' then window_start end as window_start,
        case when billing_status = 'billable' then window_end end as window_end,
        case when billing_status = 'billable' then subscription_id end as subscription_id,
        case when billing_status = 'billable' then plan_id end as plan_id,
        billing_anchor,
        timezone,
        as_of,
    from segments_placed

),

final as (

    select
        *,
        -- one key per row of int_usage_aggregated_to_billing_windows (before the metric split), so usage is
        -- grouped on a small integer
        dense_rank() over (
            order by customer_id, billing_status, window_start nulls first, subscription_id nulls first
        ) as billing_group_key,
    from segments_classified

)

select * from final

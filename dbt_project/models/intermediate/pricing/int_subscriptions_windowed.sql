{{ config(materialized='table') }}

{#- Each subscription's coverage of each billing window, split at the trial end: one row per customer, window,
    subscription and segment. A segment is the part of the window the subscription covered (plan changes, seat
    changes, starts and cancellations inside a window give several subscriptions per window); a trial segment pays
    no fixed fee. Usage is not prorated: it is priced per subscription segment from the usage aggregates. A segment
    that ends where its subscription is terminated (no subscription of the customer starts at that instant) is
    flagged: by whole days its last day counts as used (Lago), while the day of a plan change is the new plan's.
    Each segment carries the `proration_behavior` (Stripe) of the change it starts and ends with. -#}
with

billing_windows as (

    select * from {{ ref('int_billing_windows') }}

),

subscriptions as (

    select * from {{ ref('stg_subscriptions') }}

),

-- a subscription is terminated when it ends and no subscription of the customer starts at that instant (a plan
-- change ends one row and starts the next at the same instant)
subscription_starts as (

    select
        customer_id,
        started_at,
        -- one subscription at a time: at most one starts at an instant
        min(proration_behavior) as proration_behavior,
    from subscriptions
    group by customer_id, started_at

),

subscriptions_ended as (

    select
        subscriptions.*,
        subscriptions.ended_at is not null and subscription_starts.started_at is null as is_terminated,
        -- how the change at the end is prorated: the behavior of the subscription that starts there
        subscription_starts.proration_behavior as next_proration_behavior,
    from subscriptions
    left join subscription_starts
        on
            subscriptions.customer_id = subscription_starts.customer_id
            and subscriptions.ended_at = subscription_starts.started_at

),

subscription_overlaps as (

    select
        billing_windows.customer_id,
        billing_windows.window_start,
        billing_windows.window_end,
        billing_windows.period_start,
        billing_windows.period_end,
        subscriptions.subscription_id,
        subscriptions.plan_id,
        subscriptions.quantity,
        subscriptions.trial_ends_at,
        subscriptions.ended_at,
        subscriptions.is_terminated,
        subscriptions.started_at,
        subscriptions.proration_behavior,
        subscriptions.next_proration_behavior,
        greatest(billing_windows.window_start, subscriptions.started_at) as covered_start,
        least(billing_windows.window_end, coalesce(subscriptions.ended_at, 'infinity'::timestamp)) as covered_end,
    from billing_windows
    inner join subscriptions_ended as subscriptions
        on
            billing_windows.customer_id = subscriptions.customer_id
            and billing_windows.window_end > subscriptions.started_at
            and coalesce(subscriptions.ended_at, 'infinity'::timestamp) > billing_windows.window_start

),

trial_segments as (

    select
        *,
        covered_start as segment_start,
        least(covered_end, trial_ends_at) as segment_end,
        true as is_trial,
    from subscription_overlaps
    where trial_ends_at > covered_start

),

paid_segments as (

    select
        *,
        greatest(covered_start, coalesce(trial_ends_at, covered_start)) as segment_start,
        covered_end as segment_end,
        false as is_trial,
    from subscription_overlaps
    where trial_ends_at is null or trial_ends_at < covered_end

),

segments as (

    select * from trial_segments
    union all
    select * from paid_segments

),

final as (

    select
        customer_id,
        window_start,
        window_end,
        period_start,
        period_end,
        subscription_id,
        plan_id,
        quantity,
        segment_start,
        segment_end,
        is_trial,
        -- the subscription was in force (and out of trial) when the window started: its fee was billed in advance
        segment_start = window_start and not is_trial as covers_window_start,
        segment_end = window_end as covers_window_end,
        -- the segment ends inside the window because its subscription was terminated there
        is_terminated and segment_end = ended_at and segment_end < window_end as ends_in_termination,
        -- Stripe's proration_behavior of the change the segment starts with (its subscription's start inside the
        -- window) and of the change it ends with (the next subscription's); null where no change is
        case when segment_start = started_at and segment_start > window_start then proration_behavior end
            as start_proration_behavior,
        case when segment_end = ended_at then next_proration_behavior end as end_proration_behavior,
    from segments

)

select * from final

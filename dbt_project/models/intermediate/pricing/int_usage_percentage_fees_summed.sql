{{ config(materialized='table') }}

{#- Percentage charges (Lago) are priced per event: rate x the event's amount plus the fixed fee per event,
    clamped to the per-event minimum and maximum; the window's charge is the exact sum. Lago's free units, in
    occurred_at order (ties by event_id): the first `free_units_per_events` events, and the first
    `free_units_per_total_aggregation` of the window's total, are free of the rate (the free amount is the smaller
    of the two when both are set); an event among the free events whose running total is below the free amount pays
    no fixed fee; an event entirely free pays nothing, unclamped (DECISIONLOG.md). Only events of metrics with
    a percentage charge are read (an empty charge list reads none).
    Each event's fee is first estimated in floating point and summed per window (`fee_estimate`); the exact fees are
    computed only in windows whose estimate fits a line in the loosest currency (fits_in_a_line with 0 digits), so
    events at the 10^15 quantity maximum never overflow the build; elsewhere `fee_amount` is null and
    int_usage_charges_priced holds the line. -#}
{%- set fee_estimate -%}
    least(
        greatest(
            events_windowed.quantity::double * percentage_charges.rate::double / 100
            + coalesce(percentage_charges.fixed_fee_per_event, 0)::double,
            percentage_charges.per_event_min_amount::double
        ),
        percentage_charges.per_event_max_amount::double
    )
{%- endset %}
with

-- the metric filter first, so DuckDB prunes the event scan (an empty charge list reads almost nothing)
percentage_metrics as (

    select distinct metric from {{ ref('stg_pricing_charges') }}
    where charge_model = 'percentage'

),

events_windowed as (

    select * from {{ ref('int_usage_events_windowed') }}
    where
        billing_status = 'billable'
        and metric in (select percentage_metrics.metric from percentage_metrics)

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
        events_windowed.occurred_at,
        events_windowed.event_id,
        percentage_charges.free_units_per_events,
        percentage_charges.free_units_per_total_aggregation,
        coalesce(percentage_charges.free_units_per_events, 0) > 0
        or percentage_charges.free_units_per_total_aggregation is not null as has_free_units,
        percentage_charges.rate,
        percentage_charges.fixed_fee_per_event,
        {{ fee_estimate }} as fee_estimate,
        sum({{ fee_estimate }}) over (
            partition by
                windows_versioned.scenario, events_windowed.customer_id, events_windowed.window_start,
                events_windowed.subscription_id, events_windowed.metric
        ) as window_fee_estimate,
        {{ as_amount('percentage_charges.per_event_min_amount') }} as per_event_min_amount,
        {{ as_amount('percentage_charges.per_event_max_amount') }} as per_event_max_amount,
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

-- only windows of charges with free units are put in order (the running totals sort their events)
events_in_order as (

    select
        *,
        row_number() over (
            partition by scenario, customer_id, window_start, subscription_id, metric
            order by occurred_at, event_id
        ) as event_rank,
        sum(quantity) over (
            partition by scenario, customer_id, window_start, subscription_id, metric
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as running_quantity,
    from events_charged
    where has_free_units

),

events_with_free_value as (

    select
        *,
        -- the total of the first free_units_per_events events (of all events when it is not set)
        max(
            case
                when coalesce(free_units_per_events, 0) = 0 or event_rank <= free_units_per_events
                    then running_quantity
            end
        ) over (partition by scenario, customer_id, window_start, subscription_id, metric) as free_events_total,
    from events_in_order

),

events_freed as (

    select
        * exclude (event_rank, running_quantity, free_events_total),
        -- the part of the event above the free amount
        greatest(
            running_quantity - greatest(running_quantity - quantity, free_value),
            0
        ) as rated_quantity,
        (coalesce(free_units_per_events, 0) = 0 or event_rank <= free_units_per_events)
        and (free_units_per_total_aggregation is null or running_quantity < free_units_per_total_aggregation)
            as is_fixed_fee_waived,
    from (
        select
            *,
            least(coalesce(free_units_per_total_aggregation, free_events_total), free_events_total) as free_value,
        from events_with_free_value
    ) as events_valued

),

events_rated as (

    select
        *,
        quantity as rated_quantity,
        false as is_fixed_fee_waived,
    from events_charged
    where not has_free_units
    union all by name
    select * exclude (free_value) from events_freed

),

events_priced as (

    select
        *,
        has_free_units and rated_quantity = 0 and is_fixed_fee_waived as is_free,
        case
            when {{ fits_in_a_line('window_fee_estimate', '0') }}
                -- every term in the amount type: DuckDB resolves greatest(DECIMAL(38, 26), DECIMAL(38, 12)) to scale 12
                then {{ as_amount('rated_quantity * (rate * 0.01)::decimal(38, 14)') }}
                    + case
                        when is_fixed_fee_waived then {{ as_amount('0') }}
                        else {{ as_amount('coalesce(fixed_fee_per_event, 0)') }}
                    end
        end as unclamped_fee,
    from events_rated

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
        any_value(window_fee_estimate) as fee_estimate,
        -- greatest() and least() skip nulls (on DuckDB and Postgres), so an absent minimum or maximum is no bound;
        -- null in a window too large to price (unclamped_fee is null on every one of its events)
        {{ as_amount(
            'sum(case when is_free then ' ~ as_amount('0')
            ~ ' else least(greatest(unclamped_fee, per_event_min_amount), per_event_max_amount) end)'
            ~ ' filter (where unclamped_fee is not null)'
        ) }} as fee_amount,
    from events_priced
    group by scenario, customer_id, window_start, subscription_id, metric

)

select * from final

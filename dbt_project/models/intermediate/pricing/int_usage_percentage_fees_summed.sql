{{ config(materialized='table') }}

{#- Percentage charges (Lago) are priced per event: rate x the event's amount plus the fixed fee per event,
    clamped to the per-event minimum and maximum; the window's charge is the exact sum. Only events of metrics with
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

events_priced as (

    select
        *,
        case
            when {{ fits_in_a_line('window_fee_estimate', '0') }}
                -- every term in the amount type: DuckDB resolves greatest(DECIMAL(38, 26), DECIMAL(38, 12)) to scale 12
                then {{ as_amount('quantity * (rate * 0.01)::decimal(38, 14)') }}
                    + {{ as_amount('coalesce(fixed_fee_per_event, 0)') }}
        end as unclamped_fee,
    from events_charged

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
            'sum(least(greatest(unclamped_fee, per_event_min_amount), per_event_max_amount))'
            ~ ' filter (where unclamped_fee is not null)'
        ) }} as fee_amount,
    from events_priced
    group by scenario, customer_id, window_start, subscription_id, metric

)

select * from final

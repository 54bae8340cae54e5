{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
) }}

{#- Usage of `sum` and `count` metrics per customer, subscription, billing window, metric, billing status and
    revenue day (dbt var `revenue_timezone`), kept from run to run like int_usage_aggregates_accumulated: a daily
    run adds the new files' events to the stored days (counts and sums add), places again the events after the
    stored as_of when as_of moved forward (macro usage_advanced_customers) and re-aggregates in full only the
    customers whose placement changed (macro usage_refolded_customers). Unbilled days are kept so that events
    placed after as_of are known when a later as_of bills them. Changing `revenue_timezone` needs
    `--full-refresh`. -#}
{%- set summable = "aggregation in ('sum', 'count')" %}

with

run as (

    select {{ as_of_timestamp() }} as as_of

),

fingerprints as (

    select * from {{ ref('int_customers_fingerprinted') }}

),

{% if is_incremental() %}

    stored as (

        select * from {{ this }}

    ),

    refolded_customers as (

        {{ usage_refolded_customers('stored') }}

    ),

    -- customers with usage after the stored as_of, which has moved forward: those events are placed again
    advanced_customers as (

        {{ usage_advanced_customers('stored', 'refolded_customers') }}

    ),

    events_to_fold as (

        {{ usage_events_to_fold('refolded_customers', 'advanced_customers', summable) }}

    ),

{% else %}

    events_to_fold as (

        select * from {{ ref('int_usage_events_windowed') }}
        where {{ summable }}

    ),

{% endif %}

folded as (

    select
        customer_id,
        subscription_id,
        window_start,
        metric,
        billing_status,
        {{ revenue_date_of('occurred_at') }} as revenue_date,
        any_value(aggregation) as aggregation,
        count(*) as event_count,
        sum(quantity)::decimal(38, 12) as sum_quantity,
        max(source_file_id) as max_source_file_id,
    from events_to_fold
    group by customer_id, subscription_id, window_start, metric, billing_status, revenue_date

),

{% if is_incremental() %}

    -- the stored rows the folded events merge into (see the macro)
    stored_touched as (

        {{ usage_stored_kept('stored', 'folded', 'refolded_customers', 'advanced_customers') }}

    ),

    merged as (

        select
            coalesce(folded.customer_id, stored_touched.customer_id) as customer_id,
            coalesce(folded.subscription_id, stored_touched.subscription_id) as subscription_id,
            coalesce(folded.window_start, stored_touched.window_start) as window_start,
            coalesce(folded.metric, stored_touched.metric) as metric,
            coalesce(folded.billing_status, stored_touched.billing_status) as billing_status,
            coalesce(folded.revenue_date, stored_touched.revenue_date) as revenue_date,
            coalesce(folded.aggregation, stored_touched.aggregation) as aggregation,
            coalesce(folded.event_count, 0) + coalesce(stored_touched.event_count, 0) as event_count,
            (coalesce(folded.sum_quantity, 0) + coalesce(stored_touched.sum_quantity, 0))::decimal(38, 12)
                as sum_quantity,
            greatest(folded.max_source_file_id, stored_touched.max_source_file_id) as max_source_file_id,
        from folded
        full outer join stored_touched
            on
                folded.customer_id = stored_touched.customer_id
                and folded.subscription_id is not distinct from stored_touched.subscription_id
                and folded.window_start is not distinct from stored_touched.window_start
                and folded.metric = stored_touched.metric
                and folded.billing_status = stored_touched.billing_status
                and folded.revenue_date = stored_touched.revenue_date

    ),

{% else %}

    merged as (

        select * from folded

    ),

{% endif %}

final as (

    select
        merged.customer_id,
        merged.subscription_id,
        merged.window_start,
        merged.metric,
        merged.billing_status,
        merged.revenue_date,
        merged.aggregation,
        merged.event_count::bigint as event_count,
        merged.sum_quantity,
        merged.max_source_file_id,
        fingerprints.placement_fingerprint,
        run.as_of as aggregated_as_of,
    from merged
    cross join run
    left join fingerprints
        on merged.customer_id = fingerprints.customer_id

)

select * from final

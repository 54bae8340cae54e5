{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='fail',
) }}

{#- Usage per customer, billing window, subscription, metric and billing status, kept from run to run and folded
    file by file, so a daily run reads the new day's events instead of the whole history.

    A full build aggregates every accepted event (ONE scan). An incremental build:
    - folds in only the events of landing files newer than those already folded (`max_source_file_id`): their
      aggregates are merged into the stored ones (counts and sums add, max and min take the larger and smaller,
      `latest` keeps the later (occurred_at, event_id), distinct values are unioned);
    - places again the events a customer had from its stored as_of on, when as_of has moved forward and it had
      usage after it (`after_as_of` rows, replaced): the new as_of may bill some of them. On a daily run that is
      every customer active after midnight, and only those hours' events are read again (macro
      usage_advanced_customers);
    - re-aggregates ALL events of a customer whose placement changed: its placement fingerprint
      (int_customers_fingerprinted: anchor, cadence, subscriptions, metric rules) differs from the stored one, or
      as_of moved backwards. Only those customers' events are read in full.
    Rows are replaced per customer (delete+insert on customer_id), so a customer's stale groups never survive.
    `dbt build --full-refresh` (`billing run --full-refresh`) rebuilds from every event and gives the same rows. -#}

{#- the new files' `latest` event is later than the stored one, by (occurred_at, event_id); spelled out, because
    DuckDB orders a row with nulls after every other row -#}
{%- set folded_latest_is_later -%}
    (
        folded.latest_event_at is not null
        and (
            stored_touched.latest_event_at is null
            or folded.latest_event_at > stored_touched.latest_event_at
            or (
                folded.latest_event_at = stored_touched.latest_event_at
                and folded.latest_event_id > stored_touched.latest_event_id
            )
        )
    )
{%- endset %}

with

run as (

    select {{ as_of_timestamp() }} as as_of

),

fingerprints as (

    select * from {{ ref('int_customers_fingerprinted') }}

),

metric_rules as (

    select * from {{ ref('int_metrics_unified') }}

),

billing_groups as (

    select distinct
        billing_group_key,
        customer_id,
        billing_status,
        window_start,
        window_end,
        subscription_id,
        plan_id,
    from {{ ref('int_billing_segments') }}

),

{% if is_incremental() %}

    stored as (

        select * from {{ this }}

    ),

    -- customers whose every event is placed again (see the header); the usual day has none
    refolded_customers as (

        {{ usage_refolded_customers('stored') }}

    ),

    -- customers with usage after the stored as_of, which has moved forward: those events are placed again
    advanced_customers as (

        {{ usage_advanced_customers('stored', 'refolded_customers') }}

    ),

    events_to_fold as (

        {{ usage_events_to_fold('refolded_customers', 'advanced_customers') }}

    ),

{% else %}

    events_to_fold as (

        select * from {{ ref('int_usage_events_windowed') }}

    ),

{% endif %}

-- Grouped on the small integer group key and the metric only; the group's and the metric's attributes are joined
-- afterwards to the few aggregated rows. Measured at 10M events: carrying them through the scan cost 0.7 s;
-- `count(distinct)` moves the whole aggregate onto DuckDB's slow distinct path (+1.4 s, while
-- `list_distinct(list(...))` costs far less); the tie-break struct is built only for `latest` metrics.
aggregated as (

    select
        billing_group_key,
        -- events of a customer missing from the customer list have no group; keep them apart per customer
        case when billing_group_key is null then customer_id end as orphan_customer_id,
        metric,
        count(*) as event_count,
        sum(quantity) as sum_quantity,
        max(quantity) as max_quantity,
        -- the last event by occurred_at; simultaneous events are ordered by event_id (greatest wins)
        arg_max(quantity, (occurred_at, latest_tie_break_id)) filter (where aggregation = 'latest') as latest_quantity,
        -- the key of that event, kept in two columns (the warehouse's storage format has no struct columns)
        max(occurred_at) filter (where aggregation = 'latest') as latest_event_at,
        arg_max(latest_tie_break_id, (occurred_at, latest_tie_break_id)) filter (where aggregation = 'latest')
            as latest_event_id,
        list_distinct(list(unique_value) filter (where unique_value is not null)) as unique_values,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        max(source_file_id) as max_source_file_id,

    from events_to_fold
    group by billing_group_key, orphan_customer_id, metric

),

folded as (

    select
        coalesce(billing_groups.customer_id, aggregated.orphan_customer_id) as customer_id,
        billing_groups.window_start,
        billing_groups.window_end,
        billing_groups.subscription_id,
        billing_groups.plan_id,
        aggregated.metric,
        case
            when billing_groups.billing_status = 'billable' and metric_rules.metric is null then 'unknown_metric'
            else coalesce(billing_groups.billing_status, 'outside_subscription')
        end as billing_status,
        -- metrics in no pricing config are summed and kept as `unknown_metric` (see the windowed events), never billed
        coalesce(metric_rules.aggregation, 'sum') as aggregation,
        metric_rules.unique_property,
        metric_rules.metric is not null as is_metric_configured,
        aggregated.event_count::bigint as event_count,
        aggregated.sum_quantity::decimal(38, 12) as sum_quantity,
        aggregated.max_quantity,
        aggregated.latest_quantity,
        aggregated.latest_event_at,
        aggregated.latest_event_id,
        case when metric_rules.unique_property is not null then aggregated.unique_values end as unique_values,
        aggregated.first_event_at,
        aggregated.last_event_at,
        aggregated.max_source_file_id,
    from aggregated
    left join billing_groups
        on aggregated.billing_group_key = billing_groups.billing_group_key
    left join metric_rules
        on aggregated.metric = metric_rules.metric

),

{% if is_incremental() %}

    -- the stored rows the folded events merge into (see the macro)
    stored_touched as (

        {{ usage_stored_kept('stored', 'folded', 'refolded_customers', 'advanced_customers') }}

    ),

    merged as (

        select
            coalesce(folded.customer_id, stored_touched.customer_id) as customer_id,
            coalesce(folded.window_start, stored_touched.window_start) as window_start,
            coalesce(folded.window_end, stored_touched.window_end) as window_end,
            coalesce(folded.subscription_id, stored_touched.subscription_id) as subscription_id,
            coalesce(folded.plan_id, stored_touched.plan_id) as plan_id,
            coalesce(folded.metric, stored_touched.metric) as metric,
            coalesce(folded.billing_status, stored_touched.billing_status) as billing_status,
            coalesce(folded.aggregation, stored_touched.aggregation) as aggregation,
            coalesce(folded.unique_property, stored_touched.unique_property) as unique_property,
            coalesce(folded.is_metric_configured, stored_touched.is_metric_configured) as is_metric_configured,
            coalesce(folded.event_count, 0) + coalesce(stored_touched.event_count, 0) as event_count,
            (coalesce(folded.sum_quantity, 0) + coalesce(stored_touched.sum_quantity, 0))::decimal(38, 12)
                as sum_quantity,
            greatest(folded.max_quantity, stored_touched.max_quantity) as max_quantity,
            case
                when {{ folded_latest_is_later }}
                    then folded.latest_quantity
                else stored_touched.latest_quantity
            end as latest_quantity,
            case
                when {{ folded_latest_is_later }}
                    then folded.latest_event_at
                else stored_touched.latest_event_at
            end as latest_event_at,
            case
                when {{ folded_latest_is_later }}
                    then folded.latest_event_id
                else stored_touched.latest_event_id
            end as latest_event_id,
            case
                when coalesce(folded.unique_property, stored_touched.unique_property) is not null
                    then list_distinct(list_concat(
                        coalesce(folded.unique_values, []), coalesce(stored_touched.unique_values, [])
                    ))
            end as unique_values,
            least(folded.first_event_at, stored_touched.first_event_at) as first_event_at,
            greatest(folded.last_event_at, stored_touched.last_event_at) as last_event_at,
            greatest(folded.max_source_file_id, stored_touched.max_source_file_id) as max_source_file_id,
        from folded
        full outer join stored_touched
            on
                folded.customer_id = stored_touched.customer_id
                and folded.window_start is not distinct from stored_touched.window_start
                and folded.subscription_id is not distinct from stored_touched.subscription_id
                and folded.metric = stored_touched.metric
                and folded.billing_status = stored_touched.billing_status

    ),

{% else %}

    merged as (

        select * from folded

    ),

{% endif %}

final as (

    select
        merged.customer_id,
        merged.window_start,
        merged.window_end,
        merged.subscription_id,
        merged.plan_id,
        merged.metric,
        merged.billing_status,
        merged.aggregation,
        merged.unique_property,
        merged.is_metric_configured,
        merged.event_count,
        merged.sum_quantity,
        merged.max_quantity,
        merged.latest_quantity,
        merged.latest_event_at,
        merged.latest_event_id,
        merged.unique_values,
        merged.first_event_at,
        merged.last_event_at,
        merged.max_source_file_id,
        fingerprints.placement_fingerprint,
        run.as_of as aggregated_as_of,
    from merged
    cross join run
    left join fingerprints
        on merged.customer_id = fingerprints.customer_id

)

select * from final

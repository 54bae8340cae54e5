{#- The incremental usage models (models/intermediate/usage) fold events into aggregates file by file. -#}

{% macro usage_folded_through_file_id(watermark_column='max_source_file_id') -%}
    {#- The largest landing-file id whose events this incremental model ({{ this }}) has already folded in; -1
        on a first or full-refresh build. Read when the model is compiled and written into its SQL as a number,
        so DuckDB skips the Parquet segments of every earlier file instead of scanning them. -#}
    {%- if var('usage_folded_through_file_id', none) is not none -%}
        {#- set by unit tests, whose `this` is a fixture the warehouse does not hold -#}
        {{- var('usage_folded_through_file_id') | int -}}
    {%- elif execute and is_incremental() -%}
        {%- set folded = run_query('select coalesce(max(' ~ watermark_column ~ '), -1) from ' ~ this) -%}
        {{- folded.columns[0].values()[0] | int -}}
    {%- else -%}
        -1
    {%- endif -%}
{%- endmacro %}

{% macro usage_refolded_customers(stored) -%}
    {#- The customers of `stored` (an incremental usage model's own rows) whose every event is placed and
        aggregated again rather than only the new files' events: their placement fingerprint changed
        (int_customers_fingerprinted: a backdated cancellation, a new anchor) or as_of moved backwards. The usual
        day has none. -#}
    with

    stored_customers as (

        select
            customer_id,
            any_value(placement_fingerprint) as placement_fingerprint,
            max(aggregated_as_of) as aggregated_as_of,
        from {{ stored }}
        group by customer_id

    )

    select stored_customers.customer_id,
    from stored_customers
    cross join (select {{ as_of_timestamp() }} as as_of) as run
    left join {{ ref('int_customers_fingerprinted') }} as fingerprints
        on stored_customers.customer_id = fingerprints.customer_id
    where
        stored_customers.placement_fingerprint is distinct from fingerprints.placement_fingerprint
        or stored_customers.aggregated_as_of > run.as_of
{%- endmacro %}

{% macro usage_advanced_customers(stored, refolded_customers) -%}
    {#- The customers of `stored` with usage after their stored as_of (`after_as_of` rows) when as_of has moved
        forward since, and are not re-aggregated in full: the events they had from that as_of on (`reread_from`)
        are placed again, since the new as_of may bill some of them, and their `after_as_of` rows are replaced.
        On a daily run that is every customer active after midnight, so only those events are read again, never
        the customer's history. -#}
    select
        stored.customer_id,
        max(stored.aggregated_as_of) as reread_from,
    from {{ stored }} as stored
    cross join (select {{ as_of_timestamp() }} as as_of) as run
    where stored.customer_id not in (select {{ refolded_customers }}.customer_id from {{ refolded_customers }})
    group by stored.customer_id
    having bool_or(stored.billing_status = 'after_as_of') and max(stored.aggregated_as_of) < any_value(run.as_of)
{%- endmacro %}

{% macro usage_rereads_from() -%}
    {#- The earliest instant from which an incremental usage model ({{ this }}) reads events again for customers
        whose as_of moved forward (macro usage_advanced_customers), written into the SQL as a literal so DuckDB
        skips the Parquet row groups of older events; 'infinity' when there are none. -#}
    {%- if var('usage_rereads_from', none) is not none -%}
        {#- set by unit tests, whose `this` is a fixture the warehouse does not hold -#}
        timestamp '{{ var("usage_rereads_from") }}'
    {%- elif execute and is_incremental() -%}
        {%- set reread = run_query(
            "select coalesce(strftime(min(aggregated_as_of), '%Y-%m-%d %H:%M:%S.%f'), 'infinity') from "
            ~ this ~ " where billing_status = 'after_as_of'"
        ) -%}
        timestamp '{{ reread.columns[0].values()[0] }}'
    {%- else -%}
        timestamp 'infinity'
    {%- endif -%}
{%- endmacro %}

{% macro usage_events_to_fold(refolded_customers, advanced_customers, events_filter='true') -%}
    {#- The windowed events an incremental build aggregates: those of files newer than the model's watermark;
        for `advanced_customers`, their events from `reread_from` on, from any file; and every event of
        `refolded_customers` (CTE names). Separate reads instead of one `or`, so that each keeps DuckDB's pruning
        (earlier files by file id, older events by time). -#}
    select events.* from {{ ref('int_usage_events_windowed') }} as events
    where
        events.source_file_id > {{ usage_folded_through_file_id() }}
        and events.customer_id not in (select {{ refolded_customers }}.customer_id from {{ refolded_customers }})
        and not exists (
            select 1 from {{ advanced_customers }}
            where
                {{ advanced_customers }}.customer_id = events.customer_id
                and events.occurred_at >= {{ advanced_customers }}.reread_from
        )
        and {{ events_filter }}
    union all
    select events.* from {{ ref('int_usage_events_windowed') }} as events
    inner join {{ advanced_customers }}
        on
            events.customer_id = {{ advanced_customers }}.customer_id
            and events.occurred_at >= {{ advanced_customers }}.reread_from
    where
        events.occurred_at >= {{ usage_rereads_from() }}
        and {{ events_filter }}
    union all
    select events.* from {{ ref('int_usage_events_windowed') }} as events
    where
        events.customer_id in (select {{ refolded_customers }}.customer_id from {{ refolded_customers }})
        and {{ events_filter }}
{%- endmacro %}

{% macro usage_stored_kept(stored, folded, refolded_customers, advanced_customers) -%}
    {#- The stored rows an incremental build merges its folded events into: those of every customer with new
        events or an advanced as_of, except customers re-aggregated in full and the `after_as_of` rows that the
        advanced customers' events replace. -#}
    select stored.*,
    from {{ stored }} as stored
    where
        (
            stored.customer_id in (select {{ folded }}.customer_id from {{ folded }})
            or stored.customer_id in (select {{ advanced_customers }}.customer_id from {{ advanced_customers }})
        )
        and stored.customer_id not in (select {{ refolded_customers }}.customer_id from {{ refolded_customers }})
        and not (
            stored.billing_status = 'after_as_of'
            and stored.customer_id in (
                select {{ advanced_customers }}.customer_id from {{ advanced_customers }}
            )
        )
{%- endmacro %}

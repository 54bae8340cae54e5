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
        (int_customers_fingerprinted), they had events after the previous as_of that a later as_of may now
        bill, or as_of moved backwards. The usual day has none. -#}
    with

    stored_customers as (

        select
            customer_id,
            any_value(placement_fingerprint) as placement_fingerprint,
            bool_or(billing_status = 'after_as_of') as has_events_after_as_of,
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
        or (stored_customers.has_events_after_as_of and stored_customers.aggregated_as_of <> run.as_of)
{%- endmacro %}

{% macro usage_events_to_fold(refolded_customers, events_filter='true') -%}
    {#- The windowed events an incremental build aggregates: those of files newer than the model's watermark, and
        every event of `refolded_customers` (a CTE name). Two reads instead of one `or`, so the first keeps
        DuckDB's pruning of earlier files. -#}
    select * from {{ ref('int_usage_events_windowed') }}
    where
        source_file_id > {{ usage_folded_through_file_id() }}
        and customer_id not in (select {{ refolded_customers }}.customer_id from {{ refolded_customers }})
        and {{ events_filter }}
    union all
    select * from {{ ref('int_usage_events_windowed') }}
    where
        customer_id in (select {{ refolded_customers }}.customer_id from {{ refolded_customers }})
        and {{ events_filter }}
{%- endmacro %}

{#- The incremental usage models (models/intermediate/usage) fold events into aggregates file by file. -#}

{% macro usage_folded_through_file_id() -%}
    {#- The largest landing-file id whose events this incremental model ({{ this }}) has already folded in; -1
        on a first or full-refresh build. Read when the model is compiled and written into its SQL as a number,
        so DuckDB skips the Parquet segments of every earlier file instead of scanning them. -#}
    {%- if var('usage_folded_through_file_id', none) is not none -%}
        {#- set by unit tests, whose `this` is a fixture the warehouse does not hold -#}
        {{- var('usage_folded_through_file_id') | int -}}
    {%- elif execute and is_incremental() -%}
        {%- set folded = run_query('select coalesce(max(max_source_file_id), -1) from ' ~ this) -%}
        {{- folded.columns[0].values()[0] | int -}}
    {%- else -%}
        -1
    {%- endif -%}
{%- endmacro %}

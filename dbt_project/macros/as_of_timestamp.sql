{#- The instant (UTC) a run bills up to ('YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS', UTC): the `as_of` var (dbt run by
    hand, unit tests), else the environment variable DBT_BILLING_AS_OF, which the Dagster steps set. An
    environment variable rather than a var because dbt re-parses the whole project when a var changes but only
    the files that read a changed environment variable (partial parsing), and as_of changes every day. Without
    either: today's UTC midnight, computed from current_timestamp so the session TimeZone does not matter. A
    malformed value stops the run instead of silently billing the wrong period. -#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('as_of', none) or env_var('DBT_BILLING_AS_OF', '') -%}
    {%- if as_of is none or (as_of | string | trim) == '' -%}
        date_trunc('day', timezone('UTC', current_timestamp))
    {%- else -%}
        {%- set text = (as_of | string | trim).replace('T', ' ') -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$', text) -%}
            {{ exceptions.raise_compiler_error(
                "dbt var as_of must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (UTC), got '" ~ as_of ~ "'"
            ) }}
        {%- endif -%}
        timestamp '{{ text }}'
    {%- endif -%}
{%- endmacro %}

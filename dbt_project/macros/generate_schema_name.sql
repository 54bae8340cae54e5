{#- Models land in plain schemas (staging, intermediate, marts) instead of dbt's default "main_staging", so
    that finance queries read `marts.fct_invoices`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

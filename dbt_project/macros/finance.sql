{#- The finance calendar: revenue days, months and month ends are dates in ONE reporting time zone (the dbt var
    `revenue_timezone`, default UTC), the way a company keeps its books, whatever each customer's own time zone.
    Instants are naive TIMESTAMPs holding UTC, as everywhere in the warehouse. -#}

{% macro revenue_timezone() -%}
    '{{ var("revenue_timezone", "UTC") }}'
{%- endmacro %}

{#- The revenue (book) date of a UTC instant. -#}
{% macro revenue_date_of(ts_expr) -%}
    timezone({{ revenue_timezone() }}, timezone('UTC', {{ ts_expr }}))::date
{%- endmacro %}

{#- The UTC instant a revenue (book) date starts at: midnight in the revenue time zone. -#}
{% macro revenue_day_start(date_expr) -%}
    timezone('UTC', timezone({{ revenue_timezone() }}, ({{ date_expr }})::timestamp))
{%- endmacro %}

{#- 10 ^ digits (0 to 4) as an exact integer. -#}
{% macro finance_minor_factor(digits_expr) -%}
    (case {{ digits_expr }} when 0 then 1 when 1 then 10 when 2 then 100 when 3 then 1000 when 4 then 10000 end)
{%- endmacro %}

{#- `amount_minor` (minor units of its currency, `digits` decimals) converted to minor units of the reporting
    currency at `rate` (reporting major units per one major unit; up to 12 decimals), rounded half away from zero,
    in integer arithmetic (DuckDB divides decimals in floating point). -#}
{% macro to_reporting_minor(amount_expr, digits_expr, rate_expr, reporting_digits_expr) -%}
    (
        sign({{ amount_expr }})
        * (
            (
                abs({{ amount_expr }})::hugeint
                * (({{ rate_expr }}) * 1000000000000)::hugeint
                * {{ finance_minor_factor(reporting_digits_expr) }}
                + 1000000000000::hugeint * {{ finance_minor_factor(digits_expr) }} // 2
            )
            // (1000000000000::hugeint * {{ finance_minor_factor(digits_expr) }})
        )
    )::bigint
{%- endmacro %}

{#- numerator / base as an exact decimal(18, 6) rounded half up (1.000000 = 100 %); null without a base. -#}
{% macro retention_ratio(numerator_expr, base_expr) -%}
    case
        when {{ base_expr }} > 0
            then ((
                ({{ numerator_expr }}::hugeint * 2000000 + {{ base_expr }}) // (2 * {{ base_expr }}::hugeint)
            )::decimal(38, 0) * 0.000001)::decimal(18, 6)
    end
{%- endmacro %}

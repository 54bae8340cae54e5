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

{#- The instant the incremental revenue models stamp the rows a run writes with (`allocated_at`): the dbt
    invocation's start, one value for every row of a run, later than any earlier run's. -#}
{% macro revenue_allocated_at() -%}
    timestamp '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'
{%- endmacro %}

{#- Post-hook of int_revenue_allocated_to_days: drafts are allocated afresh by every run, so a draft row older
    than this run belongs to a draft that is gone (issued under its own line id, re-cut, dropped). -#}
{% macro revenue_drafts_gone_deleted() -%}
    delete from {{ this }} where not is_issued and allocated_at < {{ revenue_allocated_at() }}
{%- endmacro %}

{#- One text that changes whenever any row of the fx_rates seed does: the incremental revenue marts convert every
    customer again when it differs from the one they stored. -#}
{% macro fx_rates_fingerprint() -%}
    (
        select md5(string_agg(
            concat_ws('|', currency, minor_unit_digits, valid_from, rate_to_reporting), ',' order by currency, valid_from
        ))
        from {{ ref('fx_rates') }}
    )
{%- endmacro %}

{#- Post-hook of fct_revenue_daily: the rows the run did not sum again still hold the previous run's
    `is_recognized`. A day is recognized once it has ended by as_of, i.e. exactly the days before as_of's revenue
    date, so only rows on the wrong side of that date change (either way: as_of may also move back). -#}
{% macro revenue_days_recognized_as_of() -%}
    update {{ this }}
    set is_recognized = {{ revenue_day_start('revenue_date + 1') }} <= {{ as_of_timestamp() }}
    where
        (not is_recognized and revenue_date < {{ revenue_date_of(as_of_timestamp()) }})
        or (is_recognized and revenue_date >= {{ revenue_date_of(as_of_timestamp()) }} - 1)
{%- endmacro %}

{#- Post-hook of fct_revenue_daily: a customer whose rows held a draft line was summed again, but one left with
    no line at all (its only lines were drafts that are gone) has no new rows to replace its old ones. -#}
{% macro revenue_days_of_drafts_gone_deleted() -%}
    delete from {{ this }}
    where
        draft_line_count > 0
        and customer_id not in (
            select allocated.customer_id from {{ ref('int_revenue_allocated_to_days') }} as allocated
            where not allocated.is_issued
        )
{%- endmacro %}

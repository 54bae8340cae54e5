{#- Date arithmetic for billing windows. Windows are local dates in the customer's time zone; their instants are
    local midnight converted to UTC. -#}

{#- `date_expr` moved forward by `count_expr` units of `unit_expr` (month, year or week). Months and years are
    added in one step from the given date, so DuckDB clamps to the month's length (Jan 31 + 1 month = Feb 29 in
    2024, + 2 months = Mar 31) and nothing drifts. `date + interval` is a TIMESTAMP in DuckDB, hence the casts. -#}
{% macro add_billing_intervals(date_expr, unit_expr, count_expr) -%}
    case {{ unit_expr }}
        when 'month' then ({{ date_expr }} + to_months({{ count_expr }}))::date
        when 'year' then ({{ date_expr }} + to_years({{ count_expr }}))::date
        when 'week' then ({{ date_expr }} + to_days(7 * {{ count_expr }}))::date
    end
{%- endmacro %}

{#- The calendar boundary at or before `date_expr` for calendar billing every `count_expr` `unit_expr`: the ISO week
    (Monday), month or year start, and for months in groups that divide a year (quarters, half-years) the first
    month of the group counted from January (Lago's calendar quarterly and semiannual periods). -#}
{% macro calendar_period_start(date_expr, unit_expr, count_expr) -%}
    case
        when {{ unit_expr }} = 'month' and {{ count_expr }} > 1
            then {{ add_billing_intervals(
                "date_trunc('year', " ~ date_expr ~ ")::date",
                "'month'",
                '((month(' ~ date_expr ~ ') - 1) // ' ~ count_expr ~ ') * ' ~ count_expr
            ) }}
        else date_trunc({{ unit_expr }}, {{ date_expr }})::date
    end
{%- endmacro %}

{#- Whole `unit_expr` units from `start_expr` to `end_expr` (dates), rounded down; used only for generous upper
    bounds on how many windows to generate. -#}
{% macro billing_units_between(start_expr, end_expr, unit_expr) -%}
    case {{ unit_expr }}
        when 'month' then date_diff('month', {{ start_expr }}, {{ end_expr }})
        when 'year' then date_diff('year', {{ start_expr }}, {{ end_expr }})
        when 'week' then date_diff('day', {{ start_expr }}, {{ end_expr }}) // 7
    end
{%- endmacro %}

{#- UTC instant (naive TIMESTAMP) of local midnight starting `date_expr` in IANA zone `tz_expr`. -#}
{% macro local_midnight_to_utc(date_expr, tz_expr) -%}
    timezone('UTC', timezone({{ tz_expr }}, {{ date_expr }}::timestamp))
{%- endmacro %}

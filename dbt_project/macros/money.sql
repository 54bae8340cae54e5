{#- Money and id helpers. SQL that differs between engines goes through adapter.dispatch, so the pricing models
    run unchanged on another adapter once it has its own `<adapter>__` version of these macros. -#}

{#- 10 ^ digits as an exact integer (no floating point `power()`): the minor units in one major unit. -#}
{% macro minor_unit_factor(digits_expr) -%}
    case {{ digits_expr }} when 0 then 1 when 1 then 10 when 2 then 100 when 3 then 1000 when 4 then 10000 end
{%- endmacro %}

{#- An exact amount in major units rounded ONCE to an integer number of minor units with the plan's rounding mode:
    half_up (ties away from zero, Stripe's and most tax authorities' rule), half_even (banker's), up (away from
    zero) and down (toward zero). Applied to the signed amount, so a credit rounds like a charge of the same size.
    With `currency_expr`, a currency in the var `currencies_rounded_to_ten_minor_units` (Stripe's three-decimal
    currencies) is rounded to a multiple of 10 minor units: one digit fewer, then times 10 (no division, which
    DuckDB would do in floating point). -#}
{% macro round_to_minor(amount_expr, digits_expr, mode_expr, currency_expr=none) -%}
    {{ return(adapter.dispatch('round_to_minor', 'billing')(amount_expr, digits_expr, mode_expr, currency_expr)) }}
{%- endmacro %}

{% macro default__round_to_minor(amount_expr, digits_expr, mode_expr, currency_expr=none) -%}
    {%- set tens = var('currencies_rounded_to_ten_minor_units', []) -%}
    {%- if currency_expr is not none and tens | length > 0 -%}
        {%- set in_tens = '(' ~ currency_expr ~ ") in ('" ~ tens | join("', '") ~ "')" -%}
        {%- set rounding_digits = '(' ~ digits_expr ~ ' - case when ' ~ in_tens ~ ' then 1 else 0 end)' -%}
        {%- set increment = ' * case when ' ~ in_tens ~ ' then 10 else 1 end' -%}
    {%- else -%}
        {%- set rounding_digits = digits_expr -%}
        {%- set increment = '' -%}
    {%- endif -%}
    {%- set scaled = '((' ~ amount_expr ~ ') * ' ~ minor_unit_factor(rounding_digits) ~ ')' -%}
    ((case {{ mode_expr }}
        -- round() on an exact decimal rounds half away from zero on DuckDB and Postgres alike
        when 'half_up' then round({{ scaled }}, 0)
        when 'down' then trunc({{ scaled }})
        when 'up' then trunc({{ scaled }}) + case when {{ scaled }} = trunc({{ scaled }}) then 0 else sign({{ scaled }}) end
        when 'half_even' then
            case
                when abs({{ scaled }} - trunc({{ scaled }})) = 0.5 and trunc({{ scaled }}) % 2 = 0 then trunc({{ scaled }})
                else round({{ scaled }}, 0)
            end
    end)::bigint{{ increment }})
{%- endmacro %}

{#- A stable id: `prefix` + the first 24 hex digits of the SHA-256 of the identity columns joined by '|'. The same
    identity always gives the same id, so a rebuild reproduces every invoice and line id. -#}
{% macro deterministic_id(prefix, columns) -%}
    {{ return(adapter.dispatch('deterministic_id', 'billing')(prefix, columns)) }}
{%- endmacro %}

{% macro default__deterministic_id(prefix, columns) -%}
    '{{ prefix }}' || left(sha256(concat_ws('|', {% for column in columns %}coalesce(({{ column }})::varchar, '∅'){% if not loop.last %}, {% endif %}{% endfor %})), 24)
{%- endmacro %}

{% macro postgres__deterministic_id(prefix, columns) -%}
    '{{ prefix }}' || left(encode(sha256(convert_to(concat_ws('|', {% for column in columns %}coalesce(({{ column }})::varchar, '∅'){% if not loop.last %}, {% endif %}{% endfor %}), 'UTF8')), 'hex'), 24)
{%- endmacro %}

{#- Whole seconds from `start_expr` to `end_expr` (timestamps), as an exact integer. -#}
{% macro seconds_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('seconds_between', 'billing')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__seconds_between(start_expr, end_expr) -%}
    date_diff('second', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}

{% macro postgres__seconds_between(start_expr, end_expr) -%}
    extract(epoch from ({{ end_expr }}) - ({{ start_expr }}))::bigint
{%- endmacro %}

{#- The local calendar date (in IANA zone `tz_expr`) of a UTC instant stored as a naive timestamp. -#}
{% macro utc_to_local_date(ts_expr, tz_expr) -%}
    {{ return(adapter.dispatch('utc_to_local_date', 'billing')(ts_expr, tz_expr)) }}
{%- endmacro %}

{% macro default__utc_to_local_date(ts_expr, tz_expr) -%}
    timezone({{ tz_expr }}, timezone('UTC', {{ ts_expr }}))::date
{%- endmacro %}

{#- The type every unrounded line amount has: 26 decimals hold a 12-decimal quantity times a 12-decimal price, or
    a quantity times a percentage rate (rate / 100 has 14 decimals), exactly; 12 integer digits (1e12 major units
    per line) is far above any real line, and DuckDB raises an overflow error rather than losing digits. -#}
{% macro as_amount(expr) -%}
    ({{ expr }})::decimal(38, 26)
{%- endmacro %}

{#- `amount_expr * numerator / denominator` (all non-negative; numerator and denominator integers) truncated toward
    zero at 18 decimals, using integer arithmetic only: DuckDB divides decimals in floating point. Prorations are
    rational numbers (49.00 * 10 / 31), so some truncation is unavoidable; at 18 decimals it never changes a
    rounding to the minor unit for fees with up to 4 decimals over periods up to a year (DECISIONLOG). -#}
{% macro exact_fraction(amount_expr, numerator_expr, denominator_expr) -%}
    {{ return(adapter.dispatch('exact_fraction', 'billing')(amount_expr, numerator_expr, denominator_expr)) }}
{%- endmacro %}

{#- A whole period (numerator = denominator, most fee lines) skips the 128-bit division, DuckDB's slow part: the
    amount at 12 decimals is then exactly what the division gives (the cast rounds a longer scale as the hugeint
    cast does). -#}
{% macro default__exact_fraction(amount_expr, numerator_expr, denominator_expr) -%}
    (case
        when ({{ numerator_expr }}) = ({{ denominator_expr }}) and ({{ denominator_expr }}) <> 0
            then {{ as_amount('(' ~ amount_expr ~ ')::decimal(38, 12)') }}
        else {{ as_amount(
            '((((' ~ amount_expr ~ ') * 1000000000000)::hugeint * (' ~ numerator_expr ~ ') * 1000000 // ('
            ~ denominator_expr ~ '))::decimal(38, 0) * 0.000000000000000001)'
        ) }}
    end)
{%- endmacro %}

{% macro postgres__exact_fraction(amount_expr, numerator_expr, denominator_expr) -%}
    trunc(({{ amount_expr }}) * ({{ numerator_expr }}) / ({{ denominator_expr }})::numeric, 18)
{%- endmacro %}

{#- Whole packages in `quantity_expr` (both exact decimals with up to 12 decimals), rounded up or down, in integer
    arithmetic (see exact_fraction). -#}
{% macro packages_in(quantity_expr, size_expr, rounding_expr) -%}
    {{ return(adapter.dispatch('packages_in', 'billing')(quantity_expr, size_expr, rounding_expr)) }}
{%- endmacro %}

{% macro default__packages_in(quantity_expr, size_expr, rounding_expr) -%}
    (case {{ rounding_expr }}
        when 'down' then {{ _in_millionths_of_millionths(quantity_expr) }} // {{ _in_millionths_of_millionths(size_expr) }}
        else ({{ _in_millionths_of_millionths(quantity_expr) }} + {{ _in_millionths_of_millionths(size_expr) }} - 1)
            // {{ _in_millionths_of_millionths(size_expr) }}
    end)::bigint
{%- endmacro %}

{#- A decimal(38, 12) times 10^12 as an exact hugeint, whole part and fraction apart: `x * 1000000000000` stays a
    decimal(38, 12), whose 26 integer digits overflow from x = 10^14 on (a window's summed usage can be 10^24). -#}
{% macro _in_millionths_of_millionths(expr) -%}
    (trunc({{ expr }})::hugeint * 1000000000000 + ((({{ expr }}) - trunc({{ expr }})) * 1000000000000)::hugeint)
{%- endmacro %}

{% macro postgres__packages_in(quantity_expr, size_expr, rounding_expr) -%}
    (case {{ rounding_expr }}
        when 'down' then floor(({{ quantity_expr }}) / ({{ size_expr }}))
        else ceil(({{ quantity_expr }}) / ({{ size_expr }}))
    end)::bigint
{%- endmacro %}

{#- The most one invoice line may amount to, in minor units: 10^11 (1,000,000,000.00 USD, 100,000,000,000 JPY,
    100,000,000 KWD), the one place this limit is set. Why: a line's exact amount is decimal(38, 26) (12 integer
    digits; see as_amount), round_to_minor scales it to minor units inside that type, and the result is a bigint,
    so a line must stay below 10^12 minor units. Ten times below that, a floating-point estimate (relative error
    about 1e-16) can decide safely BEFORE the exact product is evaluated, which DuckDB would abort the whole build
    on (README, Invoices: held invoices). Pricing-config amounts are bounded by MAX_AMOUNT in
    dagster_billing/pricing/config_amounts.py so the parts priced outside this check (tier prices, flat amounts,
    per-event bounds, minimums) always fit. -#}
{% macro max_line_amount_minor() -%}
    100000000000
{%- endmacro %}

{#- True when an amount estimated in floating point (`estimate_expr`, major units, never null) is safely below the
    line limit in a currency with `digits_expr` minor-unit digits: its exact amount can then be computed and
    rounded. Put the exact expression in a CASE branch guarded by this: DuckDB evaluates a branch only for the
    rows that take it, so a line that cannot be represented is never multiplied out. -#}
{% macro fits_in_a_line(estimate_expr, digits_expr) -%}
    (abs({{ estimate_expr }}) < {{ max_line_amount_minor() }}::double / {{ minor_unit_factor(digits_expr) }})
{%- endmacro %}

{#- Why a line is held, in words: `what_expr` (text: 'usage of api_calls in 2026-08-01..2026-09-01') prices to
    about the estimate, more than the line limit in the currency; `check_expr` (text) says what to look at. -#}
{% macro line_hold_reason(what_expr, estimate_expr, currency_expr, digits_expr, check_expr) -%}
    {{ what_expr }} || ' prices to about ' || printf('%.1e', {{ estimate_expr }}) || ' ' || {{ currency_expr }}
    || ', more than the ' || format('{:,}', ({{ max_line_amount_minor() }} // {{ minor_unit_factor(digits_expr) }})::bigint)
    || ' ' || {{ currency_expr }} || ' a line can hold; ' || {{ check_expr }}
{%- endmacro %}

{#- An exact decimal as text without trailing zeros (12.500000000000 -> 12.5), for human descriptions. -#}
{% macro decimal_text(expr) -%}
    case
        when ({{ expr }})::varchar like '%.%' then rtrim(rtrim(({{ expr }})::varchar, '0'), '.')
        else ({{ expr }})::varchar
    end
{%- endmacro %}

{#- An exact amount already in minor units (a tax: a line's amount_minor x rate) rounded half away from zero to an
    integer number of minor units, to a multiple of 10 in the currencies of the var
    `currencies_rounded_to_ten_minor_units` (Stripe's three-decimal currencies). Multiplies, never divides. -#}
{% macro round_minor_units_half_up(exact_minor_expr, currency_expr) -%}
    {%- set tens = var('currencies_rounded_to_ten_minor_units', []) -%}
    {%- if tens | length > 0 -%}
    (case
        when ({{ currency_expr }}) in ('{{ tens | join("', '") }}')
            then round(({{ exact_minor_expr }}) * 0.1, 0)::bigint * 10
        else round({{ exact_minor_expr }}, 0)::bigint
    end)
    {%- else -%}
    round({{ exact_minor_expr }}, 0)::bigint
    {%- endif -%}
{%- endmacro %}

{#- 10 ^ -digits (0 to 4) as an exact decimal: minor units times this are major units, without a division. -#}
{% macro minor_unit_size(digits_expr) -%}
    (case {{ digits_expr }} when 0 then 1.0000 when 1 then 0.1000 when 2 then 0.0100 when 3 then 0.0010 when 4 then 0.0001 end)
{%- endmacro %}

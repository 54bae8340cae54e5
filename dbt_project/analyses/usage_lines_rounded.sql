{#- Not a model: compiled by tests/pricing_sql_harness.py so the property test rounds usage lines with exactly the
    macro fct_invoice_lines uses. -#}
select
    *,
    {{ round_to_minor('amount', 'minor_unit_digits', 'rounding_mode', 'currency') }} as amount_minor,
from {{ ref('int_usage_charges_priced') }}

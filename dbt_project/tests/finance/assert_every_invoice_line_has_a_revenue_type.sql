{{ config(meta={'dagster': {'ref': {'name': 'fct_invoice_lines'}}}) }}

-- A new invoice line type must be given a revenue type (or declared non-revenue) before finance reports it:
-- returns the line types the finance marts do not know.
select distinct line_type
from {{ ref('fct_invoice_lines') }}
where
    scenario = 'actual'
    and line_type not in (
        'base_fee', 'usage', 'minimum_spend_true_up', 'proration_credit', 'proration_charge', 'discount',
        'adjustment', 'one_time', 'tax', 'credit'
    )

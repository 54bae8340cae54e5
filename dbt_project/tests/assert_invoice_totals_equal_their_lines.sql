{{ config(meta={'dagster': {'ref': {'name': 'fct_invoices'}}}) }}
-- Tie-out: every invoice's total equals the sum of its rounded lines, its subtotal the sum of its charge and
-- adjustment lines (credit and tax lines, and adjustments of tax lines, excluded), and every line has an invoice.
with

line_sums as (

    select
        invoice_id,
        sum(amount_minor) as lines_minor,
        sum(amount_minor) filter (
            where line_type not in ('credit', 'tax') and charge_model is distinct from 'tax'
        ) as charges_minor,
        count(*) as line_count,
    from {{ ref('fct_invoice_lines') }}
    group by invoice_id

)

select
    invoices.invoice_id,
    invoices.subtotal_minor,
    invoices.total_minor,
    line_sums.lines_minor,
from {{ ref('fct_invoices') }} as invoices
full outer join line_sums
    on invoices.invoice_id = line_sums.invoice_id
where
    invoices.invoice_id is null
    or line_sums.invoice_id is null
    or invoices.total_minor <> line_sums.lines_minor
    or invoices.subtotal_minor <> coalesce(line_sums.charges_minor, 0)
    or invoices.total_minor <> invoices.subtotal_minor - invoices.discount_minor - invoices.credit_minor + invoices.tax_minor
    or invoices.line_count <> line_sums.line_count

-- For every customer and month end: billed to date = recognized (of what was billed) + deferred, with billed taken
-- from the invoices themselves; recognized to date = recognized of billed + unbilled, with recognized taken from
-- fct_revenue_daily. Returns the customer-months that do not tie, with both sides.
with

deferred as (

    select * from {{ ref('fct_deferred_revenue') }}

),

invoices as (

    select * from {{ ref('fct_invoices') }}
    where scenario = 'actual'

),

non_revenue_lines as (

    select
        invoice_id,
        sum(amount_minor) as amount_minor,
    from {{ ref('fct_invoice_lines') }}
    where scenario = 'actual' and line_type in ('tax', 'credit')
    group by invoice_id

),

billed_by_invoice as (

    select
        invoices.customer_id,
        invoices.currency,
        date_trunc('month', {{ revenue_date_of('invoices.billing_at') }})::date as billed_month,
        invoices.subtotal_minor - coalesce(non_revenue_lines.amount_minor, 0) as billed_minor,
    from invoices
    left join non_revenue_lines
        on invoices.invoice_id = non_revenue_lines.invoice_id

),

recognized_daily as (

    select
        customer_id,
        currency,
        revenue_month,
        sum(amount_minor) as amount_minor,
    from {{ ref('fct_revenue_daily') }}
    group by customer_id, currency, revenue_month

),

sides as (

    select
        deferred.customer_id,
        deferred.revenue_month,
        deferred.billed_to_date_minor,
        deferred.recognized_of_billed_to_date_minor,
        deferred.deferred_revenue_minor,
        deferred.unbilled_revenue_minor,
        deferred.recognized_to_date_minor,
        (
            select coalesce(sum(billed_by_invoice.billed_minor), 0)
            from billed_by_invoice
            where
                billed_by_invoice.customer_id = deferred.customer_id
                and billed_by_invoice.currency = deferred.currency
                and billed_by_invoice.billed_month <= deferred.revenue_month
        ) as invoiced_to_date_minor,
        (
            select coalesce(sum(recognized_daily.amount_minor), 0)
            from recognized_daily
            where
                recognized_daily.customer_id = deferred.customer_id
                and recognized_daily.currency = deferred.currency
                and recognized_daily.revenue_month <= deferred.revenue_month
        ) as recognized_daily_to_date_minor,
    from deferred

)

select * from sides
where
    billed_to_date_minor <> recognized_of_billed_to_date_minor + deferred_revenue_minor
    or billed_to_date_minor <> invoiced_to_date_minor
    or recognized_to_date_minor <> recognized_of_billed_to_date_minor + unbilled_revenue_minor
    or recognized_to_date_minor <> recognized_daily_to_date_minor

{{ config(meta={'dagster': {'ref': {'name': 'fct_deferred_revenue'}}}) }}

-- For every customer and month end: billed to date = recognized (of what was billed) + deferred, with billed taken
-- from the invoices themselves; recognized to date = recognized of billed + unbilled, with recognized taken from
-- fct_revenue_daily. Returns the customer-months that do not tie, with both sides.
with

deferred as (

    select * from {{ ref('fct_deferred_revenue') }}

),

invoices as (

    select * from {{ ref('fct_invoices') }}
    -- a held invoice (a line too large to price) is not billed, so not revenue
    where scenario = 'actual' and invoice_status <> 'held'

),

billed_by_invoice as (

    select
        invoices.customer_id,
        invoices.currency,
        date_trunc('month', {{ revenue_date_of('invoices.billing_at') }})::date as billed_month,
        -- the subtotal leaves out credit and tax lines, which are not revenue
        invoices.subtotal_minor as billed_minor,
    from invoices

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

billed_by_month as (

    select
        customer_id,
        currency,
        billed_month,
        sum(billed_minor) as billed_minor,
    from billed_by_invoice
    group by customer_id, currency, billed_month

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
        sum(coalesce(billed_by_month.billed_minor, 0)) over to_date as invoiced_to_date_minor,
        sum(coalesce(recognized_daily.amount_minor, 0)) over to_date as recognized_daily_to_date_minor,
    from deferred
    left join billed_by_month
        on
            deferred.customer_id = billed_by_month.customer_id
            and deferred.currency = billed_by_month.currency
            and deferred.revenue_month = billed_by_month.billed_month
    left join recognized_daily
        on
            deferred.customer_id = recognized_daily.customer_id
            and deferred.currency = recognized_daily.currency
            and deferred.revenue_month = recognized_daily.revenue_month
    window to_date as (
        partition by deferred.customer_id, deferred.currency order by deferred.revenue_month
        rows between unbounded preceding and current row
    )

)

select * from sides
where
    billed_to_date_minor <> recognized_of_billed_to_date_minor + deferred_revenue_minor
    or billed_to_date_minor <> invoiced_to_date_minor
    or recognized_to_date_minor <> recognized_of_billed_to_date_minor + unbilled_revenue_minor
    or recognized_to_date_minor <> recognized_daily_to_date_minor

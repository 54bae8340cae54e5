{#- Every invoice line of the actual scenario with the revenue type it books to, the instant and revenue day it was
    billed, and how its amount is spread over days (`allocation_basis`). Tax and customer-balance credits are not
    revenue (tax is owed to an authority, a credit is a means of payment): they are left out here, and only here. So are
    held invoices (a line too large to price: not billable until the cause is fixed). -#}
with

invoice_lines as (

    select * from {{ ref('fct_invoice_lines') }}
    where scenario = 'actual' and invoice_status <> 'held'

),

invoices as (

    select * from {{ ref('fct_invoices') }}
    where scenario = 'actual' and invoice_status <> 'held'

),

metrics as (

    select * from {{ ref('int_metrics_unified') }}

),

typed as (

    select
        invoice_lines.line_id,
        invoice_lines.invoice_id,
        invoice_lines.customer_id,
        invoice_lines.line_type,
        case invoice_lines.line_type
            when 'base_fee' then 'subscription'
            when 'usage' then 'usage'
            when 'minimum_spend_true_up' then 'usage'
            when 'proration_credit' then 'proration'
            when 'proration_charge' then 'proration'
            when 'discount' then 'discount'
            when 'adjustment' then 'one_time'
            when 'one_time' then 'one_time'
        end as revenue_type,
        -- an adjustment of a tax line (charge_model `tax`) corrects a liability, not revenue
        invoice_lines.line_type in ('tax', 'credit')
        or (invoice_lines.line_type = 'adjustment' and invoice_lines.charge_model = 'tax') as is_non_revenue,
        invoice_lines.subscription_id,
        invoice_lines.plan_id,
        invoice_lines.metric,
        metrics.aggregation as metric_aggregation,
        -- an adjustment corrects a period whose invoice was issued (closed): it is booked on the day it is issued,
        -- as a change in estimate, instead of restating revenue already reported for that period
        case
            when invoice_lines.line_type = 'adjustment' then invoices.billing_at else invoice_lines.period_start
        end as period_start,
        case
            when invoice_lines.line_type = 'adjustment' then invoices.billing_at + interval 1 day
            else invoice_lines.period_end
        end as period_end,
        invoices.billing_at,
        {{ revenue_date_of('invoices.billing_at') }} as billed_on,
        -- an issued line never changes (the ledger); a draft's may until it is issued: the incremental revenue
        -- models allocate a customer again when it has a draft or a newly issued line
        invoices.invoice_status = 'issued' as is_issued,
        invoices.issued_at,
        invoice_lines.currency,
        invoice_lines.minor_unit_digits,
        invoice_lines.amount_minor,
    from invoice_lines
    inner join invoices
        on invoice_lines.invoice_id = invoices.invoice_id
    left join metrics
        on invoice_lines.metric = metrics.metric

),

final as (

    select
        *,
        -- usage is recognized when it was consumed, by the day's share of the window's quantity; everything
        -- else (fees, prorations, minimum-spend true-ups, max/latest/unique-count usage) ratably over its period
        case
            when line_type = 'usage' and metric_aggregation in ('sum', 'count') then 'usage_quantity'
            else 'ratable'
        end as allocation_basis,
    from typed
    where not is_non_revenue

)

select * from final

{#- One invoice per scenario, customer and billing date as computed now: totals of its computed lines and the
    customer's terms today, with the due-date rule written once. `fct_invoices` shows these for invoices not
    issued yet; the ledger (`billing/issued_invoices`) freezes the terms from here when it issues one. -#}
with

invoice_lines as (

    select * from {{ ref('int_invoice_lines_computed') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

invoice_totals as (

    select
        invoice_id,
        scenario,
        customer_id,
        billing_date,
        min(hold_reason) as hold_reason,
        min(billing_at) as billing_at,
        min(currency) as currency,
        min(minor_unit_digits) as minor_unit_digits,
        min(period_start) as period_start,
        max(period_end) as period_end,
        count(*)::integer as line_count,
        coalesce(sum(amount_minor) filter (where line_type <> 'tax'), 0)::bigint as subtotal_minor,
        coalesce(sum(amount_minor) filter (where line_type = 'tax'), 0)::bigint as tax_minor,
        -- the distinct versions in order, joined by ', ' (as `string_agg(distinct ... order by ...)` gives them, which
        -- costs a second aggregation, a join and a sort per invoice)
        array_to_string(
            list_sort(list_distinct(list(pricing_version) filter (where pricing_version is not null))), ', '
        ) as pricing_version,
    from invoice_lines
    group by invoice_id, scenario, customer_id, billing_date

),

final as (

    select
        invoice_totals.invoice_id,
        invoice_totals.scenario,
        invoice_totals.hold_reason,
        invoice_totals.customer_id,
        invoice_totals.billing_date,
        invoice_totals.billing_at,
        invoice_totals.currency,
        invoice_totals.minor_unit_digits,
        customers.collection_method,
        customers.days_until_due,
        -- send_invoice customers pay within their terms; a card is charged on the billing date
        case
            when customers.collection_method = 'send_invoice'
                then (invoice_totals.billing_date + coalesce(customers.days_until_due, 0))::date
            else invoice_totals.billing_date
        end as due_date,
        invoice_totals.period_start,
        invoice_totals.period_end,
        invoice_totals.line_count,
        invoice_totals.subtotal_minor,
        invoice_totals.tax_minor,
        invoice_totals.pricing_version,
        customers.stripe_customer_id,
    from invoice_totals
    inner join customers
        on invoice_totals.customer_id = customers.customer_id

)

select * from final

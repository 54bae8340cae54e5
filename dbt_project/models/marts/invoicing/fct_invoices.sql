{#- One invoice per customer, billing date and scenario. Issued invoices come from the ledger exactly as issued
    (totals, credit applied, the customer's terms at issue) with their Stripe state; drafts (grace period not
    passed, and every non-actual scenario) are summed from their computed lines with today's customer terms; a
    `held` invoice (a line too large to price) is a draft that is never issued, with its `hold_reason`. -#}
with

invoice_lines as (

    select * from {{ ref('fct_invoice_lines') }}

),

issued_invoices as (

    select * from {{ ref('stg_issued_invoices') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

stripe_sync as (

    select * from {{ ref('stg_stripe_invoice_sync') }}

),

draft_totals as (

    select
        invoice_id,
        scenario,
        customer_id,
        billing_date,
        min(invoice_status) as invoice_status,
        min(hold_reason) as hold_reason,
        min(billing_at) as billing_at,
        min(currency) as currency,
        min(minor_unit_digits) as minor_unit_digits,
        min(period_start) as period_start,
        max(period_end) as period_end,
        count(*)::integer as line_count,
        sum(amount_minor)::bigint as subtotal_minor,
        -- the distinct versions in order, joined by ', ' (as `string_agg(distinct ... order by ...)` gives them, which
        -- costs a second aggregation, a join and a sort per invoice)
        array_to_string(
            list_sort(list_distinct(list(pricing_version) filter (where pricing_version is not null))), ', '
        ) as pricing_version,
    from invoice_lines
    where invoice_status in ('draft', 'held')
    group by invoice_id, scenario, customer_id, billing_date

),

drafts as (

    select
        draft_totals.invoice_id,
        draft_totals.scenario,
        draft_totals.invoice_status,
        draft_totals.hold_reason,
        draft_totals.customer_id,
        draft_totals.billing_date,
        draft_totals.billing_at,
        draft_totals.currency,
        draft_totals.minor_unit_digits,
        customers.collection_method,
        customers.days_until_due,
        case
            when customers.collection_method = 'send_invoice'
                then (draft_totals.billing_date + coalesce(customers.days_until_due, 0))::date
            else draft_totals.billing_date
        end as due_date,
        draft_totals.period_start,
        draft_totals.period_end,
        draft_totals.line_count,
        draft_totals.subtotal_minor,
        0::bigint as credit_minor,
        draft_totals.subtotal_minor as total_minor,
        null::bigint as credit_balance_minor,
        draft_totals.pricing_version,
        customers.stripe_customer_id,
        null::timestamp as issued_at,
    from draft_totals
    inner join customers
        on draft_totals.customer_id = customers.customer_id

),

issued as (

    select
        invoice_id,
        'actual' as scenario,
        'issued' as invoice_status,
        null::varchar as hold_reason,
        customer_id,
        billing_date,
        billing_at,
        currency,
        minor_unit_digits,
        collection_method,
        days_until_due,
        due_date,
        period_start,
        period_end,
        line_count,
        subtotal_minor,
        credit_minor,
        total_minor,
        credit_balance_minor,
        pricing_version,
        stripe_customer_id,
        issued_at,
    from issued_invoices

),

invoices as (

    select * from issued
    union all by name
    select * from drafts

),

final as (

    select
        invoices.invoice_id,
        invoices.scenario,
        invoices.invoice_status,
        invoices.hold_reason,
        invoices.customer_id,
        invoices.billing_date,
        invoices.billing_at,
        invoices.currency,
        invoices.minor_unit_digits,
        invoices.collection_method,
        invoices.days_until_due,
        invoices.due_date,
        invoices.period_start,
        invoices.period_end,
        invoices.line_count,
        invoices.subtotal_minor,
        -- discounts and tax are later line types; the columns exist so consumers need not change
        0::bigint as discount_minor,
        invoices.credit_minor,
        0::bigint as tax_minor,
        invoices.total_minor,
        invoices.credit_balance_minor,
        invoices.pricing_version,
        invoices.stripe_customer_id,
        invoices.issued_at,
        stripe_sync.stripe_invoice_id,
        stripe_sync.stripe_invoice_number,
        stripe_sync.stripe_status,
        stripe_sync.stripe_outcome,
    from invoices
    left join stripe_sync
        on invoices.invoice_id = stripe_sync.invoice_id

)

select * from final

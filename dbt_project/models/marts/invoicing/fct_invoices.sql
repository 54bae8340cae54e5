{#- One invoice per customer, billing date and scenario. Issued invoices come from the ledger exactly as issued
    (totals, credit applied, the customer's terms at issue) with their Stripe state; drafts (grace period not
    passed, and every non-actual scenario) are int_invoices_computed: their computed lines with today's terms; a
    `held` invoice (a line too large to price) is a draft that is never issued, with its `hold_reason`. An issued
    invoice's life after issue (open, paid, partially paid, uncollectible, void, billed elsewhere) and what is
    still owed come from int_invoices_collected. -#}
with

issued_invoices as (

    select * from {{ ref('stg_issued_invoices') }}

),

-- the tax frozen with each issued invoice: its tax lines and the adjustments of earlier invoices' tax lines (the
-- ledger header's subtotal is every line before credits)
issued_tax as (

    select
        invoice_id,
        sum(amount_minor)::bigint as tax_minor,
    from {{ ref('stg_issued_invoice_lines') }}
    where line_type = 'tax' or (line_type = 'adjustment' and charge_model = 'tax')
    group by invoice_id

),

issued_invoices_taxed as (

    select
        issued_invoices.*,
        coalesce(issued_tax.tax_minor, 0)::bigint as tax_minor,
    from issued_invoices
    left join issued_tax
        on issued_invoices.invoice_id = issued_tax.invoice_id

),

computed_invoices as (

    select * from {{ ref('int_invoices_computed') }}

),

stripe_sync as (

    select * from {{ ref('stg_stripe_invoice_sync') }}

),

collected as (

    select * from {{ ref('int_invoices_collected') }}

),

drafts as (

    select
        invoice_id,
        scenario,
        case when hold_reason is null then 'draft' else 'held' end as invoice_status,
        hold_reason,
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
        tax_minor,
        0::bigint as credit_minor,
        subtotal_minor + tax_minor as total_minor,
        null::bigint as credit_balance_minor,
        pricing_version,
        stripe_customer_id,
        null::timestamp as issued_at,
    from computed_invoices
    where scenario <> 'actual' or invoice_id not in (select issued_invoices.invoice_id from issued_invoices)

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
        subtotal_minor - tax_minor as subtotal_minor,
        tax_minor,
        credit_minor,
        total_minor,
        credit_balance_minor,
        pricing_version,
        stripe_customer_id,
        issued_at,
    from issued_invoices_taxed

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
        coalesce(collected.lifecycle_status, invoices.invoice_status) as lifecycle_status,
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
        -- discounts are a later line type; the column exists so consumers need not change
        0::bigint as discount_minor,
        invoices.credit_minor,
        invoices.tax_minor,
        invoices.total_minor,
        invoices.credit_balance_minor,
        collected.amount_due_minor,
        collected.amount_paid_minor,
        collected.amount_outstanding_minor,
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
    left join collected
        on invoices.invoice_id = collected.invoice_id

)

select * from final

{#- Each issued invoice's life after issue, from the ledger and Stripe's state as the Stripe steps last read it:
    `open`, `partially_paid` (open with part paid), `paid`, `uncollectible` or `void` once finalized in Stripe;
    `billed_elsewhere` when billed before the Stripe go-live date (the system before this pipeline billed and
    collected it); `issued` otherwise (frozen in the ledger, not finalized in Stripe: Stripe not configured, or
    an attempt that ended in error). What is still owed: Stripe's amount due less paid once finalized (the
    customer's credit balance already taken off), the ledger total before; nothing once paid or void; unknown
    (null) when billed elsewhere. -#}
with

issued_invoices as (

    select * from {{ ref('stg_issued_invoices') }}

),

stripe_sync as (

    select * from {{ ref('stg_stripe_invoice_sync') }}

),

go_live as (

    select max(finalize_from) as finalize_from from {{ ref('stg_stripe_go_live') }}

),

joined as (

    select
        issued_invoices.invoice_id,
        issued_invoices.customer_id,
        issued_invoices.billing_date,
        issued_invoices.currency,
        issued_invoices.minor_unit_digits,
        issued_invoices.due_date,
        issued_invoices.total_minor,
        stripe_sync.stripe_status,
        stripe_sync.stripe_amount_due_minor,
        coalesce(stripe_sync.stripe_amount_paid_minor, 0) as stripe_amount_paid_minor,
        stripe_sync.stripe_finalized_at is not null
        and stripe_sync.stripe_status in ('open', 'paid', 'uncollectible', 'void') as is_finalized_in_stripe,
        coalesce(issued_invoices.billing_date < go_live.finalize_from, false) as is_before_go_live,
    from issued_invoices
    cross join go_live
    left join stripe_sync
        on issued_invoices.invoice_id = stripe_sync.invoice_id

),

final as (

    select
        invoice_id,
        customer_id,
        billing_date,
        currency,
        minor_unit_digits,
        due_date,
        total_minor,
        case
            when is_finalized_in_stripe and stripe_status = 'open' and stripe_amount_paid_minor > 0
                then 'partially_paid'
            when is_finalized_in_stripe then stripe_status
            when is_before_go_live then 'billed_elsewhere'
            else 'issued'
        end as lifecycle_status,
        case
            when is_finalized_in_stripe then stripe_amount_due_minor
            when not is_before_go_live then total_minor
        end as amount_due_minor,
        case
            when is_finalized_in_stripe then stripe_amount_paid_minor
            when not is_before_go_live then 0
        end as amount_paid_minor,
        case
            when is_finalized_in_stripe and stripe_status in ('paid', 'void') then 0
            when is_finalized_in_stripe then stripe_amount_due_minor - stripe_amount_paid_minor
            when not is_before_go_live then total_minor
        end as amount_outstanding_minor,
    from joined

)

select * from final

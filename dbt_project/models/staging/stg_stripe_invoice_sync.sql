{#- Stripe's state of each issued invoice the Stripe step finalized (or tried to), as recorded by it. -#}
with

source as (

    select * from {{ source('stripe', 'invoice_sync') }}

),

final as (

    select
        invoice_id,
        stripe_invoice_id,
        stripe_invoice_number,
        status as stripe_status,
        outcome as stripe_outcome,
        amount_due_minor as stripe_amount_due_minor,
        amount_paid_minor as stripe_amount_paid_minor,
        finalized_at as stripe_finalized_at,
    from source

)

select * from final

{#- Stripe's charges of our issued invoices as the `stripe/payments` step read them (every attempt). -#}
with

source as (

    select * from {{ source('stripe', 'payments') }}

),

final as (

    select
        stripe_charge_id,
        invoice_id,
        customer_id,
        stripe_invoice_id,
        stripe_payment_intent_id,
        currency,
        amount_minor,
        amount_refunded_minor,
        status as payment_status,
        created_at as attempted_at,
        payment_method_type,
        card_brand,
        card_last4,
        failure_code,
        failure_message,
    from source

)

select * from final

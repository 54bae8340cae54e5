{#- One row per payment attempt (a Stripe charge) of an issued invoice, failed ones included, as the
    `stripe/payments` step last read them, in the invoice currency and in the reporting currency at the rate of
    the day it was attempted (revenue calendar). -#}
with

payments as (

    select * from {{ ref('stg_stripe_payments') }}

),

invoices as (

    select * from {{ ref('stg_issued_invoices') }}

),

fx_rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

),

final as (

    select
        payments.stripe_charge_id,
        payments.invoice_id,
        payments.customer_id,
        invoices.billing_date,
        payments.stripe_invoice_id,
        payments.stripe_payment_intent_id,
        payments.payment_status,
        payments.attempted_at,
        {{ revenue_date_of('payments.attempted_at') }} as attempted_date,
        payments.currency,
        payments.amount_minor,
        payments.amount_refunded_minor,
        case when payments.payment_status = 'succeeded' then payments.amount_minor else 0 end as amount_paid_minor,
        fx_rates.reporting_currency,
        {{ to_reporting_minor(
            'case when payments.payment_status = \'succeeded\' then payments.amount_minor else 0 end',
            'fx_rates.minor_unit_digits', 'fx_rates.rate_to_reporting', 'fx_rates.reporting_minor_unit_digits'
        ) }} as amount_paid_reporting_minor,
        payments.payment_method_type,
        payments.card_brand,
        payments.card_last4,
        payments.failure_code,
        payments.failure_message,
    from payments
    inner join invoices
        on payments.invoice_id = invoices.invoice_id
    left join fx_rates
        on
            payments.currency = fx_rates.currency
            and {{ revenue_date_of('payments.attempted_at') }} >= fx_rates.valid_from
            and {{ revenue_date_of('payments.attempted_at') }} < fx_rates.valid_to

)

select * from final

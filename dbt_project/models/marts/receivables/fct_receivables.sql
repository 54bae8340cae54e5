{#- Accounts receivable on the run's as_of: one row per issued invoice still owed (lifecycle `issued`, `open` or
    `partially_paid`, with an amount outstanding), aged by days past its due date: `current` (not yet due),
    `days_1_30`, `days_31_60`, `days_61_90`, `days_over_90`. Uncollectible invoices (written off in Stripe), void, paid and
    billed-elsewhere invoices are not receivables. Amounts in the invoice currency and in the reporting currency
    at the as_of day's rate. -#}
with

collected as (

    select * from {{ ref('int_invoices_collected') }}

),

fx_rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

),

run as (

    select {{ revenue_date_of(as_of_timestamp()) }} as as_of_date

),

aged as (

    select
        collected.invoice_id,
        collected.customer_id,
        collected.billing_date,
        collected.due_date,
        collected.lifecycle_status,
        collected.currency,
        collected.minor_unit_digits,
        collected.amount_due_minor,
        collected.amount_paid_minor,
        collected.amount_outstanding_minor,
        run.as_of_date,
        greatest(date_diff('day', collected.due_date, run.as_of_date), 0) as days_past_due,
    from collected
    cross join run
    where
        collected.lifecycle_status in ('issued', 'open', 'partially_paid')
        and collected.amount_outstanding_minor > 0
        and collected.billing_date <= run.as_of_date

),

final as (

    select
        aged.invoice_id,
        aged.customer_id,
        aged.billing_date,
        aged.due_date,
        aged.lifecycle_status,
        aged.as_of_date,
        aged.days_past_due,
        case
            when aged.days_past_due = 0 then 'current'
            when aged.days_past_due <= 30 then 'days_1_30'
            when aged.days_past_due <= 60 then 'days_31_60'
            when aged.days_past_due <= 90 then 'days_61_90'
            else 'days_over_90'
        end as age_bucket,
        aged.currency,
        aged.minor_unit_digits,
        aged.amount_due_minor,
        aged.amount_paid_minor,
        aged.amount_outstanding_minor,
        fx_rates.reporting_currency,
        {{ to_reporting_minor(
            'aged.amount_outstanding_minor', 'aged.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }} as amount_outstanding_reporting_minor,
    from aged
    left join fx_rates
        on
            aged.currency = fx_rates.currency
            and aged.as_of_date >= fx_rates.valid_from
            and aged.as_of_date < fx_rates.valid_to

)

select * from final

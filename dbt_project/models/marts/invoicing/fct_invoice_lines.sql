{#- Every invoice line as billed or to be billed: the lines of issued invoices exactly as the ledger froze them
    (adjustment and credit lines included), then the lines of invoices not issued yet (`draft`: their grace period
    has not passed) as computed now. Scenarios other than `actual` are never issued, so always draft. An invoice
    with a line too large to price is `held` (never issued) with its `hold_reason` on every line. -#}
with

issued_lines as (

    select * from {{ ref('stg_issued_invoice_lines') }}

),

computed_lines as (

    select * from {{ ref('int_invoice_lines_computed') }}

),

issued as (

    select
        *,
        'actual' as scenario,
        'issued' as invoice_status,
        null::varchar as hold_reason,
    from issued_lines

),

drafts as (

    select
        *,
        case when hold_reason is null then 'draft' else 'held' end as invoice_status,
        null::varchar as adjusted_invoice_id,
        null::varchar as adjusted_line_id,
        null::varchar as adjustment_reason,
        null::bigint as late_event_count,
    from computed_lines
    where scenario <> 'actual' or invoice_id not in (select issued_lines.invoice_id from issued_lines)

),

lines as (

    select * from issued
    union all by name
    select * from drafts

),

final as (

    select
        line_id,
        invoice_id,
        scenario,
        invoice_status,
        hold_reason,
        customer_id,
        billing_date,
        line_number,
        line_type,
        subscription_id,
        plan_id,
        pricing_version,
        metric,
        charge_model,
        tier,
        quantity,
        unit_amount,
        period_start,
        period_end,
        amount,
        amount_minor,
        currency,
        minor_unit_digits,
        rounding_mode,
        description,
        billing_at,
        adjusted_invoice_id,
        adjusted_line_id,
        adjustment_reason,
        late_event_count,
        -- a tax line keeps its jurisdiction in `metric` and its rate (percent) in `unit_amount` (the ledger's
        -- columns); named here
        case when line_type = 'tax' then metric end as tax_jurisdiction,
        case when line_type = 'tax' then unit_amount end as tax_rate_percent,
    from lines

)

select * from final

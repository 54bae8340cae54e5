{{ config(materialized='table') }}

{#- Invoice lines as computed NOW from every accepted event and the current subscriptions and pricing: every fee,
    proration, usage and minimum-spend line of every invoice with a billing date on or before the run's as_of,
    each amount rounded ONCE to the currency's minor unit with the plan's rounding mode.
    This is not what was billed: the Dagster asset `billing/issued_invoices` freezes an invoice into the ledger
    once its grace period has passed and turns later differences between this model and the ledger into
    adjustment lines; `fct_invoice_lines` is what was (or will be) billed.
    Ids are hashes of the line's identity (never of a run or a row number), so a rebuild from the same events and
    configs gives byte-identical lines, and a recomputed line of an issued invoice keeps the issued line's id.
    A line too large to price (its pricing model gave it a `hold_reason` and amount 0) holds its whole invoice:
    every line of that invoice carries the invoice's reasons in `hold_reason`, the ledger does not issue it and
    does not compare it with an issued invoice, so a wrong partial invoice is never billed. -#}
with

fixed_fee_lines as (

    select * from {{ ref('int_fixed_fees_prorated') }}

),

usage_lines as (

    select * from {{ ref('int_usage_charges_priced') }}

),

minimum_spend_lines as (

    select * from {{ ref('int_minimum_spend_trued_up') }}

),

run as (

    select {{ as_of_timestamp() }} as as_of

),

lines as (

    select * from fixed_fee_lines
    union all by name
    select * from usage_lines
    union all by name
    select * from minimum_spend_lines

),

lines_dated as (

    select
        lines.*,
        strftime(lines.period_start_date, '%Y-%m-%d') as period_start_text,
        strftime(lines.period_end_date, '%Y-%m-%d') as period_end_text,
    from lines
    cross join run
    where lines.billing_at <= run.as_of

),

lines_shared as (

    select
        *,
        -- the billed share in days for the description (by-second shares shown to 1/100 day; text only)
        case
            when proration_unit = 'second'
                then printf('%.2f of %.2f days', units_billed / 86400, units_in_period / 86400)
            else units_billed || ' of ' || units_in_period || ' days'
        end as share_text,
    from lines_dated

),

lines_identified as (

    select
        *,
        {{ deterministic_id('inv_', ['scenario', 'customer_id', 'billing_date']) }} as invoice_id,
        {{ deterministic_id('il_', [
            'scenario', 'customer_id', 'billing_date', 'line_type', 'subscription_id', 'metric', 'tier',
            'period_start'
        ]) }} as line_id,
        {{ round_to_minor('amount', 'minor_unit_digits', 'rounding_mode', 'currency') }} as amount_minor,
    from lines_shared

),

-- the invoice's reasons, on every one of its lines: causes (a fee or usage too large) before the true-ups that
-- wait for them
invoice_hold_reasons as (

    select
        invoice_id,
        hold_reason,
        min(case when line_type = 'minimum_spend_true_up' then 1 else 0 end) as is_consequence,
    from lines_identified
    where hold_reason is not null
    group by invoice_id, hold_reason

),

invoice_holds as (

    select
        invoice_id,
        string_agg(hold_reason, '; ' order by is_consequence, hold_reason) as invoice_hold_reason,
    from invoice_hold_reasons
    group by invoice_id

),

lines_held as (

    select
        lines_identified.*,
        invoice_holds.invoice_hold_reason,
    from lines_identified
    left join invoice_holds
        on lines_identified.invoice_id = invoice_holds.invoice_id

),

lines_described as (

    select
        *,
        case
            when hold_reason is not null
                then plan_name || ' - ' || coalesce(metric_name, metric, replace(line_type, '_', ' '))
                    || ', ' || period_start_text || ' to ' || period_end_text || ': not priced (held)'
        end as held_description,
        case line_type
            when 'base_fee'
                then plan_name || ' base fee'
                    || case when quantity <> 1 then ' (' || {{ decimal_text('quantity') }} || ' seats)' else '' end
                    || ', ' || period_start_text || ' to ' || period_end_text
                    || case
                        when units_billed < units_in_period
                            then ' (prorated: ' || share_text || ')'
                        else ''
                    end
            when 'proration_credit'
                then 'Unused time on ' || plan_name
                    || case when quantity <> 1 then ' (' || {{ decimal_text('quantity') }} || ' seats)' else '' end
                    || ' from ' || period_start_text || ' to ' || period_end_text
                    || ' (' || share_text || ')'
            when 'proration_charge'
                then 'Remaining time on ' || plan_name
                    || case when quantity <> 1 then ' (' || {{ decimal_text('quantity') }} || ' seats)' else '' end
                    || ' from ' || period_start_text || ' to ' || period_end_text
                    || ' (' || share_text || ')'
            when 'usage'
                then plan_name || ' - ' || coalesce(metric_name, metric)
                    || case
                        when charge_model = 'package'
                            then ': ' || {{ decimal_text('quantity') }} || ' packages for '
                                || {{ decimal_text('billable_quantity') }} || ' units'
                        when charge_model = 'percentage'
                            then ': ' || {{ decimal_text('rate') }} || '% of ' || {{ decimal_text('quantity') }}
                        when charge_model = 'graduated_percentage'
                            then ', tier ' || tier || ': ' || {{ decimal_text('quantity') }} || ' at tier rate'
                        when tier is not null
                            then ', tier ' || tier || ': ' || {{ decimal_text('quantity') }} || ' units'
                        else ': ' || {{ decimal_text('quantity') }} || ' units'
                    end
                    || case
                        when unit_amount is not null and charge_model <> 'package'
                            then ' x ' || {{ decimal_text('unit_amount') }} || ' ' || currency
                        else ''
                    end
                    || case
                        when flat_amount <> 0 then ' + flat ' || {{ decimal_text('flat_amount') }} || ' ' || currency
                        else ''
                    end
                    || case
                        when included_units > 0
                            then ' (' || {{ decimal_text('included_units') }} || ' included)'
                        else ''
                    end
                    || ', ' || period_start_text || ' to ' || period_end_text
            when 'minimum_spend_true_up'
                then 'Minimum spend true-up for ' || plan_name || ': minimum '
                    || {{ decimal_text('round(minimum_amount, 12)') }} || ' ' || currency || ', usage '
                    || {{ decimal_text('round(usage_amount, 12)') }} || ' ' || currency
                    || ', ' || period_start_text || ' to ' || period_end_text
        end as description,
        case line_type
            when 'base_fee' then 1
            when 'proration_credit' then 2
            when 'proration_charge' then 3
            when 'usage' then 4
            when 'minimum_spend_true_up' then 5
        end as line_type_order,
    from lines_held

),

final as (

    select
        line_id,
        invoice_id,
        scenario,
        customer_id,
        billing_date,
        row_number() over (
            partition by invoice_id
            order by line_type_order, period_start, subscription_id, metric nulls first, tier nulls first
        )::integer as line_number,
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
        coalesce(held_description, description) as description,
        billing_at,
        invoice_hold_reason as hold_reason,
    from lines_described

)

select * from final

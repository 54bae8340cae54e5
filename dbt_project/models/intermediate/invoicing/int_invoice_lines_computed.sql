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

customers_tax as (

    select * from {{ ref('int_customers_tax_located') }}

),

tax_rates as (

    select * from {{ ref('stg_tax_rates') }}

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

    union all

    -- a customer whose tax cannot be computed (no location, no rate for it): held, never issued untaxed
    select distinct
        lines_identified.invoice_id,
        customers_tax.tax_hold_reason as hold_reason,
        0 as is_consequence,
    from lines_identified
    inner join customers_tax
        on lines_identified.customer_id = customers_tax.customer_id
    where customers_tax.tax_hold_reason is not null

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

-- tax per charge line: its rounded amount x the rate of the customer's jurisdiction for the line's plan (else
-- the jurisdiction's standard rate), rounded half away from zero to a minor unit per line (10 fils in KWD)
line_taxes as (

    select
        lines_held.invoice_id,
        lines_held.scenario,
        lines_held.customer_id,
        lines_held.billing_date,
        lines_held.billing_at,
        lines_held.currency,
        lines_held.minor_unit_digits,
        lines_held.period_start,
        lines_held.period_end,
        lines_held.amount_minor as taxable_minor,
        customers_tax.jurisdiction,
        customers_tax.jurisdiction_name,
        customers_tax.tax_name,
        customers_tax.tax_id,
        customers_tax.tax_treatment,
        case
            when customers_tax.tax_treatment = 'taxed'
                then coalesce(product_rates.rate_percent, standard_rates.rate_percent)
            else 0
        end::decimal(9, 4) as rate_percent,
    from lines_held
    inner join customers_tax
        on lines_held.customer_id = customers_tax.customer_id
    left join tax_rates as product_rates
        on customers_tax.jurisdiction = product_rates.jurisdiction and lines_held.plan_id = product_rates.product
    left join tax_rates as standard_rates
        on customers_tax.jurisdiction = standard_rates.jurisdiction and standard_rates.product = '*'
    where lines_held.invoice_hold_reason is null and customers_tax.tax_treatment is not null

),

line_taxes_rounded as (

    select
        *,
        taxable_minor::decimal(18, 0) * rate_percent * 0.01 as tax_exact_minor,
        {{ round_minor_units_half_up('taxable_minor::decimal(18, 0) * rate_percent * 0.01', 'currency') }}
            as tax_minor,
    from line_taxes

),

-- one tax line per invoice, jurisdiction and rate: the sum of the lines' rounded taxes
tax_lines as (

    select
        invoice_id,
        scenario,
        customer_id,
        billing_date,
        min(billing_at) as billing_at,
        currency,
        minor_unit_digits,
        min(period_start) as period_start,
        max(period_end) as period_end,
        jurisdiction,
        jurisdiction_name,
        tax_name,
        tax_id,
        tax_treatment,
        rate_percent,
        sum(taxable_minor)::bigint as taxable_minor,
        sum(tax_exact_minor) as tax_exact_minor,
        sum(tax_minor)::bigint as amount_minor,
    from line_taxes_rounded
    group by all
    having sum(taxable_minor) <> 0 or sum(tax_minor) <> 0

),

tax_lines_described as (

    select
        {{ deterministic_id('il_', [
            'scenario', 'customer_id', 'billing_date', "'tax'", 'jurisdiction', 'rate_percent'
        ]) }} as line_id,
        invoice_id,
        scenario,
        customer_id,
        billing_date,
        'tax' as line_type,
        null::varchar as subscription_id,
        null::varchar as plan_id,
        null::varchar as pricing_version,
        jurisdiction as metric,
        'tax' as charge_model,
        null::integer as tier,
        taxable_minor * {{ minor_unit_size('minor_unit_digits') }} as quantity,
        rate_percent as unit_amount,
        period_start,
        period_end,
        tax_exact_minor * {{ minor_unit_size('minor_unit_digits') }} as amount,
        amount_minor,
        currency,
        minor_unit_digits,
        'half_up' as rounding_mode,
        tax_name || ' ' || {{ decimal_text('rate_percent') }} || '% (' || jurisdiction_name || ', '
        || jurisdiction || ')'
        || case tax_treatment
            when 'customer_exempt' then ': customer exempt'
            when 'reverse_charge'
                then ': reverse charge, the customer' || coalesce(' (tax id ' || tax_id || ')', '')
                    || ' accounts for the tax'
            when 'exempt_region' then ': not levied in this region'
            else ''
        end
        || ' on ' || {{ decimal_text('taxable_minor * ' ~ minor_unit_size('minor_unit_digits')) }} || ' '
        || currency as description,
        billing_at,
        null::varchar as hold_reason,
        6 as line_type_order,
    from tax_lines

),

charge_lines as (

    select
        line_id,
        invoice_id,
        scenario,
        customer_id,
        billing_date,
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
        line_type_order,
    from lines_described

),

all_lines as (

    select * from charge_lines
    union all by name
    select * from tax_lines_described

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
            order by
                line_type_order, period_start, subscription_id, metric nulls first, tier nulls first, unit_amount
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
        description,
        billing_at,
        hold_reason,
    from all_lines

)

select * from final

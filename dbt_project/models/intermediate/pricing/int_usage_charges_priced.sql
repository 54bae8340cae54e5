{{ config(materialized='table') }}

{#- Usage charge lines (exact amounts, not yet rounded): every metered charge of the plan of every subscription
    segment of every window, in every pricing scenario, applied to the segment's usage. Usage is never prorated:
    each event was aggregated under the subscription in force when it occurred, and tiers apply per subscription
    segment. A charge with no usage still exists (a tier-1 flat fee is owed at zero quantity, as Stripe and Lago
    bill it); lines with neither quantity nor amount are dropped. Semantics: DECISIONLOG.md (Charge models).
    Every line is first estimated in floating point (`amount_estimate`); only a line that fits (macro
    fits_in_a_line) is priced exactly, inside a CASE branch, so usage too large to represent (thousands of events at
    the 10^15 maximum) never aborts the build: the line gets amount 0 and a `hold_reason`, and its invoice is held
    (int_invoice_lines_computed). -#}
{%- set per_unit_estimate = 'billable_quantity::double * unit_amount::double' %}
{%- set packages_estimate -%}
    case package_rounding
        when 'down' then floor(billable_quantity::double / package_size::double)
        else ceil(billable_quantity::double / package_size::double)
    end
{%- endset %}
{%- set tier_estimate = 'quantity_in_tier::double * tier_unit_price::double + tier_flat_amount::double' %}
{%- set volume_estimate = 'billable_quantity::double * tier_unit_price::double + tier_flat_amount::double' %}
with

subscription_segments as (

    select * from {{ ref('int_subscription_segments_priced') }}
    where is_plan_priced

),

usage_aggregated as (

    select * from {{ ref('int_usage_aggregated_to_billing_windows') }}
    where billing_status = 'billable'

),

charges as (

    select * from {{ ref('stg_pricing_charges') }}

),

charge_tiers as (

    select * from {{ ref('stg_pricing_charge_tiers') }}

),

percentage_fees as (

    select * from {{ ref('int_usage_percentage_fees_summed') }}

),

metrics as (

    select * from {{ ref('stg_pricing_metrics') }}

),

-- trial and paid parts of one subscription in one window are one usage segment
subscription_windows as (

    select
        scenario,
        customer_id,
        currency,
        window_start,
        window_end,
        window_start_date,
        window_end_date,
        pricing_version,
        subscription_id,
        plan_id,
        plan_name,
        minor_unit_digits,
        rounding_mode,
    from subscription_segments
    group by all

),

charges_applied as (

    select
        subscription_windows.*,
        charges.metric,
        metrics.metric_name,
        charges.charge_model,
        charges.included_units,
        charges.unit_amount,
        charges.package_size,
        charges.package_amount,
        charges.package_rounding,
        charges.rate,
        coalesce(usage_aggregated.billed_quantity, 0)::decimal(38, 12) as window_quantity,
        greatest(coalesce(usage_aggregated.billed_quantity, 0) - charges.included_units, 0)::decimal(38, 12)
            as billable_quantity,
    from subscription_windows
    inner join charges
        on
            subscription_windows.scenario = charges.scenario
            and subscription_windows.pricing_version = charges.pricing_version
            and subscription_windows.plan_id = charges.plan_id
            and subscription_windows.currency = charges.currency
    left join metrics
        on
            charges.scenario = metrics.scenario
            and charges.pricing_version = metrics.pricing_version
            and charges.metric = metrics.metric
    left join usage_aggregated
        on
            subscription_windows.customer_id = usage_aggregated.customer_id
            and subscription_windows.window_start = usage_aggregated.window_start
            and subscription_windows.subscription_id = usage_aggregated.subscription_id
            and charges.metric = usage_aggregated.metric

),

per_unit_lines as (

    select
        *,
        null::integer as tier,
        billable_quantity as line_quantity,
        unit_amount as line_unit_amount,
        0::decimal(38, 12) as flat_amount,
        {{ per_unit_estimate }} as amount_estimate,
        case
            when {{ fits_in_a_line(per_unit_estimate, 'minor_unit_digits') }}
                then {{ as_amount('billable_quantity * unit_amount') }}
        end as amount,
    from charges_applied
    where charge_model = 'per_unit'

),

packages_estimated as (

    select
        *,
        null::integer as tier,
        -- a package count above 10^15 would overflow packages_in's bigint long before any amount limit
        {{ packages_estimate }} < 1e15
        and {{ fits_in_a_line('(' ~ packages_estimate ~ ') * package_amount::double', 'minor_unit_digits') }}
            as is_representable,
        ({{ packages_estimate }}) * package_amount::double as amount_estimate,
    from charges_applied
    where charge_model = 'package'

),

package_lines as (

    select
        * exclude (is_representable),
        case
            when is_representable
                then {{ packages_in('billable_quantity', 'package_size', 'package_rounding') }}::decimal(38, 12)
        end as line_quantity,
        package_amount as line_unit_amount,
        0::decimal(38, 12) as flat_amount,
        case
            when is_representable
                then {{ as_amount(
                    packages_in('billable_quantity', 'package_size', 'package_rounding') ~ ' * package_amount'
                ) }}
        end as amount,
    from packages_estimated

),

charges_tiered as (

    select
        charges_applied.*,
        charge_tiers.tier_number,
        charge_tiers.lower_bound,
        charge_tiers.up_to,
        coalesce(charge_tiers.flat_amount, 0) as tier_flat_amount,
        case charges_applied.charge_model
            when 'graduated_percentage' then (charge_tiers.rate * 0.01)::decimal(38, 14)
            else charge_tiers.unit_amount::decimal(38, 14)
        end as tier_unit_price,
        charge_tiers.unit_amount as tier_unit_amount,
        -- tier 1 is always entered, so a zero quantity still owes tier 1's flat amount
        charges_applied.billable_quantity > charge_tiers.lower_bound or charge_tiers.tier_number = 1 as is_entered,
        (
            charges_applied.billable_quantity > charge_tiers.lower_bound
            and (charge_tiers.up_to is null or charges_applied.billable_quantity <= charge_tiers.up_to)
        )
        or (charges_applied.billable_quantity = 0 and charge_tiers.tier_number = 1) as contains_quantity,
        -- the units that fall in this tier (graduated models)
        greatest(
            least(
                charges_applied.billable_quantity, coalesce(charge_tiers.up_to, charges_applied.billable_quantity)
            ) - charge_tiers.lower_bound,
            0
        ) as quantity_in_tier,
    from charges_applied
    inner join charge_tiers
        on
            charges_applied.scenario = charge_tiers.scenario
            and charges_applied.pricing_version = charge_tiers.pricing_version
            and charges_applied.plan_id = charge_tiers.plan_id
            and charges_applied.currency = charge_tiers.currency
            and charges_applied.metric = charge_tiers.metric
    where charges_applied.charge_model in ('graduated', 'volume', 'graduated_percentage')

),

-- graduated: each tier's units at that tier's price, plus the flat amount of every tier entered
graduated_lines as (

    select
        * exclude (
            tier_number, lower_bound, up_to, tier_flat_amount, tier_unit_price, tier_unit_amount, is_entered,
            contains_quantity, quantity_in_tier
        ),
        tier_number as tier,
        quantity_in_tier::decimal(38, 12) as line_quantity,
        tier_unit_amount as line_unit_amount,
        tier_flat_amount as flat_amount,
        {{ tier_estimate }} as amount_estimate,
        -- every term in the amount type, so no type resolution narrows the scale (see int_usage_percentage_fees_summed)
        case
            when {{ fits_in_a_line(tier_estimate, 'minor_unit_digits') }}
                then {{ as_amount('quantity_in_tier * tier_unit_price') }} + {{ as_amount('tier_flat_amount') }}
        end as amount,
    from charges_tiered
    where charge_model in ('graduated', 'graduated_percentage') and is_entered

),

-- volume: every unit at the price of the tier the total falls in, plus only that tier's flat amount
volume_lines as (

    select
        * exclude (
            tier_number, lower_bound, up_to, tier_flat_amount, tier_unit_price, tier_unit_amount, is_entered,
            contains_quantity, quantity_in_tier
        ),
        tier_number as tier,
        billable_quantity as line_quantity,
        tier_unit_amount as line_unit_amount,
        tier_flat_amount as flat_amount,
        {{ volume_estimate }} as amount_estimate,
        case
            when {{ fits_in_a_line(volume_estimate, 'minor_unit_digits') }}
                then {{ as_amount('billable_quantity * tier_unit_price') }} + {{ as_amount('tier_flat_amount') }}
        end as amount,
    from charges_tiered
    where charge_model = 'volume' and contains_quantity

),

percentage_lines as (

    select
        charges_applied.*,
        null::integer as tier,
        coalesce(percentage_fees.summed_quantity, 0)::decimal(38, 12) as line_quantity,
        null::decimal(38, 12) as line_unit_amount,
        0::decimal(38, 12) as flat_amount,
        coalesce(percentage_fees.fee_estimate, 0) as amount_estimate,
        -- int_usage_percentage_fees_summed leaves fee_amount null where even its own (looser) check fails
        case
            when {{ fits_in_a_line('coalesce(percentage_fees.fee_estimate, 0)', 'charges_applied.minor_unit_digits') }}
                then coalesce(percentage_fees.fee_amount, {{ as_amount('0') }})
        end as amount,
    from charges_applied
    left join percentage_fees
        on
            charges_applied.scenario = percentage_fees.scenario
            and charges_applied.customer_id = percentage_fees.customer_id
            and charges_applied.window_start = percentage_fees.window_start
            and charges_applied.subscription_id = percentage_fees.subscription_id
            and charges_applied.metric = percentage_fees.metric
    where charges_applied.charge_model = 'percentage'

),

usage_lines as (

    select * from per_unit_lines
    union all by name
    select * from package_lines
    union all by name
    select * from graduated_lines
    union all by name
    select * from volume_lines
    union all by name
    select * from percentage_lines

),

final as (

    select
        scenario,
        customer_id,
        currency,
        window_end as billing_at,
        'usage' as line_type,
        subscription_id,
        plan_id,
        plan_name,
        pricing_version,
        metric,
        metric_name,
        charge_model,
        tier,
        line_quantity as quantity,
        line_unit_amount as unit_amount,
        flat_amount,
        rate,
        window_quantity,
        included_units,
        billable_quantity,
        window_start as period_start,
        window_end as period_end,
        window_end_date as billing_date,
        window_start_date as period_start_date,
        window_end_date as period_end_date,
        window_start,
        window_end,
        -- a held line (not representable) has amount 0; its invoice is held, never issued with it
        coalesce(amount, {{ as_amount('0') }}) as amount,
        amount_estimate,
        case
            when amount is null
                then {{ line_hold_reason(
                    "'usage of ' || metric || ' in ' || strftime(window_start_date, '%Y-%m-%d') || '..'"
                    ~ " || strftime(window_end_date, '%Y-%m-%d')",
                    'amount_estimate', 'currency', 'minor_unit_digits',
                    "'check the events (quantity_above_maximum is 10^15 per event)'"
                ) }}
        end as hold_reason,
        minor_unit_digits,
        rounding_mode,
    from usage_lines
    where line_quantity <> 0 or amount <> 0 or amount is null

)

select * from final

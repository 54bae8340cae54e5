{#- One row per what-if scenario and issued invoice dated in the range (dbt vars whatif_from, whatif_to): what was
    issued, and what the scenario would have billed. Built only in the what-if database (`billing whatif`), where
    the pricing models have priced `actual` and every scenario on the same aggregated usage, each customer id
    prefixed by its scenario. The change of an invoice is the scenario's lines minus actual's, both computed now by
    the same models; the scenario's total is the issued total plus that change, so `actual_minor` is exactly the
    ledger's and a scenario identical to actual changes nothing. Adjustment and credit lines stay as issued. -#}
with

-- the priced lines, as int_invoice_lines_computed unions them (its ids and descriptions are not needed here)
invoice_lines as (

    select * from {{ ref('int_fixed_fees_prorated') }}
    union all by name
    select * from {{ ref('int_usage_charges_priced') }}
    union all by name
    select * from {{ ref('int_minimum_spend_trued_up') }}

),

issued_invoices as (

    select * from {{ source('billing', 'issued_invoices') }}

),

scenarios as (

    select * from {{ source('whatif_inputs', 'scenarios') }}

),

fx_rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

),

plan_cadences as (

    select
        plan_id,
        -- a plan's cadence is the same in every version and currency (pricing config rule)
        any_value(
            case interval_unit
                when 'month' then interval_count
                when 'year' then 12 * interval_count
            end
        ) as cadence_months,
    from {{ ref('stg_pricing_plans') }}
    group by plan_id

),

lines_split as (

    select
        substr(customer_id, 1, strpos(customer_id, '/') - 1) as scenario,
        substr(customer_id, strpos(customer_id, '/') + 1) as customer_id,
        billing_date,
        plan_id,
        -- rounded once per line with the plan's mode, the macro billing uses
        {{ round_to_minor('amount', 'minor_unit_digits', 'rounding_mode', 'currency') }} as amount_minor,
    from invoice_lines
    where
        billing_date >= date '{{ var("whatif_from") }}'
        and billing_date < date '{{ var("whatif_to") }}'

),

invoices_computed as (

    select
        scenario,
        customer_id,
        billing_date,
        sum(amount_minor)::bigint as computed_minor,
        -- the plan of the invoice's largest line names the invoice's plan (ties: the last plan id, so it is stable)
        arg_max(plan_id, (abs(amount_minor), plan_id)) as plan_id,
    from lines_split
    group by scenario, customer_id, billing_date

),

issued_in_range as (

    select * from issued_invoices
    where
        billing_date >= date '{{ var("whatif_from") }}'
        and billing_date < date '{{ var("whatif_to") }}'

),

compared as (

    select
        scenarios.scenario,
        issued_in_range.invoice_id,
        issued_in_range.customer_id,
        issued_in_range.billing_date,
        issued_in_range.currency,
        actual_computed.plan_id,
        coalesce(scenario_computed.plan_id, actual_computed.plan_id) as scenario_plan_id,
        issued_in_range.total_minor as actual_minor,
        coalesce(actual_computed.computed_minor, 0) as actual_computed_minor,
        coalesce(scenario_computed.computed_minor, 0) as scenario_computed_minor,
    from issued_in_range
    cross join scenarios
    left join invoices_computed as actual_computed
        on
            actual_computed.scenario = 'actual'
            and issued_in_range.customer_id = actual_computed.customer_id
            and issued_in_range.billing_date = actual_computed.billing_date
    left join invoices_computed as scenario_computed
        on
            scenarios.scenario = scenario_computed.scenario
            and issued_in_range.customer_id = scenario_computed.customer_id
            and issued_in_range.billing_date = scenario_computed.billing_date
    where not scenarios.is_actual

),

changed as (

    select
        *,
        scenario_computed_minor - actual_computed_minor as change_minor,
        actual_minor + scenario_computed_minor - actual_computed_minor as scenario_minor,
    from compared

),

final as (

    select
        changed.scenario,
        changed.invoice_id,
        changed.customer_id,
        changed.billing_date,
        date_trunc('month', changed.billing_date)::date as billing_month,
        changed.currency,
        changed.plan_id,
        changed.scenario_plan_id,
        plan_cadences.cadence_months,
        changed.actual_minor,
        changed.scenario_minor,
        changed.change_minor,
        changed.actual_computed_minor,
        changed.scenario_computed_minor,
        fx_rates.reporting_currency,
        {{ to_reporting_minor(
            'changed.actual_minor', 'fx_rates.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }} as actual_reporting_minor,
        {{ to_reporting_minor(
            'changed.scenario_minor', 'fx_rates.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }} as scenario_reporting_minor,
    from changed
    left join plan_cadences
        on changed.plan_id = plan_cadences.plan_id
    left join fx_rates
        on
            changed.currency = fx_rates.currency
            and changed.billing_date >= fx_rates.valid_from
            and changed.billing_date < fx_rates.valid_to

)

select * from final

{#- One row per plan price: scenario x pricing version x plan x currency, with when the version is in force and a
    summary of its charges, so an analyst can read the price book without opening YAML. -#}
with

pricing_plans as (

    select * from {{ ref('stg_pricing_plans') }}

),

pricing_versions as (

    select * from {{ ref('stg_pricing_versions') }}

),

charges as (

    select * from {{ ref('stg_pricing_charges') }}

),

version_spans as (

    select
        scenario,
        pricing_version,
        effective_from,
        lead(effective_from) over (partition by scenario order by effective_from) as effective_to,
    from pricing_versions

),

charge_summaries as (

    select
        scenario,
        pricing_version,
        plan_id,
        currency,
        count(*)::integer as charge_count,
        string_agg(metric || ' (' || charge_model || ')', ', ' order by metric) as charges_description,
    from charges
    group by scenario, pricing_version, plan_id, currency

),

final as (

    select
        pricing_plans.scenario,
        pricing_plans.pricing_version,
        pricing_plans.plan_id,
        pricing_plans.currency,
        pricing_plans.plan_name,
        version_spans.effective_from,
        version_spans.effective_to,
        pricing_plans.interval_unit,
        pricing_plans.interval_count,
        pricing_plans.billing_time,
        pricing_plans.base_fee_amount,
        pricing_plans.base_fee_timing,
        pricing_plans.proration_unit,
        pricing_plans.minimum_spend_amount,
        pricing_plans.rounding_mode,
        pricing_plans.minor_unit_digits,
        coalesce(charge_summaries.charge_count, 0) as charge_count,
        charge_summaries.charges_description,
    from pricing_plans
    inner join version_spans
        on
            pricing_plans.scenario = version_spans.scenario
            and pricing_plans.pricing_version = version_spans.pricing_version
    left join charge_summaries
        on
            pricing_plans.scenario = charge_summaries.scenario
            and pricing_plans.pricing_version = charge_summaries.pricing_version
            and pricing_plans.plan_id = charge_summaries.plan_id
            and pricing_plans.currency = charge_summaries.currency

)

select * from final

{{ config(materialized='table') }}

{#- Every billing window once per pricing scenario, with the pricing version that prices it: the customer's pinned
    version (grandfathering) when that version exists in the scenario, else the version in force at the window's
    start (latest effective_from on or before the window's local start date). Windows that start before the first
    version's effective_from are priced by the earliest version and flagged. -#}
with

billing_windows as (

    select * from {{ ref('int_billing_windows') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

pricing_versions as (

    select * from {{ ref('stg_pricing_versions') }}

),

scenarios as (

    select
        scenario,
        min(effective_from) as first_effective_from,
    from pricing_versions
    group by scenario

),

windows_in_scenarios as (

    select
        scenarios.scenario,
        scenarios.first_effective_from,
        billing_windows.customer_id,
        billing_windows.window_index,
        billing_windows.window_start_date,
        billing_windows.window_end_date,
        billing_windows.window_start,
        billing_windows.window_end,
        billing_windows.period_start,
        billing_windows.period_end,
        billing_windows.is_closed,
        billing_windows.timezone,
        customers.currency,
        customers.pinned_pricing_version,
    from billing_windows
    cross join scenarios
    inner join customers
        on billing_windows.customer_id = customers.customer_id

),

versions_in_force as (

    select
        windows_in_scenarios.scenario,
        windows_in_scenarios.customer_id,
        windows_in_scenarios.window_start,
        pricing_versions.pricing_version,
        row_number() over (
            partition by
                windows_in_scenarios.scenario, windows_in_scenarios.customer_id, windows_in_scenarios.window_start
            order by
                -- a version effective after the window's start only counts when no version is (the earliest one)
                pricing_versions.effective_from <= windows_in_scenarios.window_start_date desc,
                case
                    when pricing_versions.effective_from <= windows_in_scenarios.window_start_date
                        then pricing_versions.effective_from
                end desc nulls last,
                pricing_versions.effective_from asc
        ) as version_rank,
    from windows_in_scenarios
    inner join pricing_versions
        on windows_in_scenarios.scenario = pricing_versions.scenario

),

final as (

    select
        windows_in_scenarios.scenario,
        windows_in_scenarios.customer_id,
        windows_in_scenarios.window_index,
        windows_in_scenarios.window_start_date,
        windows_in_scenarios.window_end_date,
        windows_in_scenarios.window_start,
        windows_in_scenarios.window_end,
        windows_in_scenarios.period_start,
        windows_in_scenarios.period_end,
        windows_in_scenarios.is_closed,
        windows_in_scenarios.timezone,
        windows_in_scenarios.currency,
        coalesce(pinned_versions.pricing_version, versions_in_force.pricing_version) as pricing_version,
        case
            when pinned_versions.pricing_version is not null then 'pinned'
            when windows_in_scenarios.window_start_date < windows_in_scenarios.first_effective_from
                then 'before_first_version'
            else 'effective'
        end as pricing_version_source,
    from windows_in_scenarios
    inner join versions_in_force
        on
            windows_in_scenarios.scenario = versions_in_force.scenario
            and windows_in_scenarios.customer_id = versions_in_force.customer_id
            and windows_in_scenarios.window_start = versions_in_force.window_start
            and versions_in_force.version_rank = 1
    left join pricing_versions as pinned_versions
        on
            windows_in_scenarios.scenario = pinned_versions.scenario
            and windows_in_scenarios.pinned_pricing_version = pinned_versions.pricing_version

)

select * from final

with

source as (

    select * from {{ source('raw', 'pricing_charges') }}

),

renamed as (

    select
        scenario,
        pricing_version,
        plan_id,
        upper(currency) as currency,
        metric,
        lower(charge_model) as charge_model,
        included_units::decimal(38, 12) as included_units,
        unit_amount::decimal(38, 12) as unit_amount,
        package_size::decimal(38, 12) as package_size,
        package_amount::decimal(38, 12) as package_amount,
        lower(package_rounding) as package_rounding,
        rate::decimal(38, 12) as rate,
        fixed_fee_per_event::decimal(38, 12) as fixed_fee_per_event,
        per_event_min_amount::decimal(38, 12) as per_event_min_amount,
        per_event_max_amount::decimal(38, 12) as per_event_max_amount,
        free_units_per_events::integer as free_units_per_events,
        free_units_per_total_aggregation::decimal(38, 12) as free_units_per_total_aggregation,
        source_file,

    from source

)

select * from renamed

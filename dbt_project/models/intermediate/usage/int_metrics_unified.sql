-- One row per billable metric across pricing versions. The loader guarantees a metric's aggregation and unique
-- property are the same in every version, so any version's values stand for all.
with

pricing_metrics as (

    select * from {{ ref('stg_pricing_metrics') }}
    -- what-if scenarios re-price usage; which events count is the actual configs' definition
    where scenario = 'actual'

),

final as (

    select
        metric,
        any_value(aggregation) as aggregation,
        any_value(unique_property) as unique_property,
    from pricing_metrics
    group by metric

)

select * from final

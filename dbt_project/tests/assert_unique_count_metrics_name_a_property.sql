-- A unique_count metric without a unique property would bill nothing; stop the run instead.
select * from {{ ref('stg_pricing_metrics') }}
where aggregation = 'unique_count' and unique_property is null

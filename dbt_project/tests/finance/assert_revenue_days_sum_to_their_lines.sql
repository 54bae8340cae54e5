{{ config(meta={'dagster': {'ref': {'name': 'int_revenue_allocated_to_days'}}}) }}

-- Every revenue line of the invoices is recognized exactly once, to the minor unit: its days sum to its amount,
-- and no line is missing from the allocation. Returns the lines that do not tie.
with

lines as (

    select * from {{ ref('int_revenue_lines_typed') }}

),

line_days as (

    select
        line_id,
        sum(amount_minor) as allocated_minor,
    from {{ ref('int_revenue_allocated_to_days') }}
    group by line_id

)

select
    lines.line_id,
    lines.customer_id,
    lines.amount_minor,
    line_days.allocated_minor,
from lines
left join line_days
    on lines.line_id = line_days.line_id
where line_days.allocated_minor is distinct from lines.amount_minor

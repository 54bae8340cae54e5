{#- Deferred revenue per customer at each month end (revenue time zone), from the customer's first billed or
    recognized month through the month of the run's as_of, in the invoice currency.
    Billed to date comes from the invoice lines themselves; recognized and deferred from the day allocation:
    `billed_to_date = recognized_of_billed_to_date + deferred` is the tie-out (a dbt test). Revenue recognized on
    lines billed only after the month end (usage billed in arrears, a proration settled on the next invoice) is
    `unbilled_revenue_minor`, the contract asset; `recognized_to_date = recognized_of_billed + unbilled`.
    The as_of month's row is measured at the month's end, counting only what was billed by as_of. -#}
with

lines as (

    select * from {{ ref('int_revenue_lines_typed') }}

),

line_days as (

    select * from {{ ref('int_revenue_allocated_to_days') }}

),

run as (

    select date_trunc('month', {{ revenue_date_of(as_of_timestamp()) }})::date as as_of_month

),

-- billed amounts straight from the invoice lines, independently of the allocation
billed_by_month as (

    select
        customer_id,
        currency,
        date_trunc('month', billed_on)::date as billed_month,
        sum(amount_minor)::bigint as billed_minor,
    from lines
    group by customer_id, currency, billed_month

),

-- recognized amounts by the month they were billed in and the month they are recognized in
allocated_cells as (

    select
        customer_id,
        currency,
        billed_month,
        revenue_month,
        sum(amount_minor)::bigint as amount_minor,
    from line_days
    group by customer_id, currency, billed_month, revenue_month

),

customer_bounds as (

    select
        customer_id,
        currency,
        min(least(billed_month, revenue_month)) as first_month,
    from allocated_cells
    group by customer_id, currency

),

customer_months as (

    select
        customer_bounds.customer_id,
        customer_bounds.currency,
        unnest(
            generate_series(customer_bounds.first_month, run.as_of_month, interval 1 month)
        )::date as revenue_month,
    from customer_bounds
    cross join run

),

billed_to_date as (

    select
        customer_months.customer_id,
        customer_months.currency,
        customer_months.revenue_month,
        coalesce(sum(billed_by_month.billed_minor), 0)::bigint as billed_to_date_minor,
        coalesce(
            sum(billed_by_month.billed_minor) filter (
                where billed_by_month.billed_month = customer_months.revenue_month
            ),
            0
        )::bigint as billed_in_month_minor,
    from customer_months
    left join billed_by_month
        on
            customer_months.customer_id = billed_by_month.customer_id
            and customer_months.currency = billed_by_month.currency
            and customer_months.revenue_month >= billed_by_month.billed_month
    group by customer_months.customer_id, customer_months.currency, customer_months.revenue_month

),

allocated_to_date as (

    select
        customer_months.customer_id,
        customer_months.currency,
        customer_months.revenue_month,
        coalesce(sum(allocated_cells.amount_minor) filter (
            where allocated_cells.billed_month <= customer_months.revenue_month
            and allocated_cells.revenue_month <= customer_months.revenue_month
        ), 0)::bigint as recognized_of_billed_to_date_minor,
        coalesce(sum(allocated_cells.amount_minor) filter (
            where allocated_cells.billed_month <= customer_months.revenue_month
            and allocated_cells.revenue_month > customer_months.revenue_month
        ), 0)::bigint as deferred_revenue_minor,
        coalesce(sum(allocated_cells.amount_minor) filter (
            where allocated_cells.billed_month > customer_months.revenue_month
            and allocated_cells.revenue_month <= customer_months.revenue_month
        ), 0)::bigint as unbilled_revenue_minor,
        coalesce(sum(allocated_cells.amount_minor) filter (
            where allocated_cells.revenue_month = customer_months.revenue_month
        ), 0)::bigint as recognized_in_month_minor,
    from customer_months
    left join allocated_cells
        on
            customer_months.customer_id = allocated_cells.customer_id
            and customer_months.currency = allocated_cells.currency
    group by customer_months.customer_id, customer_months.currency, customer_months.revenue_month

),

final as (

    select
        billed_to_date.customer_id,
        billed_to_date.revenue_month,
        last_day(billed_to_date.revenue_month) as month_end_date,
        billed_to_date.currency,
        billed_to_date.billed_in_month_minor,
        allocated_to_date.recognized_in_month_minor,
        billed_to_date.billed_to_date_minor,
        allocated_to_date.recognized_of_billed_to_date_minor
        + allocated_to_date.unbilled_revenue_minor as recognized_to_date_minor,
        allocated_to_date.recognized_of_billed_to_date_minor,
        allocated_to_date.deferred_revenue_minor,
        allocated_to_date.unbilled_revenue_minor,
        billed_to_date.revenue_month = run.as_of_month as is_current_month,
    from billed_to_date
    inner join allocated_to_date
        on
            billed_to_date.customer_id = allocated_to_date.customer_id
            and billed_to_date.currency = allocated_to_date.currency
            and billed_to_date.revenue_month = allocated_to_date.revenue_month
    cross join run

)

select * from final

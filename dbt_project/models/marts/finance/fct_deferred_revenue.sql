{#- Deferred revenue per customer at each month end (revenue time zone), from the customer's first billed or
    recognized month through the month of the run's as_of, in the invoice currency.
    Billed to date comes from the invoice lines themselves; recognized and deferred from the day allocation:
    `billed_to_date = recognized_of_billed_to_date + deferred` is the tie-out (a dbt test). Revenue recognized on
    lines billed only after the month end (usage billed in arrears, a proration settled on the next invoice) is
    `unbilled_revenue_minor`, the contract asset; `recognized_to_date = recognized_of_billed + unbilled`.
    The as_of month's row is measured at the month's end, counting only what was billed by as_of.
    Every balance is a running sum over months: an allocated amount billed in month b and recognized in month r
    counts as allocated-billed from b, recognized from r, and recognized-of-billed from the later of the two. -#}
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

-- each amount once per balance it enters, keyed by the month it enters it
monthly_flows as (

    -- billed, straight from the invoice lines (independent of the allocation)
    select
        customer_id,
        currency,
        date_trunc('month', billed_on)::date as revenue_month,
        amount_minor as billed_minor,
        0 as allocated_billed_minor,
        0 as recognized_minor,
        0 as recognized_of_billed_minor,
    from lines
    union all
    select
        customer_id,
        currency,
        billed_month as revenue_month,
        0 as billed_minor,
        amount_minor as allocated_billed_minor,
        0 as recognized_minor,
        0 as recognized_of_billed_minor,
    from allocated_cells
    union all
    select
        customer_id,
        currency,
        revenue_month,
        0 as billed_minor,
        0 as allocated_billed_minor,
        amount_minor as recognized_minor,
        0 as recognized_of_billed_minor,
    from allocated_cells
    union all
    select
        customer_id,
        currency,
        greatest(billed_month, revenue_month) as revenue_month,
        0 as billed_minor,
        0 as allocated_billed_minor,
        0 as recognized_minor,
        amount_minor as recognized_of_billed_minor,
    from allocated_cells

),

flows_by_month as (

    select
        customer_id,
        currency,
        revenue_month,
        sum(billed_minor)::bigint as billed_minor,
        sum(allocated_billed_minor)::bigint as allocated_billed_minor,
        sum(recognized_minor)::bigint as recognized_minor,
        sum(recognized_of_billed_minor)::bigint as recognized_of_billed_minor,
    from monthly_flows
    group by customer_id, currency, revenue_month

),

customer_months as (

    select
        customer_bounds.customer_id,
        customer_bounds.currency,
        unnest(
            generate_series(customer_bounds.first_month, run.as_of_month, interval 1 month)
        )::date as revenue_month,
    from (
        select
            customer_id,
            currency,
            min(revenue_month) as first_month,
        from flows_by_month
        group by customer_id, currency
    ) as customer_bounds
    cross join run

),

-- months after the as_of month (future recognition of fees billed in advance) count from the spine's last month
spine_flows as (

    select
        customer_months.customer_id,
        customer_months.currency,
        customer_months.revenue_month,
        coalesce(flows_by_month.billed_minor, 0) as billed_minor,
        coalesce(flows_by_month.allocated_billed_minor, 0) as allocated_billed_minor,
        coalesce(flows_by_month.recognized_minor, 0) as recognized_minor,
        coalesce(flows_by_month.recognized_of_billed_minor, 0) as recognized_of_billed_minor,
    from customer_months
    left join flows_by_month
        on
            customer_months.customer_id = flows_by_month.customer_id
            and customer_months.currency = flows_by_month.currency
            and customer_months.revenue_month = flows_by_month.revenue_month

),

running as (

    select
        customer_id,
        currency,
        revenue_month,
        billed_minor as billed_in_month_minor,
        recognized_minor as recognized_in_month_minor,
        sum(billed_minor) over to_date as billed_to_date_minor,
        sum(allocated_billed_minor) over to_date as allocated_billed_to_date_minor,
        sum(recognized_minor) over to_date as recognized_to_date_minor,
        sum(recognized_of_billed_minor) over to_date as recognized_of_billed_to_date_minor,
    from spine_flows
    window to_date as (
        partition by customer_id, currency order by revenue_month
        rows between unbounded preceding and current row
    )

),

final as (

    select
        running.customer_id,
        running.revenue_month,
        last_day(running.revenue_month) as month_end_date,
        running.currency,
        running.billed_in_month_minor::bigint as billed_in_month_minor,
        running.recognized_in_month_minor::bigint as recognized_in_month_minor,
        running.billed_to_date_minor::bigint as billed_to_date_minor,
        running.recognized_to_date_minor::bigint as recognized_to_date_minor,
        running.recognized_of_billed_to_date_minor::bigint as recognized_of_billed_to_date_minor,
        -- billed by the month end (as allocated), recognized after it
        (running.allocated_billed_to_date_minor - running.recognized_of_billed_to_date_minor)::bigint
            as deferred_revenue_minor,
        -- recognized by the month end, billed after it
        (running.recognized_to_date_minor - running.recognized_of_billed_to_date_minor)::bigint
            as unbilled_revenue_minor,
        running.revenue_month = run.as_of_month as is_current_month,
    from running
    cross join run

)

select * from final

{#- One row per what-if scenario, billing month, breakdown and segment: revenue billed (issued invoices dated in
    the month) and MRR, actual and under the scenario, in the reporting currency; how many customers would pay
    more, less or the same that month; and the 10th, 50th and 90th percentiles of their change in percent.
    Breakdowns: `all` (segment `all`), `plan` (the customer's plan), `currency` and `size_band`
    (whatif_customers_compared). MRR spreads each invoice over the months its plan's interval covers (a yearly
    invoice is a twelfth in each of its 12 months; weekly invoices count in the month they are dated), counting
    invoices dated in the range only, so the first months of the range lack yearly invoices dated before it. -#}
with

invoices as (

    select * from {{ ref('whatif_invoices_compared') }}

),

customers as (

    select * from {{ ref('whatif_customers_compared') }}

),

customer_months as (

    select
        scenario,
        customer_id,
        billing_month as month_start,
        sum(actual_reporting_minor)::bigint as actual_revenue_reporting_minor,
        sum(scenario_reporting_minor)::bigint as scenario_revenue_reporting_minor,
    from invoices
    group by scenario, customer_id, billing_month

),

invoice_months as (

    select
        invoices.scenario,
        invoices.customer_id,
        invoices.actual_reporting_minor,
        invoices.scenario_reporting_minor,
        coalesce(invoices.cadence_months, 1) as months,
        unnest(range(coalesce(invoices.cadence_months, 1))) as month_offset,
        (invoices.billing_month + to_months(month_offset))::date as month_start,
    from invoices

),

mrr_months as (

    select
        scenario,
        customer_id,
        month_start,
        -- integer shares, the remainder in the invoice's first month: the months sum to the invoice
        sum(
            actual_reporting_minor // months
            + case when month_offset = 0 then actual_reporting_minor % months else 0 end
        )::bigint as actual_mrr_reporting_minor,
        sum(
            scenario_reporting_minor // months
            + case when month_offset = 0 then scenario_reporting_minor % months else 0 end
        )::bigint as scenario_mrr_reporting_minor,
    from invoice_months
    where month_start < date_trunc('month', date '{{ var("whatif_to") }}' - 1)::date + interval 1 month
    group by scenario, customer_id, month_start

),

months_joined as (

    select
        coalesce(customer_months.scenario, mrr_months.scenario) as scenario,
        coalesce(customer_months.customer_id, mrr_months.customer_id) as customer_id,
        coalesce(customer_months.month_start, mrr_months.month_start) as month_start,
        coalesce(customer_months.actual_revenue_reporting_minor, 0) as actual_revenue_reporting_minor,
        coalesce(customer_months.scenario_revenue_reporting_minor, 0) as scenario_revenue_reporting_minor,
        coalesce(mrr_months.actual_mrr_reporting_minor, 0) as actual_mrr_reporting_minor,
        coalesce(mrr_months.scenario_mrr_reporting_minor, 0) as scenario_mrr_reporting_minor,
        customer_months.customer_id is not null as is_billed,
    from customer_months
    full outer join mrr_months
        on
            customer_months.scenario = mrr_months.scenario
            and customer_months.customer_id = mrr_months.customer_id
            and customer_months.month_start = mrr_months.month_start

),

segmented as (

    select
        months_joined.*,
        segments.breakdown,
        segments.segment,
        case
            when months_joined.actual_revenue_reporting_minor <> 0
                then
                    (months_joined.scenario_revenue_reporting_minor - months_joined.actual_revenue_reporting_minor)
                    * 100.0 / months_joined.actual_revenue_reporting_minor
        end as change_percent,
    from months_joined
    inner join customers
        on
            months_joined.scenario = customers.scenario
            and months_joined.customer_id = customers.customer_id
    cross join lateral (
        values
        ('all', 'all'),
        ('plan', customers.plan_id),
        ('currency', customers.currency),
        ('size_band', customers.size_band)
    ) as segments (breakdown, segment)

),

final as (

    select
        scenario,
        month_start,
        breakdown,
        segment,
        sum(actual_revenue_reporting_minor)::bigint as actual_revenue_reporting_minor,
        sum(scenario_revenue_reporting_minor)::bigint as scenario_revenue_reporting_minor,
        sum(scenario_revenue_reporting_minor - actual_revenue_reporting_minor)::bigint
            as revenue_change_reporting_minor,
        sum(actual_mrr_reporting_minor)::bigint as actual_mrr_reporting_minor,
        sum(scenario_mrr_reporting_minor)::bigint as scenario_mrr_reporting_minor,
        count(*) filter (where is_billed)::integer as customers_billed,
        count(*) filter (
            where is_billed and scenario_revenue_reporting_minor > actual_revenue_reporting_minor
        )::integer as customers_paying_more,
        count(*) filter (
            where is_billed and scenario_revenue_reporting_minor < actual_revenue_reporting_minor
        )::integer as customers_paying_less,
        count(*) filter (
            where is_billed and scenario_revenue_reporting_minor = actual_revenue_reporting_minor
        )::integer as customers_paying_same,
        round(quantile_cont(change_percent, 0.1), 2)::decimal(18, 2) as change_percent_p10,
        round(quantile_cont(change_percent, 0.5), 2)::decimal(18, 2) as change_percent_p50,
        round(quantile_cont(change_percent, 0.9), 2)::decimal(18, 2) as change_percent_p90,
    from segmented
    group by scenario, month_start, breakdown, segment

)

select * from final

{#- MRR per customer and month (calendar months of the revenue time zone), on a spine from the month of the
    customer's first subscription through the month of the run's as_of. Movements are decided on CONTRACTED MRR
    (fixed fees in force at the month end), in this order: new, churn, reactivation, expansion, contraction,
    unchanged (definitions: the `mrr_movements` doc block). Usage MRR (the month's recognized usage revenue) is
    its own column and in total MRR, but moves no customer between categories: it is only known once the
    usage's window is invoiced, so a recent month's usage is incomplete and would show false contractions. -#}
with

contracted as (

    select * from {{ ref('int_mrr_contracted_by_month') }}

),

revenue_monthly as (

    select * from {{ ref('fct_revenue_monthly') }}

),

fx_rates as (

    select * from {{ ref('int_revenue_fx_rates') }}

),

usage_by_month as (

    select
        customer_id,
        revenue_month,
        currency,
        sum(amount_minor)::bigint as usage_mrr_minor,
    from revenue_monthly
    where revenue_type = 'usage'
    group by customer_id, revenue_month, currency

),

with_history as (

    select
        contracted.*,
        contracted.contracted_mrr_minor > 0 as is_active,
        coalesce(
            lag(contracted.contracted_mrr_minor) over customer_months, 0
        )::bigint as previous_contracted_mrr_minor,
        coalesce(lag(contracted.contracted_mrr_minor > 0) over customer_months, false) as was_active_last_month,
        -- active in any month before this one (not only the last): tells a reactivation from a new customer
        coalesce(
            bool_or(contracted.contracted_mrr_minor > 0) over (
                customer_months rows between unbounded preceding and 1 preceding
            ),
            false
        ) as was_active_before,
    from contracted
    window customer_months as (partition by contracted.customer_id order by contracted.mrr_month)

),

classified as (

    select
        *,
        case
            when is_active and not was_active_before then 'new'
            when not is_active and was_active_last_month then 'churn'
            when is_active and not was_active_last_month then 'reactivation'
            when contracted_mrr_minor > previous_contracted_mrr_minor then 'expansion'
            when contracted_mrr_minor < previous_contracted_mrr_minor then 'contraction'
            else 'unchanged'
        end as movement,
        contracted_mrr_minor - previous_contracted_mrr_minor as mrr_change_minor,
    from with_history

),

first_active as (

    select
        customer_id,
        min(mrr_month) filter (where is_active) as cohort_month,
    from classified
    group by customer_id

),

converted as (

    select
        classified.customer_id,
        classified.mrr_month,
        classified.currency,
        classified.plan_id,
        classified.subscription_id,
        classified.pricing_version,
        classified.seats,
        classified.interval_unit,
        classified.interval_count,
        classified.measured_at,
        first_active.cohort_month,
        classified.is_active,
        classified.was_active_last_month,
        classified.movement,
        classified.contracted_mrr_minor,
        classified.previous_contracted_mrr_minor,
        classified.mrr_change_minor,
        coalesce(usage_by_month.usage_mrr_minor, 0)::bigint as usage_mrr_minor,
        (classified.contracted_mrr_minor + coalesce(usage_by_month.usage_mrr_minor, 0))::bigint as total_mrr_minor,
        (12 * classified.contracted_mrr_minor)::bigint as arr_minor,
        fx_rates.reporting_currency,
        fx_rates.rate_to_reporting,
        -- both months at THIS month's rate, so the reporting-currency change is the movement, not an FX effect
        {{ to_reporting_minor(
            'classified.contracted_mrr_minor', 'fx_rates.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }} as contracted_mrr_reporting_minor,
        {{ to_reporting_minor(
            'classified.previous_contracted_mrr_minor', 'fx_rates.minor_unit_digits', 'fx_rates.rate_to_reporting',
            'fx_rates.reporting_minor_unit_digits'
        ) }} as previous_contracted_mrr_reporting_minor,
        {{ to_reporting_minor(
            'coalesce(usage_by_month.usage_mrr_minor, 0)', 'fx_rates.minor_unit_digits',
            'fx_rates.rate_to_reporting', 'fx_rates.reporting_minor_unit_digits'
        ) }} as usage_mrr_reporting_minor,
    from classified
    inner join first_active
        on classified.customer_id = first_active.customer_id
    left join usage_by_month
        on
            classified.customer_id = usage_by_month.customer_id
            and classified.mrr_month = usage_by_month.revenue_month
            and classified.currency = usage_by_month.currency
    left join fx_rates
        on
            classified.currency = fx_rates.currency
            and classified.mrr_month >= fx_rates.valid_from
            and classified.mrr_month < fx_rates.valid_to

),

final as (

    select
        *,
        contracted_mrr_reporting_minor - previous_contracted_mrr_reporting_minor as mrr_change_reporting_minor,
        contracted_mrr_reporting_minor + usage_mrr_reporting_minor as total_mrr_reporting_minor,
        12 * contracted_mrr_reporting_minor as arr_reporting_minor,
    from converted

)

select * from final

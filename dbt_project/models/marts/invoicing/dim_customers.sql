{#- One row per customer: the customer file's attributes, the billing cadence and the subscription in force at
    the run's as_of, so finance can slice invoices and revenue without joining staging tables. -#}
with

customers as (

    select * from {{ ref('stg_customers') }}

),

customers_cadenced as (

    select * from {{ ref('int_customers_cadenced') }}

),

subscriptions as (

    select * from {{ ref('stg_subscriptions') }}

),

run as (

    select {{ as_of_timestamp() }} as as_of

),

subscriptions_in_force as (

    select
        subscriptions.customer_id,
        subscriptions.subscription_id,
        subscriptions.plan_id,
        subscriptions.quantity,
        row_number() over (
            partition by subscriptions.customer_id order by subscriptions.started_at desc, subscriptions.subscription_id desc
        ) as recency_rank,
    from subscriptions
    cross join run
    where
        subscriptions.started_at <= run.as_of
        and (subscriptions.ended_at is null or subscriptions.ended_at > run.as_of)

),

final as (

    select
        customers.customer_id,
        customers.customer_name,
        customers.email,
        customers.currency,
        customers.billing_anchor,
        customers.timezone,
        customers.collection_method,
        customers.days_until_due,
        customers.stripe_customer_id,
        customers.pinned_pricing_version,
        customers_cadenced.interval_unit,
        customers_cadenced.interval_count,
        customers_cadenced.billing_time,
        customers_cadenced.first_subscription_started_at,
        customers_cadenced.last_subscription_ended_at,
        subscriptions_in_force.subscription_id as current_subscription_id,
        subscriptions_in_force.plan_id as current_plan_id,
        subscriptions_in_force.quantity as current_quantity,
        subscriptions_in_force.subscription_id is not null as is_active,
    from customers
    left join customers_cadenced
        on customers.customer_id = customers_cadenced.customer_id
    left join subscriptions_in_force
        on
            customers.customer_id = subscriptions_in_force.customer_id
            and subscriptions_in_force.recency_rank = 1

)

select * from final

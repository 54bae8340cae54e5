with

source as (

    select * from {{ source('raw', 'customers') }}

),

renamed as (

    select
        customer_id,
        name as customer_name,
        email,
        upper(currency) as currency,
        billing_anchor::date as billing_anchor,
        collection_method,
        days_until_due::integer as days_until_due,
        coalesce(nullif(trim(timezone), ''), 'UTC') as timezone,
        stripe_customer_id,
        nullif(trim(pricing_version), '') as pinned_pricing_version,
        -- billed between a subscription's start and a later anchor: nothing (default) or a prorated stub (Stripe)
        coalesce(nullif(trim(before_anchor), ''), 'unbilled') as before_anchor,
        -- a trial inside the first window (default) or its own period, the paid cycle from its end (Stripe)
        coalesce(nullif(trim(trial_period), ''), 'inside_window') as trial_period,
        source_file,
        source_row,

    from source

)

select * from renamed

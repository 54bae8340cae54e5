with

source as (

    select * from {{ source('raw', 'subscriptions') }}

),

renamed as (

    select
        subscription_id,
        customer_id,
        plan_id,
        started_at::timestamp as started_at,
        ended_at::timestamp as ended_at,
        coalesce(quantity, 1)::integer as quantity,
        trial_ends_at::timestamp as trial_ends_at,
        -- Stripe's proration_behavior for the change at started_at; empty is Stripe's default
        coalesce(proration_behavior, 'create_prorations') as proration_behavior,
        source_file,
        source_row,

    from source

)

select * from renamed

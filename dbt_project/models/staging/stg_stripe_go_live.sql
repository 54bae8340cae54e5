{#- The Stripe go-live date the Stripe step last ran with (one row; the date is null when none is set). -#}
with

source as (

    select * from {{ source('stripe', 'go_live') }}

),

final as (

    select
        finalize_from,
        recorded_at,
    from source

)

select * from final

{#- Tax rates per jurisdiction and product (`*`: every product without its own rate), as configured. -#}
with

source as (

    select * from {{ source('raw', 'tax_rates') }}

),

renamed as (

    select
        jurisdiction,
        jurisdiction_name,
        tax_name,
        product,
        rate_percent,
        is_exempt,
        reverse_charge_b2b,
        source_file,
    from source

)

select * from renamed

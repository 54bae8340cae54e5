{#- Each customer's tax location and status, as landed in customer_tax.csv. -#}
with

source as (

    select * from {{ source('raw', 'customer_tax') }}

),

renamed as (

    select
        customer_id,
        tax_country,
        tax_region,
        case when tax_region is null then tax_country else tax_country || '-' || tax_region end as tax_location,
        tax_id,
        tax_exempt,
        source_file,
        source_row,
    from source

)

select * from renamed

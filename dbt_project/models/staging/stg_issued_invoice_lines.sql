{#- The ledger's issued invoice lines as they were issued, adjustment and credit lines included. -#}
with

source as (

    select * from {{ source('billing', 'issued_invoice_lines') }}

),

final as (

    select * from source

)

select * from final

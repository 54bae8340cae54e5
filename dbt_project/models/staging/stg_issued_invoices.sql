{#- The ledger's issued invoices as they were issued (the ledger is already typed and named; nothing to rename). -#}
with

source as (

    select * from {{ source('billing', 'issued_invoices') }}

),

final as (

    select * from source

)

select * from final

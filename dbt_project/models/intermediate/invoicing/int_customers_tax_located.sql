{#- The jurisdiction and tax treatment of every customer, once customer_tax.csv has landed (no file: no rows, and
    no tax is computed). The jurisdiction is the most specific one configured: the customer's region
    (`US-OR`), else its country (`US`). Treatment, in this order: `customer_exempt` (tax_exempt = exempt),
    `reverse_charge` (tax_exempt = reverse, or a tax id where the jurisdiction applies the reverse charge to
    businesses), `exempt_region` (the jurisdiction levies no tax), else `taxed`. A customer that needs a rate and
    has none (no row in customer_tax.csv, or a location with no configured jurisdiction) gets a
    `tax_hold_reason`: its invoices are held, never issued untaxed, and every other customer is billed. With
    BILLING_TAX_PROVIDER=stripe_tax there are no rows either: Stripe Tax computes the tax on the Stripe invoice. -#}
with

customers as (

    select * from {{ ref('stg_customers') }}

),

customer_tax as (

    select * from {{ ref('stg_customer_tax') }}

),

tax_rates as (

    select * from {{ ref('stg_tax_rates') }}

),

tax_on as (

    select count(*) > 0 as is_on from customer_tax

),

jurisdictions as (

    select
        jurisdiction,
        any_value(jurisdiction_name) as jurisdiction_name,
        any_value(tax_name) as tax_name,
        bool_or(is_exempt) as is_exempt,
        bool_or(reverse_charge_b2b) as reverse_charge_b2b,
    from tax_rates
    group by jurisdiction

),

located as (

    select
        customers.customer_id,
        customer_tax.customer_id is not null as has_tax_row,
        customer_tax.tax_location,
        customer_tax.tax_id,
        customer_tax.tax_exempt,
        coalesce(region_rates.jurisdiction, country_rates.jurisdiction) as jurisdiction,
        coalesce(region_rates.jurisdiction_name, country_rates.jurisdiction_name) as jurisdiction_name,
        coalesce(region_rates.tax_name, country_rates.tax_name, 'Tax') as tax_name,
        coalesce(region_rates.is_exempt, country_rates.is_exempt, false) as is_exempt_region,
        coalesce(region_rates.reverse_charge_b2b, country_rates.reverse_charge_b2b, false) as reverse_charge_b2b,
    from customers
    cross join tax_on
    left join customer_tax
        on customers.customer_id = customer_tax.customer_id
    left join jurisdictions as region_rates
        on customer_tax.tax_location = region_rates.jurisdiction and customer_tax.tax_region is not null
    left join jurisdictions as country_rates
        on customer_tax.tax_country = country_rates.jurisdiction
    where
        tax_on.is_on
        -- BILLING_TAX_PROVIDER=stripe_tax: Stripe Tax computes the tax, the warehouse none
        and {{ 'false' if tax_provider() == 'stripe_tax' else 'true' }}

),

final as (

    select
        customer_id,
        coalesce(jurisdiction, tax_location) as jurisdiction,
        coalesce(jurisdiction_name, tax_location) as jurisdiction_name,
        tax_name,
        tax_id,
        case
            when not has_tax_row then null
            when tax_exempt = 'exempt' then 'customer_exempt'
            when tax_exempt = 'reverse' or (tax_id is not null and reverse_charge_b2b) then 'reverse_charge'
            when jurisdiction is null then null
            when is_exempt_region then 'exempt_region'
            else 'taxed'
        end as tax_treatment,
        case
            when not has_tax_row
                then 'no tax location for ' || customer_id || ' in customer_tax.csv; add its row (tax_country, '
                    || 'tax_region, tax_id, tax_exempt)'
            when tax_exempt = 'none' and jurisdiction is null and not (tax_id is not null and reverse_charge_b2b)
                then 'no tax rate for ' || tax_location || ' (customer ' || customer_id
                    || '); add the jurisdiction to pricing_configs/tax/'
        end as tax_hold_reason,
    from located

)

select * from final

{#- Who computes tax: `warehouse` (default: tax lines computed here, frozen in the ledger, sent to Stripe as invoice
    items) or `stripe_tax` (Stripe Tax computes it on the Stripe invoice; no tax lines here). The environment
    variable BILLING_TAX_PROVIDER, which the Stripe resource reads too; anything else stops the run. -#}
{% macro tax_provider() -%}
    {%- set provider = (env_var('BILLING_TAX_PROVIDER', '') | trim) or 'warehouse' -%}
    {%- if provider not in ('warehouse', 'stripe_tax') -%}
        {{ exceptions.raise_compiler_error(
            "BILLING_TAX_PROVIDER must be 'warehouse' (tax computed in the warehouse) or 'stripe_tax' "
            ~ "(tax handed to Stripe Tax), got '" ~ provider ~ "'"
        ) }}
    {%- endif -%}
    {{ return(provider) }}
{%- endmacro %}

{{ config(materialized='table') }}

{#- One fingerprint per customer of everything that decides where its usage events are placed: the customer's
    anchor and time zone, its billing cycles (each cycle's start and cadence, int_billing_cycles_anchored: a
    cadence change moves every later window), its subscriptions' ids, plans and spans, and the metrics'
    aggregation rules (for every customer at once). The incremental usage models store the fingerprint they
    folded events with; a customer whose fingerprint changed (a backdated cancellation, a moved anchor, a new
    subscription, a changed metric rule) has all its events placed and aggregated again, everyone else only
    has the new files' events added. Seats, trials and prices are not in it: they change prices, not placement,
    and pricing is recomputed on every run from the aggregates. -#}
with

customers as (

    select * from {{ ref('stg_customers') }}

),

cycles as (

    select
        customer_id,
        string_agg(
            concat_ws(
                '|',
                cycle_start::varchar,
                coalesce(interval_unit, ''),
                coalesce(interval_count::varchar, ''),
                coalesce(billing_time, '')
            ),
            ';' order by cycle_start
        ) as cycles_text,
    from {{ ref('int_billing_cycles_anchored') }}
    group by customer_id

),

subscriptions as (

    select * from {{ ref('stg_subscriptions') }}

),

metric_rules as (

    select
        md5(coalesce(string_agg(
            concat_ws('|', metric, aggregation, coalesce(unique_property, '')), ';' order by metric
        ), '')) as metric_rules_fingerprint,
    from {{ ref('int_metrics_unified') }}

),

subscription_spans as (

    select
        customer_id,
        string_agg(
            concat_ws(
                '|', subscription_id, plan_id, started_at::varchar, coalesce(ended_at::varchar, 'open')
            ),
            ';' order by subscription_id
        ) as subscriptions_text,
    from subscriptions
    group by customer_id

),

final as (

    select
        customers.customer_id,
        md5(concat_ws(
            '#',
            customers.billing_anchor::varchar,
            customers.timezone,
            coalesce(cycles.cycles_text, ''),
            coalesce(subscription_spans.subscriptions_text, ''),
            metric_rules.metric_rules_fingerprint
        )) as placement_fingerprint,
    from customers
    cross join metric_rules
    left join cycles
        on customers.customer_id = cycles.customer_id
    left join subscription_spans
        on customers.customer_id = subscription_spans.customer_id

)

select * from final

-- A subscription whose plan has no price in the customer's currency in the window's pricing version would be
-- billed nothing; fail the build instead, naming the customer, plan, currency and version.
select
    scenario,
    customer_id,
    subscription_id,
    plan_id,
    currency,
    pricing_version,
    min(window_start) as first_window_start,
from {{ ref('int_subscription_segments_priced') }}
where not is_plan_priced
group by all

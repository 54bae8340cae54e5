{{ config(materialized='table') }}

{#- Fixed-fee lines (exact amounts, not yet rounded) from the priced subscription segments. The fee is per seat
    (subscription quantity) and per full period; a segment pays the share of the period it covers, by the second
    (Stripe) or by whole local days (Lago), as its plan says. In advance (default): the subscription in force at
    the window's start is billed the window's fee on the invoice at the window's start (to its period's end); a
    change inside the window gives, on the invoice at its end, a credit for the unused part of what was billed in
    advance and a charge for each new segment's part. A window closed early by a cadence change credits the rest of
    its period on the invoice at the change. In arrears: each segment pays its part on the invoice at the window's
    end. A change's Stripe `proration_behavior` (on the subscription that starts at it) can turn its in-advance
    credit and charge off (`none`) or invoice them at the change (`always_invoice`). Trial segments pay nothing. By
    whole days, a terminated subscription's last day counts as used (Lago). See DECISIONLOG.md (Proration). A fee
    times seats too large for one line (fits_in_a_line, estimated in floating point before the exact product) is
    not prorated: its lines get amount 0 and a `hold_reason`, and their invoices
    are held. -#}
with

segments as (

    select * from {{ ref('int_subscription_segments_priced') }}
    where is_plan_priced and not is_trial and base_fee_amount > 0

),

-- local dates of the segment's bounds: the window's own dates where a bound is the window's (time-zone conversions
-- are the costly part of this model), converted only for a bound inside the window and only for day proration
segments_dated as (

    select
        *,
        case
            when proration_unit <> 'day' then null
            when period_start = window_start then window_start_date
            else {{ utc_to_local_date('period_start', 'timezone') }}
        end as period_start_local_date,
        case
            when proration_unit <> 'day' then null
            when period_end = window_end then window_end_date
            else {{ utc_to_local_date('period_end', 'timezone') }}
        end as period_end_local_date,
        case
            when proration_unit <> 'day' then null
            when segment_start = window_start then window_start_date
            else {{ utc_to_local_date('segment_start', 'timezone') }}
        end as segment_start_local_date,
        -- the day a subscription is terminated counts as used (Lago); a plan change's day is the new plan's
        case
            when proration_unit <> 'day' then null
            when segment_end = window_end then window_end_date
            when coalesce(ends_in_termination, false)
                then {{ utc_to_local_date('segment_end', 'timezone') }} + 1
            else {{ utc_to_local_date('segment_end', 'timezone') }}
        end as segment_end_local_date,
    from segments

),

-- covered and period lengths in the plan's proration unit
segments_measured as (

    select
        * exclude (period_start_local_date, period_end_local_date, segment_start_local_date, segment_end_local_date),
        base_fee_amount::double * quantity as fee_estimate,
        -- a fee above the line limit is never multiplied out: exact_fraction would overflow on it
        case
            when {{ fits_in_a_line('base_fee_amount::double * quantity', 'minor_unit_digits') }}
                then base_fee_amount * quantity
        end as fee_per_period,
        case proration_unit
            when 'day' then date_diff('day', period_start_local_date, period_end_local_date)
            else {{ seconds_between('period_start', 'period_end') }}
        end as units_in_period,
        case proration_unit
            when 'day' then date_diff('day', segment_start_local_date, segment_end_local_date)
            else {{ seconds_between('segment_start', 'segment_end') }}
        end as units_covered,
        -- billed in advance: from the window's start to its period's end (a window closed early by a cadence change
        -- was billed for its whole period; the change credits the rest)
        case proration_unit
            when 'day'
                then date_diff('day', window_start_date, period_end_local_date)
            else {{ seconds_between('window_start', 'period_end') }}
        end as units_in_window,
        case proration_unit
            when 'day' then date_diff('day', segment_end_local_date, period_end_local_date)
            else {{ seconds_between('segment_end', 'period_end') }}
        end as units_after_segment,
    from segments_dated

),

advance_fees as (

    select
        *,
        'base_fee' as line_type,
        window_start as billing_at,
        window_start as line_period_start,
        period_end as line_period_end,
        {{ exact_fraction('fee_per_period', 'units_in_window', 'units_in_period') }} as amount,
    from segments_measured
    where base_fee_timing = 'in_advance' and covers_window_start

),

advance_credits as (

    select
        *,
        'proration_credit' as line_type,
        -- always_invoice (Stripe): invoiced at the change, not with the next invoice
        case when end_proration_behavior = 'always_invoice' then segment_end else window_end end as billing_at,
        segment_end as line_period_start,
        period_end as line_period_end,
        -{{ exact_fraction('fee_per_period', 'units_after_segment', 'units_in_period') }} as amount,
    from segments_measured
    -- a segment that stops before its period ends: a change inside the window, or the window closed early by a
    -- cadence change (the rest of the period was billed in advance)
    where
        base_fee_timing = 'in_advance'
        and covers_window_start
        and segment_end < period_end
        -- proration_behavior none (Stripe): the change credits nothing
        and coalesce(end_proration_behavior, 'create_prorations') <> 'none'

),

advance_charges as (

    select
        *,
        'proration_charge' as line_type,
        case when start_proration_behavior = 'always_invoice' then segment_start else window_end end as billing_at,
        segment_start as line_period_start,
        segment_end as line_period_end,
        {{ exact_fraction('fee_per_period', 'units_covered', 'units_in_period') }} as amount,
    from segments_measured
    where
        base_fee_timing = 'in_advance'
        and not covers_window_start
        -- proration_behavior none (Stripe): the new subscription's part of the window is not charged
        and coalesce(start_proration_behavior, 'create_prorations') <> 'none'

),

arrears_fees as (

    select
        *,
        'base_fee' as line_type,
        window_end as billing_at,
        segment_start as line_period_start,
        segment_end as line_period_end,
        {{ exact_fraction('fee_per_period', 'units_covered', 'units_in_period') }} as amount,
    from segments_measured
    where base_fee_timing = 'in_arrears'

),

fee_lines as (

    select * from advance_fees
    union all
    select * from advance_credits
    union all
    select * from advance_charges
    union all
    select * from arrears_fees

),

final as (

    select
        scenario,
        customer_id,
        currency,
        billing_at,
        line_type,
        subscription_id,
        plan_id,
        plan_name,
        pricing_version,
        case
            when fee_per_period is null
                then {{ line_hold_reason(
                    "'the base fee of ' || plan_name || ' for ' || quantity || ' seats'",
                    'fee_estimate', 'currency', 'minor_unit_digits', "'check the subscription''s seats'"
                ) }}
        end as hold_reason,
        null::varchar as metric,
        null::varchar as metric_name,
        'base_fee' as charge_model,
        null::integer as tier,
        quantity::decimal(38, 12) as quantity,
        base_fee_amount as unit_amount,
        line_period_start as period_start,
        line_period_end as period_end,
        -- local dates from the window where the line's bounds are the window's (time-zone conversions are the
        -- costly part of this model), converted only for a boundary inside the window
        case
            when billing_at = window_start then window_start_date
            when billing_at = window_end then window_end_date
            else {{ utc_to_local_date('billing_at', 'timezone') }}
        end as billing_date,
        case
            when line_period_start = window_start then window_start_date
            else {{ utc_to_local_date('line_period_start', 'timezone') }}
        end as period_start_date,
        case
            when line_period_end = window_end then window_end_date
            else {{ utc_to_local_date('line_period_end', 'timezone') }}
        end as period_end_date,
        window_start,
        window_end,
        coalesce(amount, {{ as_amount('0') }}) as amount,
        minor_unit_digits,
        rounding_mode,
        -- the share of the period billed, for the description
        case line_type
            when 'base_fee' then case when base_fee_timing = 'in_advance' then units_in_window else units_covered end
            when 'proration_credit' then units_after_segment
            else units_covered
        end as units_billed,
        units_in_period,
        proration_unit,
    from fee_lines
    where line_period_end > line_period_start and (amount <> 0 or amount is null)

)

select * from final

-- Each customer's windows tile time: a window ends exactly where the next one starts, and each is non-empty.
with

billing_windows as (

    select
        customer_id,
        window_index,
        window_start,
        window_end,
        lead(window_start) over (partition by customer_id order by window_index) as next_window_start,
    from {{ ref('int_billing_windows') }}

)

select * from billing_windows
where window_end <= window_start or window_end <> next_window_start

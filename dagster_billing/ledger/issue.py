"""Issuing invoices into the ledger: the invoices whose grace period has passed are frozen, with the adjustment
lines for what changed in invoices issued earlier, in one transaction.

Rules (README "Closing the books", DECISIONLOG "Ledger"):
- an invoice is issued once `billing_at + grace_period <= as_of`; it is copied from
  `intermediate.int_invoice_lines_computed` and never changes afterwards;
- every issued invoice is recomputed on every run; where a line's current amount or quantity differs from what
  was billed for it (the issued line plus every adjustment already made to it), the difference becomes an
  `adjustment` line on the customer's next invoice issued, so each difference is billed exactly once;
- a subtotal below zero is not billed: the invoice totals 0 and the rest is carried as a credit balance
  (`credit` lines) to the customer's next invoices;
- an invoice with a held line (`hold_reason`: a line too large to price) is never issued, and an issued invoice
  whose recomputation is held is not compared (a held line's amount is 0, not what it costs): both wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from dagster_billing.ledger.tables import LINE_COLUMNS, SCHEMA, content_hash_sql, ensure_ledger_tables

COMPUTED_LINES = "intermediate.int_invoice_lines_computed"
COMPUTED_INVOICES = "intermediate.int_invoices_computed"
DEFAULT_GRACE_PERIOD = timedelta(hours=24)
# The ledger's rows of the invoices issued now (hashing only those, not the whole history).
NEW_LEDGER_LINES = (
    f"(select * from {SCHEMA}.issued_invoice_lines "
    "where invoice_id in (select invoice_id from ledger_new_invoices))"
)


@dataclass
class IssueSummary:
    issued: int = 0
    issued_total_minor: dict[str, int] = field(default_factory=dict)
    adjustment_lines: int = 0
    adjustments_by_reason: dict[str, int] = field(default_factory=dict)
    pending_adjustment_lines: int = 0
    credit_carried_customers: int = 0
    waiting_for_grace: int = 0
    held: int = 0  # invoices past their grace period, not issued: a line too large to price


# Invoices of the actual scenario with a held line (every line of such an invoice carries the hold_reason).
HELD_INVOICES = (
    f"(select invoice_id from {COMPUTED_LINES} where scenario = 'actual' and hold_reason is not null)"
)

# Step 1: the invoices to issue now (not in the ledger, grace period passed, none of their lines held), each with
# its customer's terms.
_DUE_SQL = f"""
create or replace temp table ledger_due as
select
    c.invoice_id,
    any_value(c.customer_id) as customer_id,
    any_value(c.billing_date) as billing_date,
    min(c.billing_at) as billing_at,
    row_number() over (partition by any_value(c.customer_id) order by min(c.billing_at), c.invoice_id) as due_rank,
from {COMPUTED_LINES} as c
where c.scenario = 'actual'
  and c.billing_at + to_microseconds($grace_us) <= $as_of
  and c.invoice_id not in (select invoice_id from {SCHEMA}.issued_invoices)
  and c.invoice_id not in {HELD_INVOICES}
group by c.invoice_id
"""

# Step 2: what has been billed for each line of an issued invoice (its issued line plus its adjustments so far)
# against what it computes to now. Only invoices billed on or before as_of are compared: the computed model holds
# no later ones (a re-run for an earlier date must not read them as removed). An invoice whose recomputation is
# held is not compared either: its held line computes to 0, which is not what it costs.
_DIFFERENCES_SQL = f"""
create or replace temp table ledger_differences as
with

billed as (
    select
        coalesce(adjusted_invoice_id, invoice_id) as invoice_id,
        coalesce(adjusted_line_id, line_id) as line_id,
        sum(amount_minor) as amount_minor,
        sum(quantity) as quantity,
        sum(amount) as amount,
    from {SCHEMA}.issued_invoice_lines
    where line_type <> 'credit'
      -- with tax handed to Stripe Tax the warehouse computes none: issued tax lines stay as billed
      and ($compare_tax or charge_model is distinct from 'tax')
    group by all
),

issued_lines as (
    select * from {SCHEMA}.issued_invoice_lines
    where line_type not in ('adjustment', 'credit')
),

compared_invoices as (
    select invoice_id, customer_id, issued_at from {SCHEMA}.issued_invoices
    where billing_at <= $as_of and invoice_id not in {HELD_INVOICES}
),

computed as (
    select * from {COMPUTED_LINES}
    where scenario = 'actual' and invoice_id in (select invoice_id from compared_invoices)
),

compared as (
    select
        coalesce(computed.invoice_id, billed.invoice_id) as adjusted_invoice_id,
        coalesce(computed.line_id, billed.line_id) as adjusted_line_id,
        coalesce(computed.amount_minor, 0) - coalesce(billed.amount_minor, 0) as amount_minor,
        coalesce(computed.quantity, 0) - coalesce(billed.quantity, 0) as quantity,
        coalesce(computed.amount, 0) - coalesce(billed.amount, 0) as amount,
        computed.line_id is null as is_removed,
        issued_lines.line_id is null as is_new,
        computed.pricing_version is distinct from issued_lines.pricing_version
            or computed.unit_amount is distinct from issued_lines.unit_amount as is_repriced,
        coalesce(computed.line_type, issued_lines.line_type) as corrected_line_type,
        coalesce(computed.subscription_id, issued_lines.subscription_id) as subscription_id,
        coalesce(computed.plan_id, issued_lines.plan_id) as plan_id,
        coalesce(computed.pricing_version, issued_lines.pricing_version) as pricing_version,
        coalesce(computed.metric, issued_lines.metric) as metric,
        coalesce(computed.charge_model, issued_lines.charge_model) as charge_model,
        coalesce(computed.tier, issued_lines.tier) as tier,
        coalesce(computed.unit_amount, issued_lines.unit_amount) as unit_amount,
        coalesce(computed.period_start, issued_lines.period_start) as period_start,
        coalesce(computed.period_end, issued_lines.period_end) as period_end,
        coalesce(computed.rounding_mode, issued_lines.rounding_mode) as rounding_mode,
        coalesce(computed.description, issued_lines.description) as corrected_description,
    from computed
    full outer join billed
        on computed.invoice_id = billed.invoice_id and computed.line_id = billed.line_id
    left join issued_lines
        on issued_lines.line_id = coalesce(computed.line_id, billed.line_id)
)

select
    compared.*,
    compared_invoices.customer_id,
    compared_invoices.issued_at as adjusted_invoice_issued_at,
    case
        when compared.corrected_line_type = 'tax' then 'tax_recomputed'
        when compared.is_repriced and not compared.is_removed and not compared.is_new then 'pricing_change'
        when compared.corrected_line_type in ('usage', 'minimum_spend_true_up') and compared.quantity <> 0
            then 'late_events'
        when compared.corrected_line_type in ('usage', 'minimum_spend_true_up') then 'pricing_change'
        else 'subscription_change'
    end as adjustment_reason,
from compared
inner join compared_invoices on compared_invoices.invoice_id = compared.adjusted_invoice_id
where compared.amount_minor <> 0 or compared.quantity <> 0
"""

# Events of a usage line's customer, metric and period that arrived (their file was ingested) after the invoice
# was issued: the late events behind a `late_events` adjustment.
_LATE_EVENT_COUNTS_SQL = """
create or replace temp table ledger_late_events as
select d.adjusted_line_id, count(e.event_id) as late_event_count
from ledger_differences as d
inner join raw.usage_events as e
    on e.customer_id = d.customer_id and e.metric = d.metric
   and e.occurred_at >= d.period_start and e.occurred_at < d.period_end
inner join raw.ingested_files as f on f.file_id = e.source_file_id
where d.adjustment_reason = 'late_events' and f.ingested_at > d.adjusted_invoice_issued_at
group by d.adjusted_line_id
"""

_REASON_TEXT = """case d.adjustment_reason
    when 'late_events' then coalesce(late.late_event_count, 0) || ' late event(s) received after it was issued'
    when 'pricing_change' then 'pricing changed after it was issued'
    when 'tax_recomputed' then 'tax recomputed on its corrected lines'
    else 'subscription changed after it was issued'
end"""

# Step 3: the lines of every invoice issued now: its computed lines, then the adjustments it carries (all of
# its customer's open differences go on the customer's first invoice issued in this run).
_NEW_LINES_SQL = f"""
create or replace temp table ledger_new_lines as
with

copied as (
    select
        {", ".join(f"c.{name}" for name in LINE_COLUMNS[:23])},
        null::varchar as adjusted_invoice_id,
        null::varchar as adjusted_line_id,
        null::varchar as adjustment_reason,
        null::bigint as late_event_count,
    from {COMPUTED_LINES} as c
    inner join ledger_due as due on due.invoice_id = c.invoice_id
    where c.scenario = 'actual'
),

carriers as (
    select due.*, coalesce(max(copied.line_number), 0) as last_line_number
    from ledger_due as due
    left join copied on copied.invoice_id = due.invoice_id
    where due.due_rank = 1
    group by all
),

adjustments as (
    select
        'adj_' || substr(sha256(carriers.invoice_id || '|' || d.adjusted_line_id), 1, 24) as line_id,
        carriers.invoice_id,
        carriers.customer_id,
        carriers.billing_date,
        (carriers.last_line_number + row_number() over (
            partition by carriers.invoice_id order by d.period_start, d.adjusted_invoice_id, d.adjusted_line_id
        ))::integer as line_number,
        'adjustment' as line_type,
        d.subscription_id,
        d.plan_id,
        d.pricing_version,
        d.metric,
        d.charge_model,
        d.tier,
        d.quantity,
        d.unit_amount,
        d.period_start,
        d.period_end,
        d.amount,
        d.amount_minor,
        first_line.currency,
        first_line.minor_unit_digits,
        d.rounding_mode,
        'Adjustment to invoice ' || d.adjusted_invoice_id || ', ' || {_REASON_TEXT} || ': '
            || d.corrected_description as description,
        carriers.billing_at,
        d.adjusted_invoice_id,
        d.adjusted_line_id,
        d.adjustment_reason,
        late.late_event_count,
    from ledger_differences as d
    inner join carriers on carriers.customer_id = d.customer_id
    inner join (
        select invoice_id, any_value(currency) as currency, any_value(minor_unit_digits) as minor_unit_digits
        from {SCHEMA}.issued_invoice_lines group by invoice_id
    ) as first_line on first_line.invoice_id = d.adjusted_invoice_id
    left join ledger_late_events as late on late.adjusted_line_id = d.adjusted_line_id
)

select * from copied
union all by name
select * from adjustments
"""

# Step 4: headers, before credit balances (subtotal = every line so far, adjustments included); currency and the
# customer's terms (due date) as int_invoices_computed states them, frozen at issue.
_HEADERS_SQL = f"""
create or replace temp table ledger_new_headers as
select
    due.invoice_id,
    due.customer_id,
    due.billing_date,
    due.billing_at,
    terms.currency,
    terms.minor_unit_digits,
    terms.collection_method,
    terms.days_until_due,
    terms.due_date,
    min(l.period_start) as period_start,
    max(l.period_end) as period_end,
    sum(l.amount_minor)::bigint as subtotal_minor,
    array_to_string(list_sort(list_distinct(list(l.pricing_version))), ', ') as pricing_version,
    terms.stripe_customer_id,
    due.due_rank,
from ledger_due as due
inner join ledger_new_lines as l on l.invoice_id = due.invoice_id
inner join {COMPUTED_INVOICES} as terms on terms.invoice_id = due.invoice_id and terms.scenario = 'actual'
group by all
"""


def _credit_lines(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(invoice_id, credit_minor, credit_balance_minor, applied, carried) per new invoice, customer by customer
    in billing order: a balance left by earlier invoices is applied first; a subtotal below zero totals 0 and its
    remainder is carried. Only customers with a balance or a negative subtotal need the walk."""
    rows = con.execute(
        f"""
        with balances as (
            select customer_id, arg_max(credit_balance_minor, (billing_at, issued_at, invoice_id)) as balance
            from {SCHEMA}.issued_invoices group by customer_id
        )
        select h.invoice_id, h.customer_id, h.subtotal_minor, coalesce(b.balance, 0)
        from ledger_new_headers as h
        left join balances as b on b.customer_id = h.customer_id
        where coalesce(b.balance, 0) > 0
           or h.customer_id in (select customer_id from ledger_new_headers where subtotal_minor < 0)
        order by h.customer_id, h.billing_at, h.invoice_id
        """
    ).fetchall()
    result, balances = [], {}
    for invoice_id, customer_id, subtotal, start_balance in rows:
        balance = balances.get(customer_id, start_balance)
        applied = min(balance, max(subtotal, 0))
        carried = max(-subtotal, 0)
        balance = balance - applied + carried
        balances[customer_id] = balance
        result.append((invoice_id, applied - carried, balance, applied, carried))
    return result


_CREDIT_LINES_SQL = """
insert into ledger_new_lines by name
select
    'crd_' || substr(sha256(h.invoice_id || '|' || kind.name), 1, 24) as line_id,
    h.invoice_id,
    h.customer_id,
    h.billing_date,
    (select max(line_number) from ledger_new_lines as n where n.invoice_id = h.invoice_id) + kind.position
        as line_number,
    'credit' as line_type,
    h.billing_at as period_start,
    h.billing_at as period_end,
    kind.amount_minor::decimal(38, 18) / (10 ** h.minor_unit_digits)::decimal(38, 18) as amount,
    kind.amount_minor,
    h.currency,
    h.minor_unit_digits,
    kind.description,
    h.billing_at,
from ledger_new_headers as h
inner join credits on credits.invoice_id = h.invoice_id
cross join lateral (
    select 1 as position, 'applied' as name, -credits.applied as amount_minor,
        'Credit balance from earlier invoices applied' as description
    union all
    select 2, 'carried', credits.carried,
        'Credit carried forward to your next invoices (adjustments exceed this invoice)'
) as kind
where kind.amount_minor <> 0
"""


def issue_due_invoices(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: datetime,
    grace_period: timedelta = DEFAULT_GRACE_PERIOD,
    run_id: str,
    issued_at: datetime,
    compare_tax: bool = True,
) -> IssueSummary:
    """Issue every due invoice in one transaction: a crash leaves the ledger as it was before the run.
    `compare_tax` False (tax handed to Stripe Tax): issued tax lines are not compared with the computed lines,
    which have none, so switching never credits back tax already billed."""
    ensure_ledger_tables(con)
    params = {"as_of": as_of, "grace_us": int(grace_period.total_seconds() * 1_000_000)}
    con.execute("begin transaction")
    try:
        summary = _issue(con, params, run_id, issued_at, compare_tax)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return summary


def _issue(
    con: duckdb.DuckDBPyConnection, params: dict, run_id: str, issued_at: datetime, compare_tax: bool
) -> IssueSummary:
    con.execute(_DUE_SQL, params)
    con.execute(_DIFFERENCES_SQL, {"as_of": params["as_of"], "compare_tax": compare_tax})
    con.execute(_LATE_EVENT_COUNTS_SQL)
    con.execute(_NEW_LINES_SQL)
    con.execute(_HEADERS_SQL)
    credits = _credit_lines(con)
    con.execute(
        "create or replace temp table credits (invoice_id varchar, credit_minor bigint, "
        "credit_balance_minor bigint, applied bigint, carried bigint)"
    )
    if credits:
        con.executemany("insert into credits values (?, ?, ?, ?, ?)", credits)
    con.execute(_CREDIT_LINES_SQL)
    con.execute(
        f"""
        insert into {SCHEMA}.issued_invoice_lines ({", ".join(LINE_COLUMNS)})
        select {", ".join(LINE_COLUMNS)} from ledger_new_lines
        """
    )
    # The header is staged with the ledger's own column types, and hashed with the lines as the ledger stores
    # them, so the check recomputes exactly the same text.
    con.execute(
        f"create or replace temp table ledger_new_invoices as select * from {SCHEMA}.issued_invoices limit 0"
    )
    con.execute(
        """
        insert into ledger_new_invoices by name
        select
            h.* exclude (due_rank),
            (select count(*) from ledger_new_lines as l where l.invoice_id = h.invoice_id) as line_count,
            coalesce(c.credit_minor, 0) as credit_minor,
            h.subtotal_minor - coalesce(c.credit_minor, 0) as total_minor,
            coalesce(c.credit_balance_minor, 0) as credit_balance_minor,
            $as_of as as_of,
            $issued_at as issued_at,
            $run_id as issue_run_id,
            '' as content_hash,
        from ledger_new_headers as h
        left join credits as c on c.invoice_id = h.invoice_id
        """,
        {"as_of": params["as_of"], "issued_at": issued_at, "run_id": run_id},
    )
    con.execute(
        f"""
        update ledger_new_invoices as i set content_hash = h.content_hash
        from ({content_hash_sql("ledger_new_invoices", NEW_LEDGER_LINES)}) as h
        where h.invoice_id = i.invoice_id
        """
    )
    con.execute(f"insert into {SCHEMA}.issued_invoices select * from ledger_new_invoices")
    return _summary(con, params)


def _summary(con: duckdb.DuckDBPyConnection, params: dict) -> IssueSummary:
    summary = IssueSummary()
    for currency, count, total in con.execute(
        "select currency, count(*), sum(total_minor) from ledger_new_invoices group by 1 order by 1"
    ).fetchall():
        summary.issued += count
        summary.issued_total_minor[currency] = int(total)
    for reason, count in con.execute(
        "select adjustment_reason, count(*) from ledger_new_lines where line_type = 'adjustment' group by 1"
    ).fetchall():
        summary.adjustment_lines += count
        summary.adjustments_by_reason[reason] = count
    (summary.pending_adjustment_lines,) = con.execute(
        "select count(*) from ledger_differences where customer_id not in (select customer_id from ledger_due)"
    ).fetchone()
    (summary.credit_carried_customers,) = con.execute(
        "select count(*) from ledger_new_invoices where credit_balance_minor > 0"
    ).fetchone()
    (summary.held,) = con.execute(
        f"""select count(distinct invoice_id) from {COMPUTED_LINES}
            where scenario = 'actual' and hold_reason is not null and billing_at + to_microseconds($grace_us) <= $as_of
              and invoice_id not in (select invoice_id from {SCHEMA}.issued_invoices)""",
        params,
    ).fetchone()
    (summary.waiting_for_grace,) = con.execute(
        f"""select count(distinct invoice_id) from {COMPUTED_LINES}
            where scenario = 'actual' and billing_at + to_microseconds($grace_us) > $as_of
              and invoice_id not in (select invoice_id from {SCHEMA}.issued_invoices)""",
        params,
    ).fetchone()
    return summary

"""A late partner batch for the demo: events for windows whose invoices were already issued (and, after the
Stripe go-live, charged), landed as a new file after a run, so the next day's run bills them as adjustments."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

# Customers with an issued invoice billed since `since` whose plan prices a summed metric (more units cost more),
# and whose next invoice the next run issues (billed by `next_issue_by`): their late usage is adjusted at once.
LATE_CANDIDATES_SQL = """
select i.customer_id, any_value(i.billing_at order by i.billing_at desc) as billed_at, min(c.metric) as metric
from billing.issued_invoices as i
inner join billing.issued_invoice_lines as l on l.invoice_id = i.invoice_id and l.line_type = 'base_fee'
inner join staging.stg_pricing_charges as c on c.plan_id = l.plan_id
inner join staging.stg_pricing_metrics as m on m.metric = c.metric and m.aggregation = 'sum'
where i.billing_date >= $since
  and exists (
    select 1 from marts.fct_invoices as d
    where d.customer_id = i.customer_id and d.invoice_status = 'draft' and d.scenario = 'actual'
      and d.billing_at <= $next_issue_by
  )
group by i.customer_id
order by i.customer_id
limit $customers
"""


def write_late_batch(
    warehouse_path: Path,
    landing_dir: Path,
    *,
    since: str,
    next_issue_by: datetime,
    customers: int = 5,
    events_per_customer: int = 4,
    quantity: int = 150_000,
) -> Path | None:
    """Writes `usage/late/<date>-partner-batch.jsonl` with events two days before each chosen customer's latest
    issued invoice (inside the window that invoice billed); returns the file, or None when no customer fits."""
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        chosen = con.execute(
            LATE_CANDIDATES_SQL, {"since": since, "next_issue_by": next_issue_by, "customers": customers}
        ).fetchall()
    finally:
        con.close()
    if not chosen:
        return None
    events = [
        {
            "event_id": f"late-{customer_id}-{n}",
            "customer_id": customer_id,
            "metric": metric,
            "quantity": str(quantity),
            "occurred_at": (billed_at - timedelta(days=2, hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "properties": {"source": "partner nightly batch, delivered late"},
        }
        for customer_id, billed_at, metric in chosen
        for n in range(events_per_customer)
    ]
    path = landing_dir / "usage" / "late" / f"{next_issue_by:%Y-%m-%d}-partner-batch.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    return path

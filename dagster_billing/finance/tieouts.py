"""Finance tie-outs: the checks that prove the finance marts agree with the invoices, to the minor unit.

Used by `scripts/check_finance_tieouts.py` (any generated data set) and by the tests (the demo data and the
generator's 1M-event set). Each check is a pair of queries: the rows compared and the rows that do not tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

CHECKS = {
    # credit lines (a balance applied or carried) are a means of payment, and tax lines (and adjustments of them,
    # charge_model 'tax') a liability, not revenue; subtotals leave them out
    "revenue lines = sum of their days": (
        "select count(*) from marts.fct_invoice_lines where scenario = 'actual' and line_type not in ('credit', 'tax') "
        "and charge_model is distinct from 'tax' and invoice_status <> 'held'",  # held: not billed, not revenue
        """select count(*) from marts.fct_invoice_lines as l
           left join (select line_id, sum(amount_minor) as minor
                      from intermediate.int_revenue_allocated_to_days group by line_id) as d using (line_id)
           where l.scenario = 'actual' and l.line_type not in ('credit', 'tax')
             and l.charge_model is distinct from 'tax' and l.invoice_status <> 'held'
             and d.minor is distinct from l.amount_minor""",
    ),
    "billed = recognized + deferred - unbilled (customer x month end)": (
        "select count(*) from marts.fct_deferred_revenue",
        """with billed as (
               select customer_id, date_trunc('month', billing_at)::date as month, sum(subtotal_minor) as minor
               from marts.fct_invoices where scenario = 'actual' and invoice_status <> 'held' group by all),
           recognized as (
               select customer_id, revenue_month as month, sum(amount_minor) as minor
               from marts.fct_revenue_daily group by all),
           cumulated as (
               select d.customer_id, d.revenue_month as month, d.deferred_revenue_minor, d.unbilled_revenue_minor,
                      (select coalesce(sum(b.minor), 0) from billed as b
                       where b.customer_id = d.customer_id and b.month <= d.revenue_month) as billed_to_date,
                      (select coalesce(sum(r.minor), 0) from recognized as r
                       where r.customer_id = d.customer_id and r.month <= d.revenue_month) as recognized_to_date
               from marts.fct_deferred_revenue as d)
           select count(*) from cumulated
           where billed_to_date <> recognized_to_date + deferred_revenue_minor - unbilled_revenue_minor""",
    ),
    "billed = recognized of billed + deferred (in the mart)": (
        "select count(*) from marts.fct_deferred_revenue",
        """select count(*) from marts.fct_deferred_revenue
           where billed_to_date_minor <> recognized_of_billed_to_date_minor + deferred_revenue_minor""",
    ),
    "start MRR + movements = end MRR (month x currency)": (
        "select count(*) from marts.fct_mrr_movements",
        """select count(*) from (
               select *, lag(end_mrr_minor, 1, 0) over (partition by currency order by mrr_month) as previous_end
               from marts.fct_mrr_movements)
           where start_mrr_minor + new_mrr_minor + expansion_mrr_minor + reactivation_mrr_minor
                 + contraction_mrr_minor + churn_mrr_minor <> end_mrr_minor
              or start_mrr_minor <> previous_end""",
    ),
}

FIGURES = {
    "customers invoiced": "select count(distinct customer_id) from marts.fct_invoices where scenario = 'actual'",
    "invoice lines": "select count(*) from marts.fct_invoice_lines where scenario = 'actual'",
    "revenue day rows": "select count(*) from marts.fct_revenue_daily",
    "invoiced, all currencies in USD minor units": (
        "select sum(amount_reporting_minor) from marts.fct_revenue_daily"
    ),
    "deferred revenue at 2026-09-30, USD minor units": (
        "select sum(deferred_revenue_minor) from marts.fct_deferred_revenue "
        "where month_end_date = date '2026-09-30' and currency = 'USD'"
    ),
    "contracted MRR in 2026-09, USD minor units": (
        "select sum(end_mrr_minor) from marts.fct_mrr_movements where mrr_month = date '2026-09-01' "
        "and currency = 'USD'"
    ),
}


@dataclass(frozen=True)
class TieOut:
    name: str
    rows_compared: int
    mismatches: int

    @property
    def holds(self) -> bool:
        return self.mismatches == 0 and self.rows_compared > 0


def run_tieouts(warehouse: Path) -> list[TieOut]:
    """Every check of CHECKS on the warehouse (opened read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return [
            TieOut(name, con.execute(count_sql).fetchone()[0], con.execute(mismatch_sql).fetchone()[0])
            for name, (count_sql, mismatch_sql) in CHECKS.items()
        ]
    finally:
        con.close()


def headline_figures(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {name: con.execute(sql).fetchone()[0] for name, sql in FIGURES.items()}
    finally:
        con.close()

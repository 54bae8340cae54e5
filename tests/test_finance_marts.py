"""Finance marts on the generated pipeline run: revenue ties to the invoices to the minor unit, deferred revenue
closes the gap between billed and recognized for every customer and month end, and the MRR bridge ties."""

from __future__ import annotations

import json
import re
import shutil

import yaml
from dbt_harness import run_dbt

from dagster_billing.settings import REPO_ROOT

FINANCE_QUERIES_HEADING = "### Three questions finance asks"


def test_every_revenue_line_is_recognized_exactly_once(pipeline_scenario):
    # Every line but credit (and later tax) lines is revenue, so recognized revenue, past and scheduled, is
    # exactly the invoices' subtotals (which leave those lines out), per customer and currency.
    mismatches = pipeline_scenario.query(
        """with invoiced as (
               select customer_id, currency, sum(subtotal_minor) as minor
               from marts.fct_invoices where scenario = 'actual' group by all),
           recognized as (
               select customer_id, currency, sum(amount_minor) as minor
               from marts.fct_revenue_daily group by all)
           select * from invoiced full join recognized using (customer_id, currency)
           where invoiced.minor is distinct from recognized.minor"""
    )
    assert mismatches == []
    invoiced_total = pipeline_scenario.scalar(
        "select sum(total_minor) from marts.fct_invoices where scenario = 'actual'"
    )
    assert invoiced_total > 0
    lines_not_tying = pipeline_scenario.query(
        """select l.line_id from marts.fct_invoice_lines as l
           left join (select line_id, sum(amount_minor) as minor
                      from intermediate.int_revenue_allocated_to_days group by line_id) as d using (line_id)
           where l.scenario = 'actual' and l.line_type <> 'credit' and d.minor is distinct from l.amount_minor"""
    )
    assert lines_not_tying == []


def test_billed_equals_recognized_plus_deferred_for_every_customer_month(pipeline_scenario):
    # Independent sides: billed from fct_invoices, recognized from fct_revenue_daily, both cumulated here.
    rows = pipeline_scenario.query(
        """with billed as (
               select customer_id, currency, date_trunc('month', billing_at)::date as month,
                      sum(subtotal_minor) as minor
               from marts.fct_invoices where scenario = 'actual' group by all),
           recognized as (
               select customer_id, currency, revenue_month as month, sum(amount_minor) as minor
               from marts.fct_revenue_daily group by all)
           select d.customer_id, d.revenue_month as month,
                  (select coalesce(sum(b.minor), 0) from billed as b
                   where b.customer_id = d.customer_id and b.month <= d.revenue_month) as billed_to_date,
                  (select coalesce(sum(r.minor), 0) from recognized as r
                   where r.customer_id = d.customer_id and r.month <= d.revenue_month) as recognized_to_date,
                  d.deferred_revenue_minor, d.unbilled_revenue_minor
           from marts.fct_deferred_revenue as d"""
    )
    customers = {row[0] for row in rows}
    assert len(customers) > 20 and len(rows) > 200
    not_tying = [
        row for row in rows if row[2] != row[3] + row[4] - row[5]
    ]  # billed = recognized + deferred - unbilled (recognized includes usage not yet invoiced)
    assert not_tying == []
    # Real balances on both sides: fees billed in advance leave deferred revenue at month ends, usage billed
    # in arrears leaves unbilled revenue.
    assert sum(row[4] for row in rows) > 0
    assert sum(row[5] for row in rows) > 0


def test_billed_equals_recognized_plus_deferred_within_the_mart(pipeline_scenario):
    not_tying = pipeline_scenario.scalar(
        """select count(*) from marts.fct_deferred_revenue
           where billed_to_date_minor <> recognized_of_billed_to_date_minor + deferred_revenue_minor"""
    )
    assert not_tying == 0


def test_mrr_bridge_ties_every_month(pipeline_scenario):
    months = pipeline_scenario.query(
        """select currency, mrr_month, start_mrr_minor, new_mrr_minor, expansion_mrr_minor,
                  reactivation_mrr_minor, contraction_mrr_minor, churn_mrr_minor, end_mrr_minor
           from marts.fct_mrr_movements order by currency, mrr_month"""
    )
    assert len(months) > 12
    previous_end: dict[str, int] = {}
    for currency, month, start, new, expansion, reactivation, contraction, churn, end in months:
        assert start + new + expansion + reactivation + contraction + churn == end, (currency, month)
        assert start == previous_end.get(currency, 0), (currency, month)
        previous_end[currency] = end
    assert sum(row[3] for row in months) > 0  # new MRR
    assert sum(row[7] for row in months) < 0  # churned MRR: the generator cancels some subscriptions
    # the bridge's end equals the customers' MRR of the same month, summed independently
    as_of_month_total = pipeline_scenario.scalar(
        "select sum(contracted_mrr_minor) from marts.fct_mrr where mrr_month = date '2026-10-01'"
    )
    assert as_of_month_total == sum(row[8] for row in months if str(row[1]) == "2026-10-01")
    assert as_of_month_total > 0


def test_a_plan_change_moves_mrr_in_the_month_it_happens(pipeline_scenario):
    # Generated plan changes: one subscription ends the instant the next starts, both paid (no trial then).
    changes = pipeline_scenario.query(
        """select new.customer_id, date_trunc('month', new.started_at)::date as month, new.plan_id
           from staging.stg_subscriptions as old
           inner join staging.stg_subscriptions as new
               on old.customer_id = new.customer_id and old.ended_at = new.started_at
           where old.plan_id <> new.plan_id
             and (new.ended_at is null or new.ended_at >= date_trunc('month', new.started_at) + interval 1 month)
             and new.started_at < timestamp '2026-10-01'"""
    )
    assert len(changes) >= 3
    for customer_id, month, new_plan in changes:
        plan, movement = pipeline_scenario.query(
            "select plan_id, movement from marts.fct_mrr where customer_id = ? and mrr_month = ?",
            [customer_id, month],
        )[0]
        assert plan == new_plan, (customer_id, month)
        assert movement in ("expansion", "contraction", "unchanged", "new", "reactivation")


def test_no_customer_still_subscribed_is_churned_in_the_as_of_month(pipeline_scenario):
    wrongly_churned = pipeline_scenario.query(
        """select m.customer_id from marts.fct_mrr as m
           where m.mrr_month = date '2026-10-01' and m.movement = 'churn'
             and exists (select 1 from staging.stg_subscriptions as s
                         where s.customer_id = m.customer_id
                           and s.started_at < timestamp '2026-10-01'
                           and (s.ended_at is null or s.ended_at >= timestamp '2026-10-01')
                           and (s.trial_ends_at is null or s.trial_ends_at <= timestamp '2026-10-01'))"""
    )
    assert wrongly_churned == []


def finance_queries() -> list[str]:
    """The SQL blocks under the README's finance questions heading."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert FINANCE_QUERIES_HEADING in text, f"no '{FINANCE_QUERIES_HEADING}' section in README.md"
    section = text.split(FINANCE_QUERIES_HEADING, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_finance_queries_return_rows(pipeline_scenario):
    queries = finance_queries()
    assert len(queries) == 3
    for sql in queries:
        assert pipeline_scenario.query(sql), sql


def test_every_finance_mart_column_is_documented(pipeline_scenario):
    spec = yaml.safe_load(
        (REPO_ROOT / "dbt_project" / "models" / "marts" / "finance" / "_finance__models.yml").read_text()
    )
    documented = {
        model["name"]: {column["name"] for column in model["columns"] if column.get("description")}
        for model in spec["models"]
    }
    assert set(documented) == {
        "fct_revenue_daily",
        "fct_revenue_monthly",
        "fct_deferred_revenue",
        "fct_mrr",
        "fct_mrr_movements",
        "fct_retention_cohorts",
    }
    for model, columns in documented.items():
        built = {
            name
            for (name,) in pipeline_scenario.query(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = ?",
                [model],
            )
        }
        assert built == columns, model


def test_dbt_docs_generate_documents_the_finance_marts(pipeline_scenario, tmp_path):
    """`dbt docs generate` works on a built warehouse, and its catalog shows every finance mart with its columns
    described (what finance reads in the docs site)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(pipeline_scenario.paths.warehouse_path, warehouse)  # docs generate connects read-write
    run_dbt(warehouse, tmp_path, ["docs", "generate"])
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    for model in ("fct_revenue_daily", "fct_deferred_revenue", "fct_mrr", "fct_mrr_movements"):
        node_id = f"model.billing.{model}"
        built_columns = {name.lower() for name in catalog["nodes"][node_id]["columns"]}
        described = {
            name for name, column in manifest["nodes"][node_id]["columns"].items() if column["description"]
        }
        assert built_columns and built_columns == described, model
    assert (tmp_path / "target" / "index.html").exists()

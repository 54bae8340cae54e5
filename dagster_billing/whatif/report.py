"""The what-if report: one self-contained HTML file (inline SVG charts, no script, no link), readable offline."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import jinja2
import pandas as pd

from dagster_billing.pricing import PricingConfig
from dagster_billing.whatif.comparison import WhatifComparison
from dagster_billing.whatif.report_charts import change_histogram_svg, monthly_revenue_svg, winners_losers_svg
from dagster_billing.whatif.summary import (
    CAVEATS,
    ScenarioSummary,
    money,
    percent,
    reporting_currency,
    summarize,
)

TOP_CUSTOMERS = 10
_TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("dagster_billing.whatif", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
).get_template("report.html.j2")


def _most_affected(customers: pd.DataFrame, currency: str) -> list[dict]:
    rows = customers.assign(size=customers["change_reporting_minor"].abs()).sort_values(
        ["size", "scenario", "customer_id"], ascending=[False, True, True]
    )
    return [_customer_row(row, currency) for row in rows.head(TOP_CUSTOMERS).itertuples()]


def _customer_row(row, currency: str) -> dict:
    return {
        "scenario": row.scenario,
        "customer_id": row.customer_id,
        "plan": row.plan_id
        if row.plan_id == row.scenario_plan_id
        else f"{row.plan_id} -> {row.scenario_plan_id}",
        "currency": row.currency,
        "actual": money(row.actual_minor, row.currency),
        "scenario_total": money(row.scenario_minor, row.currency),
        "change": money(row.change_minor, row.currency),
        "change_reporting": money(row.change_reporting_minor, currency),
        "change_percent": percent(row.change_percent),
        "flagged": bool(row.is_flagged),
    }


def _winners_and_losers(customers: pd.DataFrame, currency: str, scenario: str) -> dict:
    rows = customers[customers["scenario"] == scenario].sort_values(["change_reporting_minor", "customer_id"])
    winners = rows[rows["change_reporting_minor"] < 0].head(5)
    losers = rows[rows["change_reporting_minor"] > 0].iloc[::-1].head(5)
    return {
        "winners": [_customer_row(row, currency) for row in winners.itertuples()],
        "losers": [_customer_row(row, currency) for row in losers.itertuples()],
    }


def _breakdowns(customers: pd.DataFrame, currency: str) -> dict[str, list[dict]]:
    """Range totals per scenario and plan, currency, size band (reporting currency)."""
    result: dict[str, list[dict]] = {}
    for column, title in (("plan_id", "plan"), ("currency", "currency"), ("size_band", "size band")):
        grouped = (
            customers.groupby(["scenario", column])
            .agg(
                customers=("customer_id", "count"),
                actual=("actual_reporting_minor", "sum"),
                scenario_total=("scenario_reporting_minor", "sum"),
                more=("direction", lambda d: int((d == "more").sum())),
                less=("direction", lambda d: int((d == "less").sum())),
            )
            .reset_index()
        )
        result[title] = [
            {
                "scenario": row.scenario,
                "segment": getattr(row, column),
                "customers": int(row.customers),
                "actual": money(int(row.actual), currency),
                "scenario_total": money(int(row.scenario_total), currency),
                "change": money(int(row.scenario_total) - int(row.actual), currency),
                "change_percent": percent(
                    None
                    if int(row.actual) == 0
                    else (int(row.scenario_total) - int(row.actual)) * 100 / int(row.actual)
                ),
                "more_less": f"{int(row.more)} / {int(row.less)}",
            }
            for row in grouped.itertuples()
        ]
    return result


def _monthly(months: pd.DataFrame, currency: str) -> list[dict]:
    rows = months[months["breakdown"] == "all"].sort_values(["month_start", "scenario"])
    return [
        {
            "scenario": row.scenario,
            "month": row.month_start.strftime("%Y-%m")
            if hasattr(row.month_start, "strftime")
            else str(row.month_start),
            "actual": money(row.actual_revenue_reporting_minor, currency),
            "scenario_total": money(row.scenario_revenue_reporting_minor, currency),
            "actual_mrr": money(row.actual_mrr_reporting_minor, currency),
            "scenario_mrr": money(row.scenario_mrr_reporting_minor, currency),
            "more_less_same": f"{row.customers_paying_more} / {row.customers_paying_less} / {row.customers_paying_same}",
        }
        for row in rows.itertuples()
    ]


def render_report(comparison: WhatifComparison, actual_configs: list[PricingConfig]) -> str:
    currency = reporting_currency(comparison)
    summaries: list[ScenarioSummary] = summarize(comparison, actual_configs)
    customers = comparison.customers
    return _TEMPLATE.render(
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        date_from=comparison.range.date_from.isoformat(),
        date_to=comparison.range.date_to.isoformat(),
        currency=currency,
        database=str(comparison.database_path),
        scenarios=comparison.scenarios,
        summaries=[
            {
                "name": s.name,
                "description": s.description,
                "customers": s.customers,
                "actual": money(s.actual_minor, currency),
                "scenario_total": money(s.scenario_minor, currency),
                "change": money(s.change_minor, currency),
                "change_percent": percent(s.change_percent),
                "more_less_same": f"{s.paying_more} / {s.paying_less} / {s.paying_same}",
                "flagged": s.flagged,
                "spread": " / ".join(
                    percent(v) for v in (s.change_percent_p10, s.change_percent_p50, s.change_percent_p90)
                ),
                "warnings": s.warnings,
            }
            for s in summaries
        ],
        charts={
            "monthly_revenue": monthly_revenue_svg(comparison.months, currency),
            "change_histogram": change_histogram_svg(customers),
            "winners_losers": winners_losers_svg(customers),
        },
        winners_losers={s.name: _winners_and_losers(customers, currency, s.name) for s in summaries},
        most_affected=_most_affected(customers, currency),
        breakdowns=_breakdowns(customers, currency),
        monthly=_monthly(comparison.months, currency),
        caveats=CAVEATS,
    )


def write_report(comparison: WhatifComparison, actual_configs: list[PricingConfig], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(comparison, actual_configs), encoding="utf-8")
    return path

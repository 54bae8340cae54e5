"""`whatif/scenario_comparison`: the what-if as an asset, launched from the UI with the scenarios in its run config.

It is never part of a billing run (the nightly job and `billing run` select every asset but the group `whatif`):
it reads the warehouse read-only and writes only its own database and report beside it. Its metadata carries
the comparison table and the charts, so the result is read in the UI without opening a file.
"""

import base64
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
from pydantic import Field

from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_billing.pricing import load_pricing_configs
from dagster_billing.settings import BillingPaths, billing_paths
from dagster_billing.whatif import ScenarioError, available_scenarios, compare_scenarios
from dagster_billing.whatif.report import write_report
from dagster_billing.whatif.report_charts import change_histogram_svg, monthly_revenue_svg
from dagster_billing.whatif.summary import comparison_table, reporting_currency, summarize

WHATIF_GROUP = "whatif"


class WhatifConfig(dg.Config):
    scenarios: list[str] = Field(
        default_factory=list,
        description="Scenario names: files of pricing_configs/scenarios/ without .yaml (e.g. tier1_price_rise); "
        "empty means every file there (so `Materialize all` in the UI compares them all).",
    )
    date_from: str = Field(
        default="", description="First billing date (YYYY-MM-DD); empty: date_to minus 12 months."
    )
    date_to: str = Field(
        default="",
        description="Billing dates before this (YYYY-MM-DD); empty: the first of the month of the day after the last "
        "issued invoice.",
    )
    flag_percent: str = Field(default="10", description="Flag customers whose change exceeds this percent.")


def _date(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise dg.Failure(f"whatif config: {field} must be a date YYYY-MM-DD, got {text!r}") from None


def _svg_image(svg: str, title: str) -> str:
    """Markdown image of an SVG chart (a data URI: the UI shows it without a file)."""
    return f"![{title}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"


@dg.asset(
    key=["whatif", "scenario_comparison"],
    group_name=WHATIF_GROUP,
    pool=WAREHOUSE_POOL,
    description="Re-prices the issued invoices of a range under candidate price lists (pricing_configs/scenarios/) "
    "with the same dbt pricing models, in a what-if database beside the warehouse (the warehouse is only read), and "
    "writes the HTML report. Never part of a billing run.",
)
def scenario_comparison(
    context: dg.AssetExecutionContext, config: WhatifConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    defaults = billing_paths()
    paths = BillingPaths(defaults.landing_dir, Path(warehouse.database).resolve(), defaults.pricing_dir)
    scenarios = config.scenarios or available_scenarios(paths.pricing_dir)
    if not scenarios:
        raise dg.Failure(
            f"whatif: no scenario in the run config and no file in {paths.pricing_dir}/scenarios/"
        )
    try:
        comparison = compare_scenarios(
            scenarios,
            _date(config.date_from, "date_from"),
            _date(config.date_to, "date_to"),
            paths=paths,
            flag_percent=Decimal(config.flag_percent),
        )
    except ScenarioError as error:
        raise dg.Failure(str(error)) from None
    actual_configs = load_pricing_configs(paths.pricing_dir)
    summaries = summarize(comparison, actual_configs)
    report = write_report(
        comparison, actual_configs, comparison.database_path.with_name("whatif_report.html")
    )
    for summary in summaries:
        for warning in summary.warnings:
            context.log.warning(f"{summary.name}: {warning}")
    currency = reporting_currency(comparison)
    charts = "\n\n".join(
        [
            _svg_image(monthly_revenue_svg(comparison.months, currency), "Revenue per month"),
            _svg_image(change_histogram_svg(comparison.customers), "Per-customer change"),
        ]
    )
    return dg.MaterializeResult(
        metadata={
            "range": f"{comparison.range.date_from} to {comparison.range.date_to} (exclusive)",
            "comparison": dg.MetadataValue.md(f"```\n{comparison_table(summaries)}\n```"),
            "charts": dg.MetadataValue.md(charts),
            "report": dg.MetadataValue.path(str(report)),
            "whatif_database": dg.MetadataValue.path(str(comparison.database_path)),
            **{f"change_reporting_minor/{s.name}": s.change_minor for s in summaries},
        }
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[scenario_comparison])

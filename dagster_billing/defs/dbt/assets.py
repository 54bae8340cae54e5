"""Every dbt model as a Dagster asset; dbt tests become asset checks.

Two sets, because the invoice ledger sits between them: `billing_dbt_models` computes everything up to the
invoice lines as they compute now (`int_invoice_lines_computed`); the Python asset `billing/issued_invoices`
freezes the due ones into the ledger; `billing_dbt_marts` builds what reads the ledger (the invoice marts with
their status and Stripe state, and the finance marts)."""

import json
from datetime import datetime, timezone

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from dagster_billing.defs.dbt.project import billing_dbt_project, dbt_cli_resource
from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL

# Everything downstream of the ledger and of the Stripe step's table (dbt selection syntax).
AFTER_LEDGER = "source:billing+ source:stripe+"


class DbtBuildConfig(dg.Config):
    as_of: str = Field(
        default="",
        description="Bill up to this UTC date or timestamp (YYYY-MM-DD[ HH:MM:SS]); empty means today at 00:00 UTC.",
    )


def dbt_build_args(as_of: str) -> list[str]:
    """The dbt command for a run: `as_of` is always passed so a rebuild for the same date gives the same rows."""
    as_of = as_of or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return ["build", "--vars", json.dumps({"as_of": as_of})]


def _dbt_build_assets(project, name: str, **selection: str) -> dg.AssetsDefinition:
    """One Dagster step that runs `dbt build` on the models of `selection` (dbt's select/exclude syntax)."""

    @dbt_assets(manifest=project.manifest_path, project=project, name=name, pool=WAREHOUSE_POOL, **selection)
    def build(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        yield from dbt.cli(dbt_build_args(config.as_of), context=context).stream()

    return build


def build_dbt_definitions() -> dg.Definitions:
    project = billing_dbt_project()
    return dg.Definitions(
        assets=[
            _dbt_build_assets(project, "billing_dbt_models", exclude=AFTER_LEDGER),
            _dbt_build_assets(project, "billing_dbt_marts", select=AFTER_LEDGER),
        ],
        resources={"dbt": dbt_cli_resource(project)},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_dbt_definitions()

"""Every dbt model as a Dagster asset; dbt tests become asset checks.

Two sets, because the invoice ledger sits between them: `billing_dbt_models` computes everything up to the
invoice lines as they compute now (`int_invoice_lines_computed`); the Python asset `billing/issued_invoices`
freezes the due ones into the ledger; `billing_dbt_marts` builds what reads the ledger (the invoice marts with
their status and Stripe state, and the finance marts)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from pydantic import Field

from dagster_billing.defs.dbt.build_args import dbt_build_args
from dagster_billing.defs.dbt.project import (
    billing_dbt_project,
    dbt_cli_resource,
    keep_partial_parse,
    prune_command_folders,
)
from dagster_billing.defs.usage.partitions import run_as_of
from dagster_billing.defs.warehouse.resources import WAREHOUSE_POOL, WarehouseResource
from dagster_billing.ingestion.usage_watermark import usage_folded_through_file_id

# Everything downstream of the ledger and of the Stripe step's table (dbt selection syntax).
AFTER_LEDGER = "source:billing+ source:stripe+"
# The what-if models are built on demand in their own database (dagster_billing/whatif), never by a billing run.
WHATIF_MODELS = "tag:whatif"


class DbtBuildConfig(dg.Config):
    as_of: str = Field(
        default="",
        description="Bill up to this UTC date or timestamp (YYYY-MM-DD[ HH:MM:SS]); empty means today at 00:00 UTC.",
    )
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental usage models from every event (dbt --full-refresh) and run every "
        "test; the invoice ledger is never rebuilt. Off: fold in only the new files' events.",
    )


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _dbt_build_assets(project, name: str, **selection: str) -> dg.AssetsDefinition:
    """One Dagster step that runs `dbt build` on the models of `selection` (dbt's select/exclude syntax)."""

    @dbt_assets(manifest=project.manifest_path, project=project, name=name, pool=WAREHOUSE_POOL, **selection)
    def build(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        config: DbtBuildConfig,
    ):
        # read before dbt starts: DuckDB lets one process hold the file
        with warehouse.get_connection() as con:
            folded_through = usage_folded_through_file_id(con)
        build = dbt_build_args(
            run_as_of(config.as_of, context.run.tags),
            full_refresh=config.full_refresh,
            events_tested_after_file_id=folded_through,
        )
        with _environment(build.env):  # dagster-dbt hands dbt a copy of os.environ when it starts it
            invocation = dbt.cli(build.args, context=context)
        yield from invocation.stream()
        keep_partial_parse(project, invocation.target_path)
        prune_command_folders(project)

    return build


def build_dbt_definitions() -> dg.Definitions:
    project = billing_dbt_project()
    return dg.Definitions(
        assets=[
            _dbt_build_assets(project, "billing_dbt_models", exclude=f"{AFTER_LEDGER} {WHATIF_MODELS}"),
            _dbt_build_assets(project, "billing_dbt_marts", select=AFTER_LEDGER, exclude=WHATIF_MODELS),
        ],
        resources={"dbt": dbt_cli_resource(project)},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_dbt_definitions()

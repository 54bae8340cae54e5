"""The code location: merges each domain's definitions under `dagster_billing/defs/`."""

import dagster as dg

from dagster_billing.defs.dbt import assets as dbt_assets
from dagster_billing.defs.ledger import assets as ledger_assets
from dagster_billing.defs.orchestration import schedules as orchestration_schedules
from dagster_billing.defs.pricing import assets as pricing_assets
from dagster_billing.defs.stripe import assets as stripe_assets
from dagster_billing.defs.tax import assets as tax_assets
from dagster_billing.defs.usage import assets as usage_assets
from dagster_billing.defs.usage import checks as usage_checks
from dagster_billing.defs.usage import sensors as usage_sensors
from dagster_billing.defs.warehouse import resources as warehouse_resources
from dagster_billing.defs.whatif import assets as whatif_assets


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        warehouse_resources.defs(),
        usage_assets.defs(),
        usage_checks.defs(),
        pricing_assets.defs(),
        dbt_assets.defs(),
        ledger_assets.defs(),
        usage_sensors.defs(),
        orchestration_schedules.defs(),
        stripe_assets.defs(),
        tax_assets.defs(),
        whatif_assets.defs(),
    )

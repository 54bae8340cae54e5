"""The Dagster wrappers: the Stripe assets and the blocking reconciliation check, materialized in-process."""

from __future__ import annotations

from datetime import date

import dagster as dg
import duckdb
from stripe_fixtures import emulator_settings

from dagster_billing.defs.stripe.assets import (
    stripe_collections,
    stripe_go_live,
    stripe_invoice_sync,
    stripe_payments,
)
from dagster_billing.defs.stripe.checks import stripe_reconciles
from dagster_billing.defs.stripe.resources import StripeResource
from dagster_billing.defs.warehouse.resources import WarehouseResource

RUN_CONFIG = {"ops": {"stripe__collections": {"config": {"as_of": "2026-09-05"}}}}


def _materialize(warehouse, stripe_api: StripeResource) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [stripe_go_live, stripe_invoice_sync, stripe_collections, stripe_payments, stripe_reconciles],
        resources={"warehouse": WarehouseResource(database=str(warehouse)), "stripe_api": stripe_api},
        run_config=RUN_CONFIG,
        raise_on_error=False,
    )


def _metadata(result: dg.ExecuteInProcessResult, key: str) -> dict:
    [materialization] = [m for m in result.asset_materializations_for_node(key)]
    return {name: value.value for name, value in materialization.metadata.items()}


def test_assets_finalize_dun_and_reconcile(invoice_warehouse, local_stripe):
    settings = emulator_settings(local_stripe.api_base)
    stripe_api = StripeResource(api_key=settings.api_key, api_base=settings.api_base, seed_test_cards=True)
    result = _materialize(invoice_warehouse, stripe_api)
    assert result.success
    sync = _metadata(result, "stripe__invoice_sync")
    assert {k: sync[k] for k in ("due", "charged", "sent", "declined", "no_payment_due", "error")} == {
        "due": 8,
        "charged": 3,
        "sent": 2,
        "declined": 1,
        "no_payment_due": 2,
        "error": 0,
    }
    assert _metadata(result, "stripe__collections")["retried"] == 1
    payments = _metadata(result, "stripe__payments")  # 3 cards charged; the declined card and its retry
    assert (payments["charges"], payments["failed charges"], payments["invoices not read"]) == (5, 2, 0)
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.metadata["problems"].value == 0


def test_without_a_key_the_tables_exist_and_the_asset_says_why(invoice_warehouse):
    result = _materialize(invoice_warehouse, StripeResource(finalize_from="2026-09-01"))
    assert result.success
    sync = _metadata(result, "stripe__invoice_sync")
    assert sync["stripe"] == "not run" and "STRIPE_API_KEY is not set" in sync["reason"]
    [check] = result.get_asset_check_evaluations()
    assert check.passed  # skipped, with the reason: there is no Stripe to compare the ledger with
    assert check.metadata["stripe"].value == "not configured: check skipped"
    con = duckdb.connect(str(invoice_warehouse), read_only=True)
    counts = [
        con.execute(f"select count(*) from stripe.{t}").fetchone()
        for t in ("invoice_sync", "collections", "payments")
    ]
    go_live = con.execute("select finalize_from from stripe.go_live").fetchall()
    con.close()
    assert counts == [(0,), (0,), (0,)]
    assert go_live == [(date(2026, 9, 1),)]  # recorded without a key too: the marts read it

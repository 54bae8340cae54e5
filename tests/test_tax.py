"""Tax inputs: the rates of pricing_configs/tax/*.yaml and the landing file customer_tax.csv, read exactly and
refused with errors naming the file, the jurisdiction or row, and the field. (The tax lines themselves are tested
by dbt unit tests in models/intermediate/invoicing, and end to end by the demo in test_demo_and_scale.)"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from stripe_fixtures import stripe_invoices

from dagster_billing.generator.customer_tax import customer_tax_row
from dagster_billing.generator.customers import Customer
from dagster_billing.ingestion.reference_data import ReferenceDataError
from dagster_billing.local_stripe.cards import attach_test_card
from dagster_billing.settings import REPO_ROOT
from dagster_billing.stripe_sync.finalize import finalize_due_invoices
from dagster_billing.stripe_sync.reconciliation import reconcile
from dagster_billing.tax.config import TaxConfigError, load_tax_rates
from dagster_billing.tax.customer_tax import validate_customer_tax


def _pricing_dir(tmp_path: Path, **files: str) -> Path:
    (tmp_path / "tax").mkdir()
    for name, text in files.items():
        (tmp_path / "tax" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_sample_rates_load_exactly_with_product_rates():
    rows = {(r.jurisdiction, r.product): r for r in load_tax_rates(REPO_ROOT / "pricing_configs")}
    assert rows[("US-CA", "*")].rate_percent == Decimal("7.25")
    assert rows[("FR", "starter")].rate_percent == Decimal("5.5") and rows[("FR", "*")].rate_percent == 20
    assert rows[("US-OR", "*")].is_exempt and rows[("US-OR", "*")].rate_percent == 0
    assert rows[("DE", "*")].reverse_charge_b2b and not rows[("GB", "*")].reverse_charge_b2b


def test_no_tax_folder_means_no_rates(tmp_path):
    assert load_tax_rates(tmp_path) == []


def test_every_problem_names_the_file_the_jurisdiction_and_the_field(tmp_path):
    pricing_dir = _pricing_dir(
        tmp_path,
        eu="""jurisdictions:
  - {code: DE, name: Germany, rate_percent: "119"}
  - {code: FR, name: France}
  - {code: nl, name: Netherlands, rate_percent: "21"}
  - {code: AT, name: Austria, rate_percent: "20", reverse_charge: true}
  - {code: BE, name: Belgium, rate_percent: 21.5, products: {starter: "6.12345"}}
""",
        more="""jurisdictions:
  - {code: GB, name: United Kingdom, rate_percent: "20"}
""",
        again="""jurisdictions:
  - {code: GB, name: Britain, rate_percent: "20"}
""",
    )
    with pytest.raises(TaxConfigError) as raised:
        load_tax_rates(pricing_dir)
    problems = raised.value.problems
    assert (
        "tax/eu.yaml: jurisdiction 'DE': field 'rate_percent': '119' must be a percentage from 0 to 100"
        in problems
    )
    assert (
        "tax/eu.yaml: jurisdiction 'FR': field 'rate_percent': is required unless the jurisdiction is exempt"
        in problems
    )
    assert any(
        p.startswith("tax/eu.yaml: jurisdiction 'nl': field 'code': 'nl' must be a country code")
        for p in problems
    )
    assert (
        "tax/eu.yaml: jurisdiction 'AT': field 'reverse_charge': is not a known field (a misspelling?)"
        in problems
    )
    assert any(
        p.startswith("tax/eu.yaml: jurisdiction 'BE': field products 'starter'") and "decimal places" in p
        for p in problems
    )
    assert (
        "tax/more.yaml: jurisdiction 'GB': also in tax/again.yaml; a jurisdiction is configured once"
        in problems
    )
    assert str(raised.value).startswith(f"{len(problems)} problems in the tax configs, nothing was loaded:")


def test_a_rate_written_as_a_plain_number_is_read_from_its_digits(tmp_path):
    pricing_dir = _pricing_dir(tmp_path, gb="jurisdictions:\n  - {code: GB, name: UK, rate_percent: 20.1}\n")
    [row] = load_tax_rates(pricing_dir)
    assert row.rate_percent == Decimal("20.1")  # exact, never 20.100000000000001


def test_customer_tax_rows_are_validated_whole_with_row_and_field():
    rows = [
        {"customer_id": "cus_1", "tax_country": "DE", "tax_region": "", "tax_id": "DE1", "tax_exempt": ""},
        {
            "customer_id": "cus_2",
            "tax_country": "Germany",
            "tax_region": "",
            "tax_id": "",
            "tax_exempt": "none",
        },
        {
            "customer_id": "cus_1",
            "tax_country": "US",
            "tax_region": "Oregon",
            "tax_id": "",
            "tax_exempt": "yes",
        },
    ]
    with pytest.raises(ReferenceDataError) as raised:
        validate_customer_tax(rows)
    assert raised.value.problems == [
        "customer_tax.csv row 3: field 'tax_country': 'Germany' is not a two-letter country code (e.g. DE)",
        "customer_tax.csv row 4: field 'customer_id': 'cus_1' is also on row 2",
        "customer_tax.csv row 4: field 'tax_region': 'Oregon' is not a region code (1-3 letters or digits)",
        "customer_tax.csv row 4: field 'tax_exempt': 'yes' is not one of none, exempt, reverse",
    ]
    [record] = validate_customer_tax(rows[:1])
    assert record[:5] == ("cus_1", "DE", None, "DE1", "none")  # tax_exempt defaults to none


def test_the_generator_spreads_customers_over_jurisdictions_with_exemptions_and_vat_ids():
    def customer(n: int, currency: str) -> Customer:
        return Customer(f"cus_{n:04d}", "n", "e", currency, None, "charge_automatically", None, "")  # type: ignore[arg-type]

    rows = [customer_tax_row(n, customer(n, currency)) for n in range(24) for currency in ("USD", "EUR")]
    locations = {(country, region) for _, country, region, _, _ in rows}
    assert {("US", "CA"), ("US", "NY"), ("US", "OR"), ("DE", ""), ("FR", ""), ("NL", "")} <= locations
    assert any(tax_id for *_, tax_id, _ in rows) and any(exempt == "exempt" for *_, exempt in rows)


def test_the_stripe_tax_switch_creates_invoices_with_automatic_tax_and_still_reconciles(
    invoice_warehouse, local_stripe, stripe_client
):
    con = duckdb.connect(str(invoice_warehouse))
    con.execute("set TimeZone = 'UTC'")
    summary = finalize_due_invoices(
        con, stripe_client, on_customer_created=attach_test_card, automatic_tax=True
    )
    assert summary.count("error") == 0 and summary.due == 8
    invoices = stripe_invoices(stripe_client)
    assert len(invoices) == 8 and all(invoice.automatic_tax.enabled for invoice in invoices)
    # Stripe Tax adds its own tax; the ledger's total is compared with Stripe's total before it
    report = reconcile(con, stripe_client)
    con.close()
    assert report.passed, report.problems

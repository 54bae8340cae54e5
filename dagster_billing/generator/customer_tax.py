"""Synthetic tax locations (`customer_tax.csv`), by position so the rest of the generated data is unchanged:
several jurisdictions per currency, an exempt region (US-OR), exempt customers, and EU businesses with a VAT id
(reverse charge), matching `pricing_configs/tax/`."""

from __future__ import annotations

import csv
from pathlib import Path

from dagster_billing.generator.customers import Customer
from dagster_billing.tax.customer_tax import CSV_COLUMNS

# currency -> locations in turn: (country, region, has a tax id)
_LOCATIONS = {
    "USD": (("US", "CA", False), ("US", "NY", False), ("US", "CA", False), ("US", "OR", False)),
    "EUR": (("DE", "", True), ("DE", "", False), ("FR", "", False), ("NL", "", False), ("FR", "", True)),
    "GBP": (("GB", "", False),),
    "JPY": (("JP", "", False),),
}
EXEMPT_EVERY = 12  # about one customer in 12 holds a tax exemption certificate (a charity, a school)


def customer_tax_row(index: int, customer: Customer) -> tuple[str, ...]:
    locations = _LOCATIONS.get(customer.currency, (("US", "CA", False),))
    country, region, has_tax_id = locations[index % len(locations)]
    tax_id = f"{country}{100000000 + index * 7919}" if has_tax_id else ""
    exempt = "exempt" if index % EXEMPT_EVERY == EXEMPT_EVERY - 5 else "none"
    return (customer.customer_id, country, region, tax_id, exempt)


def write_customer_tax_csv(path: Path, customers: list[Customer]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(customer_tax_row(index, customer) for index, customer in enumerate(customers))

"""Customers' tax location and status from the landing file `customer_tax.csv` (optional), validated whole.

Columns: `customer_id`, `tax_country` (ISO 3166-1 alpha-2, e.g. DE), `tax_region` (optional subdivision, e.g. OR
for Oregon: the jurisdiction `US-OR`), `tax_id` (optional: a business's VAT or tax number), `tax_exempt` (`none`,
default; `exempt`: the customer owes no tax, e.g. a charity with a certificate; `reverse`: the customer accounts
for the tax itself), as Stripe's customer `tax_exempt`. A bad row stops the load with every problem listed and the
previous snapshot stays, as for customers.csv. No file: the table is empty and no tax is computed.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from dagster_billing.ingestion.reference_data import ReferenceDataError, _problem, _read_rows, _replace_table

FILE = "customer_tax.csv"
CSV_COLUMNS = ("customer_id", "tax_country", "tax_region", "tax_id", "tax_exempt")
REQUIRED_COLUMNS = ("customer_id", "tax_country")
TAX_EXEMPT_VALUES = ("none", "exempt", "reverse")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REGION = re.compile(r"^[A-Z0-9]{1,3}$")


def validate_customer_tax(rows: list[dict[str, str]], file: str = FILE) -> list[tuple]:
    problems: list[str] = []
    records: list[tuple] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        customer_id = row.get("customer_id", "")
        if not customer_id:
            problems.append(_problem(file, number, "customer_id", "is empty"))
        elif customer_id in seen:
            problems.append(
                _problem(file, number, "customer_id", f"'{customer_id}' is also on row {seen[customer_id]}")
            )
        else:
            seen[customer_id] = number
        country = row.get("tax_country", "")
        if not _COUNTRY.match(country):
            problems.append(
                _problem(
                    file, number, "tax_country", f"'{country}' is not a two-letter country code (e.g. DE)"
                )
            )
        region = row.get("tax_region", "")
        if region and not _REGION.match(region):
            problems.append(
                _problem(
                    file, number, "tax_region", f"'{region}' is not a region code (1-3 letters or digits)"
                )
            )
        exempt = row.get("tax_exempt", "") or "none"
        if exempt not in TAX_EXEMPT_VALUES:
            problems.append(
                _problem(
                    file, number, "tax_exempt", f"'{exempt}' is not one of {', '.join(TAX_EXEMPT_VALUES)}"
                )
            )
        records.append(
            (customer_id, country, region or None, row.get("tax_id", "") or None, exempt, file, number)
        )
    if problems:
        raise ReferenceDataError(problems)
    return records


def load_customer_tax(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> int:
    path = landing_dir / FILE
    records = validate_customer_tax(_read_rows(con, path, REQUIRED_COLUMNS)) if path.is_file() else []
    _replace_table(
        con,
        """create or replace table raw.customer_tax (
            customer_id varchar primary key, tax_country varchar not null, tax_region varchar, tax_id varchar,
            tax_exempt varchar not null, source_file varchar, source_row integer
        )""",
        "raw.customer_tax",
        [*CSV_COLUMNS, "source_file", "source_row"],
        records,
    )
    return len(records)


def write_tax_rates(con: duckdb.DuckDBPyConnection, rows: list) -> int:
    con.execute("create schema if not exists raw")
    con.begin()
    try:
        con.execute(
            """create or replace table raw.tax_rates (
                jurisdiction varchar not null, jurisdiction_name varchar not null, tax_name varchar not null,
                product varchar not null, rate_percent decimal(9, 4) not null, is_exempt boolean not null,
                reverse_charge_b2b boolean not null, source_file varchar not null,
                primary key (jurisdiction, product)
            )"""
        )
        if rows:  # no tax configs: an empty table, and no tax is computed
            con.executemany(
                "insert into raw.tax_rates values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.jurisdiction,
                        r.jurisdiction_name,
                        r.tax_name,
                        r.product,
                        r.rate_percent,
                        r.is_exempt,
                        r.reverse_charge_b2b,
                        r.source_file,
                    )
                    for r in rows
                ],
            )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return len(rows)

"""Customers and subscriptions: small reference snapshots, validated whole.

Unlike usage rows, a bad reference row is not quarantined: billing a customer with a wrong anchor or currency is
worse than not billing yet, so any problem stops the load with every problem listed, and the previous snapshot
stays in place.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pandas as pd

COLLECTION_METHODS = ("charge_automatically", "send_invoice")
CUSTOMER_REQUIRED_COLUMNS = (
    "customer_id",
    "name",
    "email",
    "currency",
    "billing_anchor",
    "collection_method",
)
SUBSCRIPTION_REQUIRED_COLUMNS = ("subscription_id", "customer_id", "plan_id", "started_at")
# What is billed between a subscription's start and a later billing anchor: nothing (empty, the default) or a
# prorated stub period up to the anchor (Stripe's default for a subscription created with a future anchor).
BEFORE_ANCHOR_MODES = ("unbilled", "prorated_stub")
# A trial inside the first window (empty, the default) or its own period, the paid cycle starting at its end (Stripe).
TRIAL_PERIOD_MODES = ("inside_window", "own_period")
# Stripe's `proration_behavior`, per change: the row that starts at a change says how that change is prorated.
PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")
# A pricing version name as written in the configs' `version` field.
_VERSION_NAME = re.compile(r"\S+")


class ReferenceDataError(ValueError):
    """Every problem found in a reference file, one per line, each naming the file, row and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _read_rows(con: duckdb.DuckDBPyConnection, path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise ReferenceDataError([f"{path.name}: file not found in the landing folder ({path})"])
    try:
        # The path is a prepared parameter, never SQL text: a folder name is data (issue 12).
        relation = con.sql(
            "select * from read_csv($1, header = true, all_varchar = true, auto_detect = true)",
            params=[str(path)],
        )
    except duckdb.Error as error:
        raise ReferenceDataError(
            [f"{path.name}: cannot be read as CSV: {str(error).splitlines()[0]}"]
        ) from error
    columns = [c.lower() for c in relation.columns]
    missing = [c for c in required if c not in columns]
    if missing:
        raise ReferenceDataError([f"{path.name}: required column(s) {', '.join(missing)} missing"])
    return [
        {
            column: (value.strip() if isinstance(value, str) else "")
            for column, value in zip(columns, row, strict=True)
        }
        for row in relation.fetchall()
    ]


def parse_utc_timestamp(text: str) -> datetime:
    """RFC 3339 to a naive UTC datetime; no offset means UTC (the data contract)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _problem(file: str, row: int, field: str, message: str) -> str:
    return f"{file} row {row}: field '{field}': {message}"


def _unique_id(
    row: dict[str, str], field: str, seen: set[str], file: str, number: int, problems: list[str]
) -> str:
    """The row's id in `field`, with a problem recorded when it is empty or already seen in this file."""
    value = row.get(field, "")
    if not value:
        problems.append(_problem(file, number, field, "is empty"))
    elif value in seen:
        problems.append(_problem(file, number, field, f"'{value}' appears more than once"))
    seen.add(value)
    return value


def validate_customers(rows: list[dict[str, str]], file: str = "customers.csv") -> list[tuple]:
    problems, records, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        errors_before = len(problems)
        customer_id = _unique_id(row, "customer_id", seen, file, number, problems)
        currency = row.get("currency", "").upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            problems.append(
                _problem(file, number, "currency", f"'{row.get('currency', '')}' is not an ISO 4217 code")
            )
        try:
            anchor = date.fromisoformat(row.get("billing_anchor", ""))
        except ValueError:
            anchor = None
            problems.append(
                _problem(
                    file,
                    number,
                    "billing_anchor",
                    f"'{row.get('billing_anchor', '')}' is not a date (YYYY-MM-DD)",
                )
            )
        method = row.get("collection_method", "")
        if method not in COLLECTION_METHODS:
            problems.append(
                _problem(
                    file,
                    number,
                    "collection_method",
                    f"'{method}' is not one of {', '.join(COLLECTION_METHODS)}",
                )
            )
        days_text = row.get("days_until_due", "")
        days = None
        if method == "send_invoice":
            if not days_text.isdigit():
                problems.append(
                    _problem(
                        file,
                        number,
                        "days_until_due",
                        "must be a whole number of days for send_invoice customers",
                    )
                )
            else:
                days = int(days_text)
        zone = row.get("timezone", "") or "UTC"
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(_problem(file, number, "timezone", f"'{zone}' is not an IANA time zone name"))
        before_anchor = row.get("before_anchor", "") or None
        if before_anchor is not None and before_anchor not in BEFORE_ANCHOR_MODES:
            problems.append(
                _problem(
                    file,
                    number,
                    "before_anchor",
                    f"'{before_anchor}' is not one of {', '.join(BEFORE_ANCHOR_MODES)} (empty: unbilled)",
                )
            )
        trial_period = row.get("trial_period", "") or None
        if trial_period is not None and trial_period not in TRIAL_PERIOD_MODES:
            problems.append(
                _problem(
                    file,
                    number,
                    "trial_period",
                    f"'{trial_period}' is not one of {', '.join(TRIAL_PERIOD_MODES)} (empty: inside_window)",
                )
            )
        pinned_version = row.get("pricing_version") or None
        if pinned_version and not _VERSION_NAME.fullmatch(pinned_version):
            problems.append(
                _problem(
                    file,
                    number,
                    "pricing_version",
                    f"'{pinned_version}' is not a pricing version name (e.g. 2025-01, no spaces); leave it "
                    f"empty to follow the versions' effective dates",
                )
            )
        if len(problems) == errors_before:
            records.append(
                (
                    customer_id,
                    row.get("name", ""),
                    row.get("email", ""),
                    currency,
                    anchor,
                    method,
                    days,
                    zone,
                    row.get("stripe_customer_id") or None,
                    pinned_version,
                    before_anchor,
                    trial_period,
                    file,
                    number,
                )
            )
    if problems:
        raise ReferenceDataError(problems)
    return records


def _timestamp_field(row, field, file, number, problems, required=False):
    text = row.get(field, "")
    if not text:
        if required:
            problems.append(_problem(file, number, field, "is empty"))
        return None
    try:
        return parse_utc_timestamp(text)
    except ValueError:
        problems.append(_problem(file, number, field, f"'{text}' is not an RFC 3339 timestamp"))
        return None


def validate_subscriptions(
    rows: list[dict[str, str]], customer_ids: set[str], file: str = "subscriptions.csv"
) -> list[tuple]:
    problems, records, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        errors_before = len(problems)
        subscription_id = _unique_id(row, "subscription_id", seen, file, number, problems)
        customer_id = row.get("customer_id", "")
        if customer_id not in customer_ids:
            problems.append(_problem(file, number, "customer_id", f"'{customer_id}' is not in customers.csv"))
        if not row.get("plan_id"):
            problems.append(_problem(file, number, "plan_id", "is empty"))
        started = _timestamp_field(row, "started_at", file, number, problems, required=True)
        ended = _timestamp_field(row, "ended_at", file, number, problems)
        trial_ends = _timestamp_field(row, "trial_ends_at", file, number, problems)
        if started and ended and ended < started:
            problems.append(_problem(file, number, "ended_at", "is before started_at"))
        proration_behavior = row.get("proration_behavior", "") or None
        if proration_behavior is not None and proration_behavior not in PRORATION_BEHAVIORS:
            problems.append(
                _problem(
                    file,
                    number,
                    "proration_behavior",
                    f"'{proration_behavior}' is not one of {', '.join(PRORATION_BEHAVIORS)} (empty: create_prorations)",
                )
            )
        quantity_text = row.get("quantity", "") or "1"
        if not quantity_text.isdigit() or int(quantity_text) < 1:
            problems.append(
                _problem(file, number, "quantity", f"'{quantity_text}' is not a whole number of seats >= 1")
            )
        if len(problems) == errors_before:
            records.append(
                (
                    subscription_id,
                    customer_id,
                    row["plan_id"],
                    started,
                    ended,
                    int(quantity_text),
                    trial_ends,
                    proration_behavior,
                    file,
                    number,
                )
            )
    problems.extend(_overlapping_subscriptions(records, file))
    if problems:
        raise ReferenceDataError(problems)
    return records


def _overlapping_subscriptions(records: list[tuple], file: str) -> list[str]:
    """A customer has one subscription at a time; a plan change ends one where the next starts."""
    problems = []
    by_customer: dict[str, list[tuple]] = {}
    for record in records:
        by_customer.setdefault(record[1], []).append(record)
    for customer_id, subscriptions in by_customer.items():
        subscriptions.sort(key=lambda r: (r[3], r[0]))
        # Compared with the earlier subscription that ends last, not just the one before: a long subscription
        # can overlap several later ones.
        previous = subscriptions[0]
        for current in subscriptions[1:]:
            if previous[4] is None or previous[4] > current[3]:
                problems.append(
                    f"{file} row {current[-1]}: field 'started_at': subscription '{current[0]}' of customer "
                    f"'{customer_id}' starts before subscription '{previous[0]}' (row {previous[-1]}) ends"
                )
            if previous[4] is not None and (current[4] is None or current[4] > previous[4]):
                previous = current
    return problems


def _replace_table(
    con: duckdb.DuckDBPyConnection, ddl: str, table: str, columns: list[str], records: list[tuple]
):
    incoming = pd.DataFrame.from_records(records, columns=columns)  # noqa: F841 (read by DuckDB by name)
    con.execute("create schema if not exists raw")
    con.begin()
    try:
        con.execute(ddl)
        con.execute(f"insert into {table} by name select * from incoming")
        con.commit()
    except BaseException:
        con.rollback()
        raise


# The landing files' columns (the data contract, also what `billing generate` writes) and the tables' columns.
CUSTOMER_CSV_COLUMNS = (
    "customer_id",
    "name",
    "email",
    "currency",
    "billing_anchor",
    "collection_method",
    "days_until_due",
    "timezone",
    "stripe_customer_id",
    "pricing_version",
    "before_anchor",
    "trial_period",
)
SUBSCRIPTION_CSV_COLUMNS = (
    "subscription_id",
    "customer_id",
    "plan_id",
    "started_at",
    "ended_at",
    "quantity",
    "trial_ends_at",
    "proration_behavior",
)
CUSTOMER_TABLE_COLUMNS = [*CUSTOMER_CSV_COLUMNS, "source_file", "source_row"]
SUBSCRIPTION_TABLE_COLUMNS = [*SUBSCRIPTION_CSV_COLUMNS, "source_file", "source_row"]


def load_customers(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> int:
    records = validate_customers(_read_rows(con, landing_dir / "customers.csv", CUSTOMER_REQUIRED_COLUMNS))
    _check_pins(con, records)
    _replace_table(
        con,
        """create or replace table raw.customers (
            customer_id varchar primary key, name varchar, email varchar, currency varchar not null,
            billing_anchor date not null, collection_method varchar not null, days_until_due integer,
            timezone varchar not null, stripe_customer_id varchar, pricing_version varchar, before_anchor varchar,
            trial_period varchar, source_file varchar, source_row integer)""",
        "raw.customers",
        CUSTOMER_TABLE_COLUMNS,
        records,
    )
    return len(records)


def _check_pins(con: duckdb.DuckDBPyConnection, records: list[tuple]) -> None:
    """A pin must name a loaded pricing version. Checked only once the pricing tables exist (customers may be
    loaded first); the dbt relationships test on stg_customers.pinned_pricing_version checks it on every build."""
    pin_at = CUSTOMER_TABLE_COLUMNS.index("pricing_version")
    pinned = [record for record in records if record[pin_at]]
    if not pinned:
        return
    try:
        rows = con.execute(
            "select pricing_version from raw.pricing_versions where scenario = 'actual'"
        ).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):  # not loaded yet, or an older table layout
        return
    known = {version for (version,) in rows}
    problems = [
        f"{record[-2]} row {record[-1]}: field 'pricing_version': '{record[pin_at]}' is not a loaded pricing "
        f"version (known: {', '.join(sorted(known)) or 'none'})"
        for record in pinned
        if record[pin_at] not in known
    ]
    if problems:
        raise ReferenceDataError(problems)


def load_subscriptions(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> int:
    try:
        customer_ids = {row[0] for row in con.execute("select customer_id from raw.customers").fetchall()}
    except duckdb.CatalogException as error:
        raise ReferenceDataError(
            ["subscriptions.csv: customers are not loaded yet (materialize raw/customers first)"]
        ) from error
    records = validate_subscriptions(
        _read_rows(con, landing_dir / "subscriptions.csv", SUBSCRIPTION_REQUIRED_COLUMNS), customer_ids
    )
    _replace_table(
        con,
        """create or replace table raw.subscriptions (
            subscription_id varchar primary key, customer_id varchar not null, plan_id varchar not null,
            started_at timestamp not null, ended_at timestamp, quantity integer not null, trial_ends_at timestamp,
            proration_behavior varchar, source_file varchar, source_row integer)""",
        "raw.subscriptions",
        SUBSCRIPTION_TABLE_COLUMNS,
        records,
    )
    return len(records)

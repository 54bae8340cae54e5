"""Synthetic customers: billing anchors on every day of the month, mixed currencies, time zones and collection
methods, so that window and invoicing edge cases appear in every generated landing folder."""

from __future__ import annotations

import calendar
import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dagster_billing.ingestion.reference_data import CUSTOMER_CSV_COLUMNS

# Company-name suffix per currency, so a JPY customer reads like a Japanese company.
_SUFFIXES = {"USD": ("Inc", "LLC"), "EUR": ("GmbH", "SAS", "BV"), "GBP": ("Ltd", "plc"), "JPY": ("KK",)}
_ADJECTIVES = ("Bright", "Northern", "Quiet", "Rapid", "Silver", "Blue", "Open", "Clever", "Solid", "Urban")
_NOUNS = (
    "Labs",
    "Analytics",
    "Robotics",
    "Cloud",
    "Health",
    "Logistics",
    "Media",
    "Foods",
    "Energy",
    "Studio",
)
_TIMEZONES = ("America/New_York", "Europe/Berlin", "Asia/Tokyo")
LEAP_DAY = date(2024, 2, 29)
# About one customer in 20 is grandfathered: pinned to the first pricing version whatever the date.
PINNED_PRICING_VERSION = "2025-01"
PIN_EVERY = 20


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    email: str
    currency: str
    billing_anchor: date
    collection_method: str
    days_until_due: int | None
    timezone: str  # "" means UTC
    pricing_version: str = ""  # "" means the version in force by effective date
    before_anchor: str = ""  # "" means unbilled; prorated_stub bills a stub up to a later anchor (Stripe)
    trial_period: str = ""  # "" means inside_window; own_period makes a trial its own period (Stripe)

    def csv_row(self) -> tuple[str, ...]:
        due = "" if self.days_until_due is None else str(self.days_until_due)
        return (
            self.customer_id,
            self.name,
            self.email,
            self.currency,
            self.billing_anchor.isoformat(),
            self.collection_method,
            due,
            self.timezone,
            "",
            self.pricing_version,
            self.before_anchor,
            self.trial_period,
        )


def _dates_on_day(first: date, last: date, day: int) -> list[date]:
    """Every date in [first, last] that falls on `day` of its month (months without that day are skipped)."""
    dates, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        if day <= calendar.monthrange(year, month)[1] and first <= date(year, month, day) <= last:
            dates.append(date(year, month, day))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dates


def _billing_anchor(rng: random.Random, index: int, count: int, start: date, end: date) -> date:
    # The first 31 customers take days 1..31 in turn so every day of the month is covered; day 29 is Feb 29.
    day = index + 1 if index < 31 else rng.choice([*range(1, 29)] * 3 + [29, 30, 31])
    if day == 29 and index < 31:
        return LEAP_DAY
    roll = rng.random()
    if index == count - 1 or roll < 0.04:  # signed up, billing starts after the generated window
        first, last = end + timedelta(days=1), end + timedelta(days=365)
    elif roll < 0.20:  # starts inside the window: its earlier usage comes before the anchor
        first, last = start + timedelta(days=1), end - timedelta(days=1)
    else:
        first, last = start - timedelta(days=730), start
    candidates = _dates_on_day(first, last, day) or _dates_on_day(first - timedelta(days=366), last, day)
    return rng.choice(candidates)


def _currency(rng: random.Random, index: int) -> str:
    if index % 15 == 7:  # a few JPY customers: a zero-decimal currency
        return "JPY"
    return rng.choices(("USD", "EUR", "GBP"), weights=(55, 28, 17))[0]


def build_customers(rng: random.Random, count: int, start: date, end: date) -> list[Customer]:
    customers = []
    for index in range(count):
        currency = _currency(rng, index)
        adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
        sends_invoice = index % 4 == 3
        customers.append(
            Customer(
                customer_id=f"cus_{index + 1:04d}",
                name=f"{adjective} {noun} {rng.choice(_SUFFIXES[currency])}",
                email=f"billing@{adjective}{noun}{index + 1}.example.com".lower(),
                currency=currency,
                billing_anchor=_billing_anchor(rng, index, count, start, end),
                collection_method="send_invoice" if sends_invoice else "charge_automatically",
                days_until_due=rng.choice((7, 15, 30, 45)) if sends_invoice else None,
                timezone=rng.choice(_TIMEZONES) if rng.random() < 0.3 else "",
                # by position, not by a random draw, so adding pins left the rest of the data unchanged
                pricing_version=PINNED_PRICING_VERSION if index % PIN_EVERY == PIN_EVERY - 2 else "",
            )
        )
    return customers


def write_customers_csv(path: Path, customers: list[Customer]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CUSTOMER_CSV_COLUMNS)
        writer.writerows(customer.csv_row() for customer in customers)

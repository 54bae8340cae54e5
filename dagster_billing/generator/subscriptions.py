"""Subscription history per customer: the first subscription starts at the billing anchor (local midnight),
some customers change plan once mid-window (one row ends the instant the next starts) and some cancel. By position
(no random draw, so the rest of the data stays the same): some plan changes go to the yearly plan (a cadence change,
a new billing cycle), some customers start 10 days before their anchor and are billed a prorated stub, and half the
customers with a trial have it as its own period (Stripe)."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster_billing.generator.customers import Customer
from dagster_billing.ingestion.reference_data import SUBSCRIPTION_CSV_COLUMNS

# Plans a customer may move between within one cadence.
ANNIVERSARY_MONTHLY_PLANS = ("starter", "growth", "scale")
# Every CADENCE_CHANGE_EVERY-th customer with a plan change moves to the yearly plan instead: a new billing cycle.
CADENCE_CHANGE_EVERY, CADENCE_CHANGE_PLAN = 3, "annual_enterprise"
# Every STUB_EVERY-th customer subscribes STUB_DAYS before its anchor with `before_anchor: prorated_stub`.
STUB_EVERY, STUB_DAYS = 11, 10
PLAN_WEIGHTS = {
    "starter": 30,
    "growth": 25,
    "scale": 15,
    "annual_enterprise": 8,
    "weekly_dev": 10,
    "calendar_team": 12,
}
_SEATED_PLANS = ("scale", "annual_enterprise", "calendar_team")


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    customer_id: str
    plan_id: str
    started_at: datetime  # UTC
    ended_at: datetime | None  # UTC, exclusive
    quantity: int
    trial_ends_at: datetime | None
    proration_behavior: str | None = None  # empty in the file: create_prorations

    def csv_row(self) -> tuple[str, ...]:
        return (
            self.subscription_id,
            self.customer_id,
            self.plan_id,
            rfc3339(self.started_at),
            rfc3339(self.ended_at),
            str(self.quantity),
            rfc3339(self.trial_ends_at),
            self.proration_behavior or "",
        )


def rfc3339(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def anchor_instant(customer: Customer) -> datetime:
    """Midnight of the billing anchor in the customer's time zone, as UTC."""
    zone = ZoneInfo(customer.timezone) if customer.timezone else timezone.utc
    return datetime.combine(customer.billing_anchor, time(), zone).astimezone(timezone.utc)


def _instant_between(rng: random.Random, earliest: datetime, latest: datetime) -> datetime:
    return earliest + timedelta(seconds=rng.randrange(int((latest - earliest).total_seconds())))


def _customer_history(
    rng: random.Random, index: int, customer: Customer, start: date, end: date
) -> list[dict]:
    """Rows (without ids) for one customer, oldest first."""
    plan = rng.choices(list(PLAN_WEIGHTS), weights=list(PLAN_WEIGHTS.values()))[0]
    started_at = anchor_instant(customer)
    seats = rng.randint(2, 25) if plan in _SEATED_PLANS else 1
    trial = started_at + timedelta(days=14) if rng.random() < 0.15 else None
    rows = [dict(plan_id=plan, started_at=started_at, ended_at=None, quantity=seats, trial_ends_at=trial)]
    window_start = datetime.combine(start, time(), timezone.utc)
    window_end = datetime.combine(end, time(), timezone.utc)
    earliest = max(started_at, window_start) + timedelta(days=1)
    latest = window_end - timedelta(days=1)
    if earliest >= latest:  # starts at the very end of the window or after it: nothing happens inside
        return rows
    if plan in ANNIVERSARY_MONTHLY_PLANS and (index % 5 == 1 or rng.random() < 0.1):
        changed_at = _instant_between(rng, earliest, latest)
        rows[0]["ended_at"] = changed_at
        next_plan = rng.choice([other for other in ANNIVERSARY_MONTHLY_PLANS if other != plan])
        rows.append(
            dict(plan_id=next_plan, started_at=changed_at, ended_at=None, quantity=seats, trial_ends_at=None)
        )
        earliest = changed_at + timedelta(days=1)
    if earliest < latest and (index % 9 == 4 or rng.random() < 0.05):
        rows[-1]["ended_at"] = _instant_between(rng, earliest, latest)
    # after every random draw, so these change nothing else
    if len(rows) > 1 and index % CADENCE_CHANGE_EVERY == 1:
        rows[1]["plan_id"] = CADENCE_CHANGE_PLAN
    if (
        index % STUB_EVERY == STUB_EVERY - 5 and plan != "weekly_dev"
    ):  # a stub reaches back one period at most
        rows[0]["started_at"] = started_at - timedelta(days=STUB_DAYS)
    return rows


def with_calendar_options(customers: list[Customer], subscriptions: list[Subscription]) -> list[Customer]:
    """The customers.csv options the history needs: `prorated_stub` for those subscribed before their anchor, and
    `own_period` trials for every second customer with a trial (by position)."""
    first: dict[str, Subscription] = {}
    for subscription in subscriptions:
        first.setdefault(subscription.customer_id, subscription)
    result = []
    for index, customer in enumerate(customers):
        subscription = first[customer.customer_id]
        stub = subscription.started_at < anchor_instant(customer)
        own_trial = subscription.trial_ends_at is not None and index % 2 == 0
        result.append(
            replace(
                customer,
                before_anchor="prorated_stub" if stub else "",
                trial_period="own_period" if own_trial else "",
            )
        )
    return result


def build_subscriptions(
    rng: random.Random, customers: list[Customer], start: date, end: date
) -> list[Subscription]:
    subscriptions = []
    for index, customer in enumerate(customers):
        for row in _customer_history(rng, index, customer, start, end):
            subscription_id = f"sub_{len(subscriptions) + 1:05d}"
            subscriptions.append(Subscription(subscription_id, customer.customer_id, **row))
    return subscriptions


def write_subscriptions_csv(path: Path, subscriptions: list[Subscription]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SUBSCRIPTION_CSV_COLUMNS)
        writer.writerows(subscription.csv_row() for subscription in subscriptions)

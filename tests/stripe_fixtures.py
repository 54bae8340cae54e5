"""Fixtures for the Stripe tests: a local Stripe emulator process, and a real DuckDB warehouse holding the invoice
marts with exactly the contract's columns (docs: /work/contracts.md "Invoice marts").

Registered from tests/conftest.py with `pytest_plugins`. Also runnable as a script, which the crash tests use:
`python tests/stripe_fixtures.py <warehouse> <api_base> <crash_step> <crash_count>` finalizes the warehouse's
invoices and SIGKILLs itself the `crash_count`-th time an invoice reaches `crash_step`.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import stripe

from dagster_billing.ledger.tables import ensure_ledger_tables
from dagster_billing.local_stripe.cards import attach_test_card, card_declines
from dagster_billing.local_stripe.process import EMULATOR_API_KEY, LocalStripe, start_local_stripe
from dagster_billing.stripe_sync.client import StripeSettings, build_client
from dagster_billing.stripe_sync.finalize import FinalizeSummary, finalize_due_invoices

DECLINING_CUSTOMER = next(f"cus_{n:04d}" for n in range(1, 1000) if card_declines(f"cus_{n:04d}"))
CARD_CUSTOMER = next(f"cus_{n:04d}" for n in range(1, 1000) if not card_declines(f"cus_{n:04d}"))


@dataclass(frozen=True)
class Line:
    amount_minor: int
    line_type: str = "usage"
    description: str = "API calls"


@dataclass(frozen=True)
class Invoice:
    customer_id: str
    billing_date: date
    lines: tuple[Line, ...]
    collection_method: str = "charge_automatically"
    currency: str = "USD"
    scenario: str = "actual"

    @property
    def invoice_id(self) -> str:
        identity = f"{self.scenario}|{self.customer_id}|{self.billing_date}"
        return "inv_" + hashlib.sha256(identity.encode()).hexdigest()[:24]

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)


def sample_invoices() -> list[Invoice]:
    """Both collection methods, a declining card, JPY, a zero and a negative total, a what-if not to bill."""
    send = "send_invoice"
    return [
        Invoice(
            CARD_CUSTOMER,
            date(2026, 8, 1),
            (
                Line(4900, "base_fee", "Growth plan"),
                Line(1234),
                Line(-300, "proration_credit", "Plan change credit"),
            ),
        ),
        Invoice(CARD_CUSTOMER, date(2026, 9, 1), (Line(4900, "base_fee", "Growth plan"),)),
        Invoice("cus_send", date(2026, 9, 1), (Line(10000, "base_fee", "Scale plan"), Line(2575)), send),
        Invoice(DECLINING_CUSTOMER, date(2026, 9, 1), (Line(1999, "base_fee", "Starter plan"),)),
        Invoice(
            "cus_jpy",
            date(2026, 9, 1),
            (Line(5000, "base_fee", "Growth plan (JPY)"), Line(42)),
            currency="JPY",
        ),
        Invoice("cus_zero", date(2026, 9, 1), (Line(0, "usage", "Storage, within included units"),)),
        Invoice(
            "cus_credit",
            date(2026, 8, 1),
            (Line(1000, "base_fee", "Starter plan"), Line(-2500, "proration_credit", "Downgrade credit")),
            send,
        ),
        Invoice("cus_credit", date(2026, 9, 1), (Line(4000, "base_fee", "Growth plan"),), send),
        Invoice(CARD_CUSTOMER, date(2026, 9, 1), (Line(99999),), scenario="whatif_2027"),
    ]


def many_invoices(count: int, lines_per_invoice: int = 3) -> list[Invoice]:
    """`count` card and send_invoice invoices over distinct customers, a few declining (for crash tests and bench)."""
    return [
        Invoice(
            f"cus_{n:04d}",
            date(2026, 9, 1),
            tuple(Line(1000 + 7 * n + k, description=f"metric {k}") for k in range(lines_per_invoice)),
            "send_invoice" if n % 3 == 0 else "charge_automatically",
        )
        for n in range(1, count + 1)
    ]


def _line_rows(invoice: Invoice) -> list[dict]:
    start = datetime.combine(invoice.billing_date, datetime.min.time())
    rows = []
    for number, line in enumerate(invoice.lines, 1):
        line_id = "il_" + hashlib.sha256(f"{invoice.invoice_id}|{number}".encode()).hexdigest()[:24]
        rows.append(
            {
                "line_id": line_id,
                "invoice_id": invoice.invoice_id,
                "customer_id": invoice.customer_id,
                "billing_date": invoice.billing_date,
                "line_number": number,
                "line_type": line.line_type,
                "subscription_id": "sub_1",
                "plan_id": "growth",
                "pricing_version": "2026-01",
                "metric": None if line.line_type != "usage" else "api_calls",
                "charge_model": "per_unit",
                "quantity": 1,
                "period_start": start - timedelta(days=31),
                "period_end": start,
                "amount": line.amount_minor,
                "amount_minor": line.amount_minor,
                "currency": invoice.currency,
                "minor_unit_digits": 0 if invoice.currency == "JPY" else 2,
                "description": line.description,
                "billing_at": start,
            }
        )
    return rows


def _invoice_row(invoice: Invoice) -> dict:
    start = datetime.combine(invoice.billing_date, datetime.min.time())
    send = invoice.collection_method == "send_invoice"
    return {
        "invoice_id": invoice.invoice_id,
        "customer_id": invoice.customer_id,
        "billing_date": invoice.billing_date,
        "billing_at": start,
        "currency": invoice.currency,
        "minor_unit_digits": 0 if invoice.currency == "JPY" else 2,
        "collection_method": invoice.collection_method,
        "days_until_due": 30 if send else None,
        "due_date": invoice.billing_date + timedelta(days=30 if send else 0),
        "period_start": start - timedelta(days=31),
        "period_end": start,
        "line_count": len(invoice.lines),
        "subtotal_minor": invoice.total_minor,
        "credit_minor": 0,
        "total_minor": invoice.total_minor,
        "credit_balance_minor": 0,
        "pricing_version": "2026-01",
        "stripe_customer_id": None,
        "as_of": start + timedelta(days=1),
        "issued_at": start + timedelta(days=1),
        "issue_run_id": "test",
        "content_hash": "",
    }


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if rows:
        columns = list(rows[0])
        con.executemany(
            f"insert or ignore into {table} ({', '.join(columns)}) values ({', '.join(['?'] * len(columns))})",
            [[row[column] for column in columns] for row in rows],
        )


def write_issued_invoices(path: Path, invoices: list[Invoice]) -> None:
    """Invoices as the ledger holds them once issued (what the Stripe step reads; appended, an invoice already
    issued is kept as it was), plus the name and email
    columns of dim_customers the Stripe step reads."""
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    ensure_ledger_tables(con)
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.dim_customers (customer_id varchar, name varchar, email varchar)"
    )
    issued = [i for i in invoices if i.scenario == "actual"]  # what-if scenarios are never issued
    _insert(con, "billing.issued_invoices", [_invoice_row(i) for i in issued])
    _insert(con, "billing.issued_invoice_lines", [r for i in issued for r in _line_rows(i)])
    customers = sorted({i.customer_id for i in invoices})
    con.executemany(
        "insert into marts.dim_customers values (?, ?, ?)",
        [(c, f"Customer {c}", f"{c}@example.com") for c in customers],
    )
    con.close()


def emulator_settings(api_base: str, **overrides) -> StripeSettings:
    options = {
        "api_key": EMULATOR_API_KEY,
        "api_base": api_base,
        "seed_test_cards": True,
        "max_network_retries": 5,
    }
    return StripeSettings(**{**options, **overrides})


def run_finalize(warehouse: Path, api_base: str, concurrency: int = 4, **hooks) -> FinalizeSummary:
    client = build_client(emulator_settings(api_base))
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("set TimeZone = 'UTC'")
        return finalize_due_invoices(
            con, client, concurrency=concurrency, on_customer_created=attach_test_card, **hooks
        )
    finally:
        con.close()


def stripe_invoices(client: stripe.StripeClient) -> list[stripe.Invoice]:
    return list(client.v1.invoices.list(params={"limit": 100}).auto_paging_iter())


@pytest.fixture(scope="session")
def local_stripe_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    emulator = start_local_stripe(tmp_path_factory.mktemp("localstripe"))
    yield emulator
    emulator.stop()


@pytest.fixture
def local_stripe(local_stripe_session: LocalStripe) -> LocalStripe:
    """The session's emulator, emptied (objects, idempotency keys, counters, faults) for each test."""
    local_stripe_session.reset()
    return local_stripe_session


@pytest.fixture
def stripe_client(local_stripe: LocalStripe) -> stripe.StripeClient:
    return build_client(emulator_settings(local_stripe.api_base))


@pytest.fixture
def invoice_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    write_issued_invoices(path, sample_invoices())
    return path


def _crash_hook(step: str, count: int):
    reached = 0
    lock = threading.Lock()

    def hook(invoice_id: str, done: str) -> None:
        nonlocal reached
        if done != step:
            return
        with lock:
            reached += 1
            if reached >= count:
                os.kill(os.getpid(), signal.SIGKILL)

    return hook


if __name__ == "__main__":
    warehouse_arg, api_base_arg, step_arg, count_arg = sys.argv[1:5]
    run_finalize(Path(warehouse_arg), api_base_arg, concurrency=2, hook=_crash_hook(step_arg, int(count_arg)))

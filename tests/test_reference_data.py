"""customers.csv and subscriptions.csv: every problem is named by file, row and field, and stops the load."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from landing_builders import connect

from dagster_billing.ingestion.reference_data import ReferenceDataError, load_customers, load_subscriptions
from dagster_billing.pricing import load_pricing_configs, write_pricing_tables
from dagster_billing.settings import REPO_ROOT

CUSTOMERS_HEADER = "customer_id,name,email,currency,billing_anchor,collection_method,days_until_due,timezone"
SUBSCRIPTIONS_HEADER = "subscription_id,customer_id,plan_id,started_at,ended_at,quantity"
GOOD_CUSTOMERS = [
    "cus_a,Acme,billing@acme.test,EUR,2025-01-15,charge_automatically,,Europe/Paris",
    "cus_b,Beta,ap@beta.test,usd,2025-02-01,send_invoice,30,",
]


@pytest.fixture
def landing(tmp_path):
    (tmp_path / "landing").mkdir()
    return tmp_path / "landing"


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


def write(landing, name: str, header: str, *rows: str) -> None:
    (landing / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def problems_of(load, con, landing) -> list[str]:
    with pytest.raises(ReferenceDataError) as caught:
        load(con, landing)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_valid_customers_load_with_defaults_and_source_rows(con, landing):
    write(landing, "customers.csv", CUSTOMERS_HEADER, *GOOD_CUSTOMERS)
    assert load_customers(con, landing) == 2
    assert con.execute(
        "select customer_id, currency, billing_anchor, collection_method, days_until_due, timezone, "
        "source_file, "
        "source_row from raw.customers order by 1"
    ).fetchall() == [
        ("cus_a", "EUR", date(2025, 1, 15), "charge_automatically", None, "Europe/Paris", "customers.csv", 1),
        ("cus_b", "USD", date(2025, 2, 1), "send_invoice", 30, "UTC", "customers.csv", 2),
    ]


BAD_CUSTOMER_ROWS = [
    (
        "bad currency",
        "cus_c,C,c@c.test,EURO,2025-01-01,charge_automatically,,",
        "customers.csv row 3: field 'currency': 'EURO' is not an ISO 4217 code",
    ),
    (
        "bad anchor",
        "cus_c,C,c@c.test,EUR,2025-02-30,charge_automatically,,",
        "customers.csv row 3: field 'billing_anchor': '2025-02-30' is not a date (YYYY-MM-DD)",
    ),
    (
        "unknown collection method",
        "cus_c,C,c@c.test,EUR,2025-01-01,cheque,,",
        "customers.csv row 3: field 'collection_method': 'cheque' is not one of "
        "charge_automatically, send_invoice",
    ),
    (
        "send_invoice without days",
        "cus_c,C,c@c.test,EUR,2025-01-01,send_invoice,,",
        "customers.csv row 3: field 'days_until_due': "
        "must be a whole number of days for send_invoice customers",
    ),
    (
        "bad timezone",
        "cus_c,C,c@c.test,EUR,2025-01-01,charge_automatically,,Mars/Olympus",
        "customers.csv row 3: field 'timezone': 'Mars/Olympus' is not an IANA time zone name",
    ),
    (
        "duplicate customer_id",
        "cus_a,Again,x@x.test,EUR,2025-01-01,charge_automatically,,",
        "customers.csv row 3: field 'customer_id': 'cus_a' appears more than once",
    ),
    (
        "empty customer_id",
        ",C,c@c.test,EUR,2025-01-01,charge_automatically,,",
        "customers.csv row 3: field 'customer_id': is empty",
    ),
]


@pytest.mark.parametrize(
    ("row", "problem"), [c[1:] for c in BAD_CUSTOMER_ROWS], ids=[c[0] for c in BAD_CUSTOMER_ROWS]
)
def test_customer_problem_names_file_row_and_field(con, landing, row, problem):
    write(landing, "customers.csv", CUSTOMERS_HEADER, *GOOD_CUSTOMERS, row)
    assert problems_of(load_customers, con, landing) == [problem]


def test_every_customer_problem_is_listed_and_the_previous_snapshot_stays(con, landing):
    write(landing, "customers.csv", CUSTOMERS_HEADER, *GOOD_CUSTOMERS)
    load_customers(con, landing)
    write(landing, "customers.csv", CUSTOMERS_HEADER, "cus_z,Z,z@z.test,EURO,someday,cheque,,Nowhere/City")
    problems = problems_of(load_customers, con, landing)
    assert [p.split(":")[1].strip() for p in problems] == [
        "field 'currency'",
        "field 'billing_anchor'",
        "field 'collection_method'",
        "field 'timezone'",
    ]
    assert all(p.startswith("customers.csv row 1: ") for p in problems)
    assert con.execute("select customer_id from raw.customers order by 1").fetchall() == [
        ("cus_a",),
        ("cus_b",),
    ]


PINNED_HEADER = f"{CUSTOMERS_HEADER},stripe_customer_id,pricing_version"


def test_pricing_version_pin_is_optional_and_loaded(con, landing):
    write(
        landing,
        "customers.csv",
        PINNED_HEADER,
        f"{GOOD_CUSTOMERS[0]},cus_stripe_a,2025-01",
        f"{GOOD_CUSTOMERS[1]},,",
    )
    assert load_customers(con, landing) == 2
    assert con.execute(
        "select customer_id, stripe_customer_id, pricing_version from raw.customers order by 1"
    ).fetchall() == [("cus_a", "cus_stripe_a", "2025-01"), ("cus_b", None, None)]


def test_pricing_version_pin_with_a_space_is_refused(con, landing):
    write(landing, "customers.csv", PINNED_HEADER, f"{GOOD_CUSTOMERS[0]},,2025 01")
    assert problems_of(load_customers, con, landing) == [
        "customers.csv row 1: field 'pricing_version': '2025 01' is not a pricing version name (e.g. 2025-01, "
        "no spaces); leave it empty to follow the versions' effective dates"
    ]


def test_pricing_version_pin_must_name_a_loaded_version(con, landing):
    write_pricing_tables(con, load_pricing_configs(REPO_ROOT / "pricing_configs"))
    write(
        landing,
        "customers.csv",
        PINNED_HEADER,
        f"{GOOD_CUSTOMERS[0]},,2025-01",
        f"{GOOD_CUSTOMERS[1]},,2024-07",
    )
    assert problems_of(load_customers, con, landing) == [
        "customers.csv row 2: field 'pricing_version': '2024-07' is not a loaded pricing version "
        "(known: 2025-01, 2026-01)"
    ]


def test_missing_file_and_missing_columns_are_reported(con, landing):
    assert problems_of(load_customers, con, landing)[0].startswith("customers.csv: file not found")
    write(landing, "customers.csv", "customer_id,name,email", "cus_a,A,a@a.test")
    assert problems_of(load_customers, con, landing) == [
        "customers.csv: required column(s) currency, billing_anchor, collection_method missing"
    ]


@pytest.fixture
def customers_loaded(con, landing):
    write(landing, "customers.csv", CUSTOMERS_HEADER, *GOOD_CUSTOMERS)
    load_customers(con, landing)


GOOD_SUBSCRIPTIONS = [
    "sub_1,cus_a,starter,2025-01-15T00:00:00Z,2025-03-15T00:00:00Z,",
    "sub_2,cus_a,pro,2025-03-15T00:00:00Z,,3",
    "sub_3,cus_b,starter,2025-02-01T01:00:00+01:00,,",
]


def test_valid_subscriptions_load_with_utc_times_and_default_quantity(con, landing, customers_loaded):
    write(landing, "subscriptions.csv", SUBSCRIPTIONS_HEADER, *GOOD_SUBSCRIPTIONS)
    assert load_subscriptions(con, landing) == 3
    assert con.execute(
        "select subscription_id, started_at, ended_at, quantity, source_row from raw.subscriptions order by 1"
    ).fetchall() == [
        ("sub_1", datetime(2025, 1, 15), datetime(2025, 3, 15), 1, 1),
        ("sub_2", datetime(2025, 3, 15), None, 3, 2),
        ("sub_3", datetime(2025, 2, 1), None, 1, 3),
    ]


BAD_SUBSCRIPTION_ROWS = [
    (
        "unknown customer",
        "sub_9,cus_zzz,starter,2025-01-01T00:00:00Z,,",
        "subscriptions.csv row 4: field 'customer_id': 'cus_zzz' is not in customers.csv",
    ),
    (
        "ended before started",
        "sub_9,cus_c,starter,2025-05-01T00:00:00Z,2025-04-01T00:00:00Z,",
        "subscriptions.csv row 4: field 'ended_at': is before started_at",
    ),
    (
        "bad quantity",
        "sub_9,cus_c,starter,2025-05-01T00:00:00Z,,0",
        "subscriptions.csv row 4: field 'quantity': '0' is not a whole number of seats >= 1",
    ),
    (
        "fractional quantity",
        "sub_9,cus_c,starter,2025-05-01T00:00:00Z,,1.5",
        "subscriptions.csv row 4: field 'quantity': '1.5' is not a whole number of seats >= 1",
    ),
    (
        "bad started_at",
        "sub_9,cus_c,starter,first of May,,",
        "subscriptions.csv row 4: field 'started_at': 'first of May' is not an RFC 3339 timestamp",
    ),
    ("empty started_at", "sub_9,cus_c,starter,,,", "subscriptions.csv row 4: field 'started_at': is empty"),
    (
        "overlapping",
        "sub_9,cus_a,pro,2025-02-01T00:00:00Z,2025-02-20T00:00:00Z,",
        "subscriptions.csv row 4: field 'started_at': subscription 'sub_9' of customer 'cus_a' starts before "
        "subscription 'sub_1' (row 1) ends",
    ),
    (
        "after an open-ended one",
        "sub_9,cus_b,pro,2025-06-01T00:00:00Z,,",
        "subscriptions.csv row 4: field 'started_at': subscription 'sub_9' of customer 'cus_b' starts before "
        "subscription 'sub_3' (row 3) ends",
    ),
]


@pytest.mark.parametrize(
    ("row", "problem"), [c[1:] for c in BAD_SUBSCRIPTION_ROWS], ids=[c[0] for c in BAD_SUBSCRIPTION_ROWS]
)
def test_subscription_problem_names_file_row_and_field(con, landing, customers_loaded, row, problem):
    con.execute(
        "insert into raw.customers (customer_id, currency, billing_anchor, collection_method, timezone) "
        "values ('cus_c', 'EUR', date '2025-01-01', 'charge_automatically', 'UTC')"
    )
    write(landing, "subscriptions.csv", SUBSCRIPTIONS_HEADER, *GOOD_SUBSCRIPTIONS, row)
    assert problems_of(load_subscriptions, con, landing) == [problem]


def test_every_subscription_overlapping_a_long_one_is_listed(con, landing, customers_loaded):
    write(
        landing,
        "subscriptions.csv",
        SUBSCRIPTIONS_HEADER,
        "sub_long,cus_a,pro,2025-01-01T00:00:00Z,2025-12-01T00:00:00Z,",
        "sub_feb,cus_a,pro,2025-02-01T00:00:00Z,2025-03-01T00:00:00Z,",
        "sub_apr,cus_a,pro,2025-04-01T00:00:00Z,2025-05-01T00:00:00Z,",
    )
    problems = problems_of(load_subscriptions, con, landing)
    assert [p.split(":")[0] for p in problems] == ["subscriptions.csv row 2", "subscriptions.csv row 3"]
    assert all("starts before subscription 'sub_long' (row 1) ends" in p for p in problems)


def test_a_plan_change_ending_where_the_next_starts_is_not_an_overlap(con, landing, customers_loaded):
    write(landing, "subscriptions.csv", SUBSCRIPTIONS_HEADER, *GOOD_SUBSCRIPTIONS[:2])
    assert load_subscriptions(con, landing) == 2


def test_proration_behavior_is_optional_and_checked(con, landing, customers_loaded):
    header = SUBSCRIPTIONS_HEADER + ",trial_ends_at,proration_behavior"
    rows = [row + ",," for row in GOOD_SUBSCRIPTIONS]
    rows[1] += "always_invoice"
    write(landing, "subscriptions.csv", header, *rows)
    assert load_subscriptions(con, landing) == 3
    assert con.execute(
        "select subscription_id, proration_behavior from raw.subscriptions order by 1"
    ).fetchall() == [
        ("sub_1", None),
        ("sub_2", "always_invoice"),
        ("sub_3", None),
    ]
    rows[2] += "prorate"
    write(landing, "subscriptions.csv", header, *rows)
    assert problems_of(load_subscriptions, con, landing) == [
        "subscriptions.csv row 3: field 'proration_behavior': 'prorate' is not one of create_prorations, none, "
        "always_invoice (empty: create_prorations)"
    ]


def test_customer_billing_options_are_optional_and_checked(con, landing):
    header = CUSTOMERS_HEADER + ",stripe_customer_id,pricing_version,before_anchor"
    rows = [GOOD_CUSTOMERS[0] + ",,,prorated_stub", GOOD_CUSTOMERS[1] + ",,,"]
    write(landing, "customers.csv", header, *rows)
    assert load_customers(con, landing) == 2
    assert con.execute("select customer_id, before_anchor from raw.customers order by 1").fetchall() == [
        ("cus_a", "prorated_stub"),
        ("cus_b", None),
    ]
    write(landing, "customers.csv", header, GOOD_CUSTOMERS[0] + ",,,stub")
    assert problems_of(load_customers, con, landing) == [
        "customers.csv row 1: field 'before_anchor': 'stub' is not one of unbilled, prorated_stub (empty: unbilled)"
    ]


def test_trial_period_is_optional_and_checked(con, landing):
    header = CUSTOMERS_HEADER + ",stripe_customer_id,pricing_version,before_anchor,trial_period"
    write(landing, "customers.csv", header, GOOD_CUSTOMERS[0] + ",,,,own_period", GOOD_CUSTOMERS[1] + ",,,,")
    assert load_customers(con, landing) == 2
    assert con.execute("select customer_id, trial_period from raw.customers order by 1").fetchall() == [
        ("cus_a", "own_period"),
        ("cus_b", None),
    ]
    write(landing, "customers.csv", header, GOOD_CUSTOMERS[0] + ",,,,separate")
    assert problems_of(load_customers, con, landing) == [
        "customers.csv row 1: field 'trial_period': 'separate' is not one of inside_window, own_period "
        "(empty: inside_window)"
    ]


def test_failed_subscription_load_keeps_the_previous_snapshot(con, landing, customers_loaded):
    write(landing, "subscriptions.csv", SUBSCRIPTIONS_HEADER, *GOOD_SUBSCRIPTIONS)
    load_subscriptions(con, landing)
    write(landing, "subscriptions.csv", SUBSCRIPTIONS_HEADER, "sub_1,cus_a,starter,not a date,,")
    problems_of(load_subscriptions, con, landing)
    assert con.execute("select count(*) from raw.subscriptions").fetchone() == (3,)


def test_subscriptions_before_customers_is_a_clear_error(tmp_path):
    import duckdb

    from dagster_billing.ingestion.reference_data import ReferenceDataError, load_subscriptions

    (tmp_path / "subscriptions.csv").write_text(
        "subscription_id,customer_id,plan_id,started_at\ns1,c1,starter,2025-01-01\n"
    )
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    with pytest.raises(ReferenceDataError, match="customers are not loaded yet"):
        load_subscriptions(con, tmp_path)


def test_a_landing_folder_named_like_sql_is_read_as_a_path_not_run(con, tmp_path):
    """A folder name is data: a quote in it must not end the path string and run what follows (issue 12)."""
    landing = tmp_path / "landing'); create table pwned as select 1; --"
    landing.mkdir()
    write(landing, "customers.csv", CUSTOMERS_HEADER, *GOOD_CUSTOMERS)
    write(landing, "subscriptions.csv", SUBSCRIPTIONS_HEADER, "sub_1,cus_a,growth,2025-01-15T00:00:00Z,,1")
    assert load_customers(con, landing) == 2
    assert load_subscriptions(con, landing) == 1
    tables = {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}
    assert "pwned" not in tables

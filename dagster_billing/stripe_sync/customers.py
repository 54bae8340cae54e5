"""Our customer -> Stripe customer: the id given in customers.csv, else found by our metadata, else created."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import stripe

if TYPE_CHECKING:
    from stripe import RequestOptions
    from stripe.params import CustomerCreateParams

from dagster_billing.stripe_sync.client import retry_rate_limited
from dagster_billing.stripe_sync.idempotency import customer_key
from dagster_billing.stripe_sync.search_query import metadata_clause

CUSTOMER_ID_KEY = "billing_customer_id"
INVOICE_ID_KEY = "billing_invoice_id"

# Called once for each Stripe customer this run created (the emulator's test-card seeding; never on real Stripe).
OnCustomerCreated = Callable[[stripe.StripeClient, str, str, str], None]


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    email: str | None = None


def contacts(con: duckdb.DuckDBPyConnection) -> dict[str, Contact]:
    """Name and email from `marts.dim_customers` when the warehouse has it (the invoice marts carry neither)."""
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'dim_customers'"
        ).fetchall()
    }
    if not {"customer_id", "name", "email"} <= columns:
        return {}
    rows = con.execute("select customer_id, name, email from marts.dim_customers").fetchall()
    return {customer_id: Contact(name, email) for customer_id, name, email in rows}


@dataclass(frozen=True)
class StripeCustomer:
    customer_id: str
    stripe_customer_id: str
    source: str  # given | mapped | found | created
    invoices: dict[str, stripe.Invoice]  # Stripe invoices carrying our invoice id, by our invoice id


def _carries(customer: stripe.Customer, customer_id: str) -> bool:
    metadata = customer.metadata
    return metadata is not None and CUSTOMER_ID_KEY in metadata and metadata[CUSTOMER_ID_KEY] == customer_id


class AmbiguousCustomer(stripe.StripeError):
    """Two Stripe customers carry the same billing_customer_id: which card to charge is for a person to decide."""


def find_by_metadata(client: stripe.StripeClient, customer_id: str) -> str | None:
    """The search fallback when no id is given or stored (a lost customer map, a crash before it was recorded).

    The id goes into the query only through `metadata_clause` (escaped), and a hit counts only when its metadata is
    exactly our id, so neither a crafted id nor a search quirk can map a customer to someone else's Stripe customer
    (and card). Search is eventually consistent (about a minute); a customer created less than that ago is covered
    by the create call's idempotency key, which Stripe keeps for 24 hours."""
    query = metadata_clause(CUSTOMER_ID_KEY, customer_id)
    found = retry_rate_limited(lambda: client.v1.customers.search(params={"query": query, "limit": 10}))
    exact = [c.id for c in found.data if _carries(c, customer_id)]
    if len(exact) > 1:
        raise AmbiguousCustomer(
            f"Stripe customers {', '.join(exact)} all carry {CUSTOMER_ID_KEY} {customer_id!r}; keep one (or put "
            "its id in customers.csv stripe_customer_id) before this customer can be billed"
        )
    return exact[0] if exact else None


def create_customer(client: stripe.StripeClient, customer_id: str, contact: Contact) -> str:
    params: CustomerCreateParams = {
        "name": contact.name or customer_id,
        "metadata": {CUSTOMER_ID_KEY: customer_id},
    }
    if contact.email:
        params["email"] = contact.email  # Stripe emails send_invoice invoices to it
    options: RequestOptions = {"idempotency_key": customer_key(customer_id, "create")}
    return retry_rate_limited(lambda: client.v1.customers.create(params=params, options=options)).id


def our_invoices(client: stripe.StripeClient, stripe_customer_id: str) -> dict[str, stripe.Invoice]:
    """Listing by customer is strongly consistent (search is not): a crash right after Stripe accepted an invoice
    still finds it here, so the re-run resumes that invoice instead of creating a second one."""
    page = retry_rate_limited(
        lambda: client.v1.invoices.list(params={"customer": stripe_customer_id, "limit": 100})
    )
    return {
        invoice.metadata[INVOICE_ID_KEY]: invoice
        for invoice in page.auto_paging_iter()
        if invoice.metadata and INVOICE_ID_KEY in invoice.metadata
    }


def resolve_customer(
    client: stripe.StripeClient,
    customer_id: str,
    collection_method: str,
    known_stripe_id: str | None,
    given_stripe_id: str | None,
    contact: Contact,
    on_created: OnCustomerCreated | None = None,
) -> StripeCustomer:
    if given_stripe_id:
        stripe_id, source = given_stripe_id, "given"
    elif known_stripe_id:
        stripe_id, source = known_stripe_id, "mapped"
    elif found := find_by_metadata(client, customer_id):
        stripe_id, source = found, "found"
    else:
        stripe_id, source = create_customer(client, customer_id, contact), "created"
        if on_created:
            on_created(client, stripe_id, customer_id, collection_method)
    return StripeCustomer(customer_id, stripe_id, source, our_invoices(client, stripe_id))

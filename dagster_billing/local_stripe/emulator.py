"""What stock localstripe 1.15.10 cannot do for our invoicing flow, added as Stripe documents it.

Stock localstripe creates invoices only from subscriptions (a one-off `POST /v1/invoices` answers 500 on
`collection_method`, `days_until_due`, `auto_advance`, `pending_invoice_items_behavior`), attaches items posted
with `invoice=` to nothing, has no finalize, send or mark-uncollectible routes and ignores `Idempotency-Key`.
This module adds, and nothing more:

- one-off invoices (`OneOffInvoice`): draft -> open (finalize: number, hosted URL, due date, customer credit
  balance applied) -> paid / uncollectible / void; a zero or negative total is paid at finalization and a negative
  total goes to the customer's credit balance (https://docs.stripe.com/invoicing/overview,
  https://docs.stripe.com/billing/customer/balance);
- invoice items posted with `invoice=` (and Stripe's `period[start]`/`period[end]`) become lines of that draft;
- `POST /v1/invoices/{id}/finalize | pay | send | mark_uncollectible | void` for one-off invoices; `pay` charges the
  customer's default payment method through the invoice's one PaymentIntent (a retry is a new Charge of it) and
  answers 402 `card_declined` for a declining test card;
- `GET /v1/invoice_payments?invoice=` (the invoice's PaymentIntent as an InvoicePayment), `GET /v1/charges`
  filtered by `customer` and `payment_intent`, and `payment_method_details` (type, card brand, last 4) on charges;
- `GET /v1/customers/search` with Stripe's query language for exact matches: `metadata['key']:'value'`,
  `email:"..."`, negation, backslash-escaped quotes, clauses joined by AND or by OR (`_Query`);
- idempotency (https://docs.stripe.com/api/idempotent_requests): a POST with a key seen before replays the saved
  status and body (`Idempotent-Replayed: true`); the same key with other parameters is a 400 `idempotency_error`;
  a key still executing is a 409. Only results of requests that executed (2xx, 402) are saved, as at Stripe.
  Keys are kept for the life of the process; `POST /_config/idempotency/expire` forgets them (Stripe: 24 hours).

The store is kept in memory: stock localstripe pickles it to /tmp/localstripe.pickle after every write, a file
shared by every emulator on the machine and rewritten whole on each request.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError
from localstripe.resources import (
    Charge,
    Customer,
    Invoice,
    InvoiceItem,
    InvoiceLineItem,
    List,
    PaymentIntent,
    PaymentMethod,
    StripeObject,
    store,
)

HOSTED_INVOICE_BASE = "https://localstripe.invalid/i/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def keep_store_in_memory() -> None:
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(400, message)


class OneOffInvoice(Invoice):
    """An invoice created without a subscription; its lines are the items posted with `invoice=<its id>`."""

    _numbers_issued: Counter[str] = Counter()

    def __init__(
        self,
        customer=None,
        collection_method="charge_automatically",
        days_until_due=None,
        auto_advance=None,
        pending_invoice_items_behavior="exclude",
        currency=None,
        description=None,
        metadata=None,
        automatic_tax=None,
        **unknown,
    ):
        _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
        days_until_due = resources.try_convert_to_int(days_until_due)
        _require(isinstance(customer, str) and customer.startswith("cus_"), "Invalid customer")
        _require(collection_method in ("charge_automatically", "send_invoice"), "Invalid collection_method")
        if collection_method == "send_invoice":
            _require(
                isinstance(days_until_due, int) and days_until_due >= 0,
                "Missing required param: days_until_due (collection_method=send_invoice)",
            )
        else:
            _require(
                days_until_due is None, "days_until_due can only be set when collection_method=send_invoice"
            )
        _require(
            pending_invoice_items_behavior in ("exclude", "include"), "Invalid pending_invoice_items_behavior"
        )
        _require(metadata is None or isinstance(metadata, dict), "Invalid metadata")
        _require(automatic_tax is None or isinstance(automatic_tax, dict), "Invalid automatic_tax")
        cus = Customer._api_retrieve(customer)
        StripeObject.__init__(
            self
        )  # registers `invoice:<id>` in the store; stock Invoice.__init__ needs a subscription

        self.customer = customer
        self.customer_email = cus.email
        self.collection_method = collection_method
        self.days_until_due = days_until_due
        self.due_date = None
        self.auto_advance = resources.try_convert_to_bool(auto_advance) is True
        self.currency = (currency or "usd").lower()
        self.description = description
        self.metadata = metadata or {}
        self.number = None
        self.hosted_invoice_url = None
        self.billing_reason = "manual"
        self.attempt_count = 0
        self.attempted = False
        self.date = int(time.time())
        self.period_start = self.period_end = self.date
        self.starting_balance = 0
        self.ending_balance = None
        self.payment_intent = None
        self.subscription = None
        self.tax_percent = None
        # Stripe Tax is not emulated: with automatic_tax enabled the invoice computes no tax (0) and says so
        enabled = resources.try_convert_to_bool((automatic_tax or {}).get("enabled")) is True
        self.automatic_tax = {
            "enabled": enabled,
            "liability": None,
            "status": "complete" if enabled else None,
        }
        self.default_tax_rates = None
        self.discount = None
        self.status_transitions = {
            "finalized_at": None,
            "paid_at": None,
            "voided_at": None,
            "marked_uncollectible_at": None,
        }
        self._line_items: list[InvoiceLineItem] = []
        self._amount_due: int | None = None
        self._draft, self._paid, self._voided, self._uncollectible = True, False, False, False
        if pending_invoice_items_behavior == "include":
            self._attach_pending_items()

    def _attach_pending_items(self) -> None:
        for item in InvoiceItem._api_list_all(None, customer=self.customer, limit=1000)._list:
            if item.currency == self.currency:
                item.invoice = self.id
                self._line_items.append(InvoiceLineItem(item))

    @property
    def lines(self) -> List:
        lines = List("/v1/invoices/" + self.id + "/lines")
        lines._list = self._line_items
        return lines

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self._line_items)

    @property
    def total(self) -> int:
        return self.subtotal  # no tax rates on one-off invoices here; may be negative, as at Stripe

    @property
    def total_excluding_tax(self) -> int:
        return self.subtotal

    @property
    def amount_due(self) -> int:
        return max(0, self.total) if self._amount_due is None else self._amount_due

    @property
    def amount_paid(self) -> int:
        return self.amount_due if self._paid else 0

    @property
    def amount_remaining(self) -> int:
        return self.amount_due - self.amount_paid

    @property
    def paid(self) -> bool:
        return self._paid

    @property
    def next_payment_attempt(self) -> None:
        return None  # auto_advance is off: Stripe attempts payment only when asked

    @property
    def status(self) -> str:
        if self._draft:
            return "draft"
        if self._voided:
            return "void"
        if self._paid:
            return "paid"
        return "uncollectible" if self._uncollectible else "open"

    def _finalize_one_off(self) -> None:
        """Number and hosted URL are assigned, the customer's balance is applied (negative = credit)."""
        now = int(time.time())
        self._draft = False
        self.status_transitions["finalized_at"] = now
        OneOffInvoice._numbers_issued[self.customer] += 1
        prefix = hashlib.sha1(self.customer.encode()).hexdigest()[:8].upper()
        self.number = f"{prefix}-{OneOffInvoice._numbers_issued[self.customer]:04d}"
        self.hosted_invoice_url = HOSTED_INVOICE_BASE + self.id
        if self.collection_method == "send_invoice":
            self.due_date = now + 86400 * self.days_until_due
        cus = Customer._api_retrieve(self.customer)
        self.starting_balance = (
            -cus.account_balance
        )  # stock localstripe keeps the balance with the opposite sign
        after = self.total + self.starting_balance
        self._amount_due = max(0, after)
        self.ending_balance = min(0, after)
        cus.account_balance = -self.ending_balance
        if self._amount_due == 0:
            self._mark_paid(now)

    def _mark_paid(self, now: int) -> None:
        self._paid = True
        self._uncollectible = False
        self.status_transitions["paid_at"] = now


def _one_off_invoice(id: str) -> OneOffInvoice:
    invoice = Invoice._api_retrieve(id)
    _require(isinstance(invoice, OneOffInvoice), "This emulator route handles one-off invoices only")
    return invoice


def create_invoice(**data: Any) -> Invoice:
    if data.get("subscription"):
        return Invoice._api_create(**data)
    return OneOffInvoice(**data)


def finalize_invoice(id: str, auto_advance=None, **unknown: Any) -> OneOffInvoice:
    _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
    invoice = _one_off_invoice(id)
    _require(
        invoice.status == "draft",
        "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
    )
    if auto_advance is not None:
        invoice.auto_advance = resources.try_convert_to_bool(auto_advance) is True
    invoice._finalize_one_off()
    return invoice


def _card_declined(invoice: OneOffInvoice, intent: PaymentIntent) -> UserError:
    error = intent.last_payment_error or {"code": "card_declined", "message": "Your card was declined."}
    charge = intent.latest_charge.id if intent.latest_charge else None
    body = {
        "code": error["code"],
        "decline_code": "generic_decline",
        "charge": charge,
        "payment_intent": {"id": intent.id, "status": intent.status},
    }
    failure = UserError(402, error["message"], body)
    failure.body["error"]["type"] = "card_error"
    return failure


def pay_invoice(id: str, paid_out_of_band=None, off_session=None, **unknown: Any) -> Invoice:
    """Stripe: a draft is finalized first; a paid or void invoice cannot be paid; the default method is charged."""
    _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
    if not isinstance(Invoice._api_retrieve(id), OneOffInvoice):
        return Invoice._api_pay_invoice(id)
    invoice = _one_off_invoice(id)
    if invoice.status == "draft":
        invoice._finalize_one_off()
    _require(invoice.status != "paid", "Invoice is already paid")
    _require(invoice.status != "void", "You cannot pay a void invoice.")
    if resources.try_convert_to_bool(paid_out_of_band) is True:
        invoice._mark_paid(int(time.time()))
        return invoice
    method = Customer._api_retrieve(invoice.customer)._get_default_payment_method_or_source()
    _require(method is not None, "This customer has no attached payment source or default payment method.")
    invoice.attempt_count += 1
    invoice.attempted = True
    intent = _invoice_payment_intent(invoice, method.id)
    intent._confirm(on_failure_now=lambda: None)
    _describe_payment_method(intent.latest_charge)
    if intent.status != "succeeded":
        raise _card_declined(invoice, intent)
    invoice._mark_paid(int(time.time()))
    return invoice


def _invoice_payment_intent(invoice: OneOffInvoice, method_id: str) -> PaymentIntent:
    """One PaymentIntent per invoice, as at Stripe: a retry after a decline confirms it again, and each attempt is
    a new Charge of that intent (https://docs.stripe.com/invoicing/payment-intents)."""
    if invoice.payment_intent is None:
        intent = PaymentIntent(
            amount=invoice.amount_remaining,
            currency=invoice.currency,
            customer=invoice.customer,
            payment_method=method_id,
        )
        invoice.payment_intent = intent.id
        return intent
    intent = PaymentIntent._api_retrieve(invoice.payment_intent)
    intent.payment_method = method_id
    intent.latest_charge = None  # the failed charge stays in the store; the next confirm creates a new one
    return intent


def _describe_payment_method(charge: Charge | None) -> None:
    """Stripe's `payment_method_details` (type, and for a card its brand and last 4), which localstripe omits."""
    if charge is None:
        return
    method = PaymentMethod._api_retrieve(charge.payment_method)
    details: dict[str, Any] = {"type": method.type}
    if method.type == "card":
        details["card"] = {key: method.card[key] for key in ("brand", "last4", "exp_month", "exp_year")}
    charge.payment_method_details = details


def list_invoice_payments(invoice=None, limit=None, starting_after=None, **unknown: Any) -> List:
    """`GET /v1/invoice_payments?invoice=`: the invoice's payment attempts as InvoicePayment objects
    (https://docs.stripe.com/api/invoice-payment/list): here its one PaymentIntent, `paid` once it succeeded."""
    _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
    _require(isinstance(invoice, str) and invoice.startswith("in_"), "Missing required param: invoice")
    found = _one_off_invoice(invoice)
    payments = List("/v1/invoice_payments", limit=limit, starting_after=starting_after)
    if found.payment_intent is not None:
        payments._list = [_InvoicePayment(found, PaymentIntent._api_retrieve(found.payment_intent))]
    return payments


class _InvoicePayment:
    """A read-only view (not stored): Stripe's InvoicePayment for an invoice's PaymentIntent."""

    def __init__(self, invoice: OneOffInvoice, intent: PaymentIntent) -> None:
        self.id = "inpay_" + intent.id.removeprefix("pi_")
        self.invoice, self.intent = invoice, intent

    def _export(self, expand: Any = None) -> dict[str, Any]:
        paid = self.intent.status == "succeeded"
        return {
            "id": self.id,
            "object": "invoice_payment",
            "amount_paid": self.intent.amount if paid else None,
            "amount_requested": self.intent.amount,
            "created": self.intent.created,
            "currency": self.intent.currency,
            "invoice": self.invoice.id,
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": self.intent.id},
            "status": "paid" if paid else ("canceled" if self.intent.status == "canceled" else "open"),
            "status_transitions": {
                "canceled_at": None,
                "paid_at": self.invoice.status_transitions["paid_at"],
            },
        }


def list_charges(customer=None, payment_intent=None, limit=None, starting_after=None, **unknown: Any) -> List:
    """`GET /v1/charges` filtered by `customer` and `payment_intent`, newest first (stock localstripe filters
    on nothing)."""
    _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
    charges = List("/v1/charges", limit=limit, starting_after=starting_after)
    charges._list = sorted(
        (
            charge
            for key, charge in store.items()
            if key.startswith("charge:")
            and (customer is None or charge.customer == customer)
            and (payment_intent is None or charge.payment_intent == payment_intent)
        ),
        key=lambda charge: charge.created,
        reverse=True,
    )
    return charges


def send_invoice(id: str, **unknown: Any) -> OneOffInvoice:
    _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
    invoice = _one_off_invoice(id)
    _require(
        invoice.collection_method == "send_invoice",
        "You can only manually send an invoice if its collection method is 'send_invoice'.",
    )
    _require(
        invoice.status in ("open", "uncollectible"),
        "You can only send an invoice that is finalized and unpaid.",
    )
    return invoice


def mark_uncollectible(id: str, **unknown: Any) -> OneOffInvoice:
    _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
    invoice = _one_off_invoice(id)
    _require(invoice.status == "open", "You can only mark an open invoice uncollectible.")
    invoice._uncollectible = True
    invoice.status_transitions["marked_uncollectible_at"] = int(time.time())
    return invoice


def void_invoice(id: str, **unknown: Any) -> Invoice:
    _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
    if not isinstance(Invoice._api_retrieve(id), OneOffInvoice):
        return Invoice._api_void_invoice(id)
    invoice = _one_off_invoice(id)
    _require(
        invoice.status in ("open", "uncollectible"), "You can only void an open or uncollectible invoice."
    )
    invoice._voided = True
    invoice.status_transitions["voided_at"] = int(time.time())
    return invoice


def create_invoice_item(period=None, **data: Any) -> InvoiceItem:
    """Stripe's `period[start]`/`period[end]`; currency and customer default to the draft's; the item becomes a line."""
    if isinstance(period, dict):
        data["period_start"], data["period_end"] = period.get("start"), period.get("end")
    invoice = Invoice._api_retrieve(data["invoice"]) if data.get("invoice") else None
    if isinstance(invoice, OneOffInvoice):
        _require(invoice.status == "draft", "You can only add invoice items to draft invoices.")
        data.setdefault("customer", invoice.customer)
        data.setdefault("currency", invoice.currency)
        _require(
            data["customer"] == invoice.customer, "The invoice item's customer is not the invoice's customer."
        )
        _require(
            str(data["currency"]).lower() == invoice.currency, "The item's currency must match the invoice's."
        )
    item = InvoiceItem._api_create(**data)
    if isinstance(invoice, OneOffInvoice):
        invoice._line_items.append(InvoiceLineItem(item))
    return item


_WORD = re.compile(r"[A-Za-z0-9_.@+-]+")  # a field name, or an unquoted value (numbers)
_JOIN = re.compile(r"(AND|OR)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class _Clause:
    negated: bool
    metadata_key: str | None  # metadata['key'] / metadata["key"]
    field: str | None  # a plain field such as email or name
    value: str


class _Query:
    """Stripe's search query language as documented (https://docs.stripe.com/search#search-query-language), the
    part our flow can send: clauses `field:value` or `metadata['key']:value`, a leading `-` negates, values in
    single or double quotes with quotes escaped by a backslash (`\\x` stands for `x`, so `\\\\` is one backslash),
    clauses joined by spaces or AND, or by OR (case-insensitive; AND and OR cannot be mixed). Anything else is the
    400 Stripe answers for a query it cannot parse, never a guess."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, what: str) -> UserError:
        return UserError(400, f"Invalid search query: {what} at position {self.pos} of {self.text!r}")

    def skip_spaces(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.pos > start

    def quoted(self) -> str:
        quote = self.text[self.pos] if self.pos < len(self.text) else ""
        if quote not in ("'", '"'):
            raise self.fail("expected a quoted string")
        self.pos += 1
        chars = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                if self.pos + 1 == len(self.text):
                    break
                chars.append(self.text[self.pos + 1])
                self.pos += 2
            elif char == quote:
                self.pos += 1
                return "".join(chars)
            else:
                chars.append(char)
                self.pos += 1
        raise self.fail("unterminated string")

    def word(self) -> str:
        match = _WORD.match(self.text, self.pos)
        if not match:
            raise self.fail("expected a field or a value")
        self.pos = match.end()
        return match.group()

    def clause(self) -> _Clause:
        negated = self.text.startswith("-", self.pos)
        self.pos += negated
        metadata_key = field = None
        if self.text.startswith("metadata[", self.pos):
            self.pos += len("metadata[")
            metadata_key = self.quoted()
            if not self.text.startswith("]", self.pos):
                raise self.fail("expected ]")
            self.pos += 1
        else:
            field = self.word()
        if not self.text.startswith(":", self.pos):
            raise self.fail("expected : (only exact-match clauses are emulated)")
        self.pos += 1
        value = self.quoted() if self.text[self.pos : self.pos + 1] in ("'", '"') else self.word()
        return _Clause(negated, metadata_key, field, value)

    def parse(self) -> tuple[str, list[_Clause]]:
        clauses, joins = [], set()
        self.skip_spaces()
        while True:
            clauses.append(self.clause())
            spaced = self.skip_spaces()
            if self.pos == len(self.text):
                break
            keyword = _JOIN.match(self.text, self.pos)
            if keyword:
                joins.add(keyword.group(1).upper())
                self.pos = keyword.end()
            elif spaced:
                joins.add("AND")
            else:
                raise self.fail("expected a space, AND or OR between clauses")
        if len(joins) > 1:
            raise self.fail("AND and OR cannot be combined in one query")
        return (joins.pop() if joins else "AND"), clauses


def _search_filter(query: str) -> Callable[[Any], bool]:
    join, clauses = _Query(query or "").parse()

    def holds(obj: Any, clause: _Clause) -> bool:
        if clause.metadata_key is not None:
            actual = (obj.metadata or {}).get(clause.metadata_key)
        else:
            actual = getattr(obj, clause.field or "", None)
        return (actual is not None and str(actual) == clause.value) != clause.negated

    def matches(obj: Any) -> bool:
        results = (holds(obj, clause) for clause in clauses)
        return any(results) if join == "OR" else all(results)

    return matches


def search_customers(query=None, limit=None, page=None, **unknown: Any) -> dict:
    _require(not unknown, "Received unknown parameter: " + ", ".join(sorted(unknown)))
    matches = _search_filter(query)
    found = [c for key, c in store.items() if key.startswith("customer:") and matches(c)]
    size = int(limit or 10)
    return {
        "object": "search_result",
        "url": "/v1/customers/search",
        "data": [c._export() for c in found[:size]],
        "has_more": len(found) > size,
        "next_page": None,
        "total_count": len(found),
    }


def _json_route(func: Callable[..., Any]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        data = dict(await server.get_post_data(request) or {}) if request.method == "POST" else {}
        data.update(server.unflatten_data(request.query) or {})
        data.update(request.match_info)
        expand = data.pop("expand", None)
        result = func(**data)
        return server.json_response(result if isinstance(result, dict) else result._export(expand=expand))

    return handle


ROUTES: list[tuple[str, str, Callable[..., Any]]] = [
    ("GET", "/v1/customers/search", search_customers),
    ("POST", "/v1/invoices", create_invoice),
    ("POST", "/v1/invoiceitems", create_invoice_item),
    ("POST", "/v1/invoices/{id}/finalize", finalize_invoice),
    ("POST", "/v1/invoices/{id}/pay", pay_invoice),
    ("POST", "/v1/invoices/{id}/send", send_invoice),
    ("POST", "/v1/invoices/{id}/mark_uncollectible", mark_uncollectible),
    ("POST", "/v1/invoices/{id}/void", void_invoice),
    ("GET", "/v1/invoice_payments", list_invoice_payments),
    ("GET", "/v1/charges", list_charges),
]


def add_routes(app: web.Application) -> None:
    """Ours first: aiohttp takes the first match, so `/v1/customers/search` is not read as a customer id."""
    for method, path, func in ROUTES:
        app.router.add_route(method, path, _json_route(func))
    for route in server.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if route.method != "HEAD" and path and (route.method, path) not in {(m, p) for m, p, _ in ROUTES}:
            app.router.add_route(route.method, path, route.handler)


class IdempotencyKeys:
    """Saved results by (API key, Idempotency-Key), with the request's fingerprint to catch reuse."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], tuple[str, int, bytes] | None] = {}  # None: still executing
        self.replayed = 0

    def forget_all(self) -> None:
        self.saved.clear()

    @staticmethod
    async def fingerprint(request: web.Request) -> str:
        form = await request.post()
        pairs = sorted([*request.query.items(), *((k, str(v)) for k, v in form.items())])
        return f"{request.method} {request.path} {pairs}"

    def middleware(self) -> Any:
        @web.middleware
        async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
            key = request.headers.get("Idempotency-Key")
            if request.method != "POST" or not key or not request.path.startswith("/v1/"):
                return await handler(request)
            scope = (hashlib.sha256(request.headers.get("Authorization", "").encode()).hexdigest(), key)
            fingerprint = await self.fingerprint(request)
            if scope in self.saved:
                return self._replay(key, fingerprint, self.saved[scope])
            self.saved[scope] = None
            try:
                response = await handler(request)
            except BaseException:
                del self.saved[scope]
                raise
            if isinstance(response, web.Response) and (
                200 <= response.status < 300 or response.status == 402
            ):
                self.saved[scope] = (fingerprint, response.status, response.body)  # type: ignore[assignment]
            else:
                del self.saved[scope]
            return response

        return idempotency

    def _replay(self, key: str, fingerprint: str, saved: tuple[str, int, bytes] | None) -> web.Response:
        if saved is None:
            return _error(
                409,
                "idempotency_error",
                f"There is currently another in-progress request using this Idempotency-Key '{key}'.",
                code="idempotency_key_in_use",
            )
        if saved[0] != fingerprint:
            return _error(
                400,
                "idempotency_error",
                f"Keys for idempotent requests can only be used with the same parameters they were first used with. "
                f"Try using a key other than '{key}' if you meant to execute a different request.",
            )
        self.replayed += 1
        return web.Response(
            status=saved[1],
            body=saved[2],
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )


def _error(status: int, type_: str, message: str, code: str | None = None) -> web.Response:
    error = {"type": type_, "message": message, **({"code": code} if code else {})}
    return server.json_response({"error": error}, status=status)

"""`PricingConfigError` and the translation of pydantic errors into sentences a finance analyst can act on.

Every problem reads `<file>: <plan 'id' (CUR) | metric 'code'>[: charge 'metric'][: tier n]: field '<name>':
<what is wrong>`, so one message lists every mistake in every file with enough context to fix it without
reading Python.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from dagster_billing.pricing.config_charges import CHARGE_CLASSES, AmountTier, ChargeBase, RateTier
from dagster_billing.pricing.config_models import BaseFee, Metric, Plan, PricingConfig


class PricingConfigError(ValueError):
    """All problems found in the pricing configs; raised once, before anything is written."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the pricing configs, nothing was loaded:"
        super().__init__("\n".join([header, *(f"- {problem}" for problem in self.problems)]))


def describe_validation_error(source_file: str, data: dict, error: ValidationError) -> list[str]:
    return [_describe(source_file, data, details) for details in error.errors()]


def _describe(source_file: str, data: dict, details: ErrorDetails) -> str:
    """Walk the error's location through plans, charges and tiers, naming each entry as a person would."""
    loc, model, node = list(details["loc"]), PricingConfig, data
    where = [source_file]
    while len(loc) >= 2 and loc[0] in _LIST_FIELDS and isinstance(loc[1], int):
        field, index = str(loc[0]), loc[1]
        entry = _item(node, field, index)
        label, model = _LIST_FIELDS[field](entry, index, node)
        where.append(label)
        loc, node = loc[2:], entry
        if field == "charges" and loc and isinstance(node, dict) and loc[0] == node.get("model"):
            loc = loc[1:]  # pydantic adds the discriminator's value; the charge label already says which
        if not loc and details["type"] not in _UNION_TAG_ERRORS:
            return ": ".join([*where, "must be a set of fields (key: value)"])
    if details["type"] in _UNION_TAG_ERRORS:
        loc = ["model"]
    if len(loc) >= 2 and loc[0] in _NESTED_MODELS:
        model = _NESTED_MODELS[str(loc[0])]
        loc = [f"{loc[0]}.{loc[1]}", *loc[2:]]
    if loc:
        where.append(f"field '{loc[0]}'")
    return ": ".join([*where, _what_is_wrong(details, model)])


def _item(node: object, field: str, index: int) -> object:
    entries = node.get(field) if isinstance(node, dict) else None
    return entries[index] if isinstance(entries, list) and index < len(entries) else None


def _text(entry: object, key: str) -> str | None:
    value = entry.get(key) if isinstance(entry, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def plan_label(plan_id: str | None, currency: str | None, index: int = 0) -> str:
    """`plan 'growth' (USD)`: a plan is one id in one currency."""
    name = f"plan '{plan_id}'" if plan_id else f"plan #{index + 1}"
    return f"{name} ({currency.upper()})" if currency else name


def _plan(entry: object, index: int, parent: object) -> tuple[str, type[BaseModel]]:
    return plan_label(_text(entry, "id"), _text(entry, "currency"), index), Plan


def _metric(entry: object, index: int, parent: object) -> tuple[str, type[BaseModel]]:
    code = _text(entry, "code")
    return (f"metric '{code}'" if code else f"metric #{index + 1}"), Metric


def _charge(entry: object, index: int, parent: object) -> tuple[str, type[BaseModel]]:
    metric = _text(entry, "metric")
    model = CHARGE_CLASSES.get(_text(entry, "model") or "", ChargeBase)
    return (f"charge '{metric}'" if metric else f"charge #{index + 1}"), model


def _tier(entry: object, index: int, parent: object) -> tuple[str, type[BaseModel]]:
    is_percentage = isinstance(parent, dict) and parent.get("model") == "graduated_percentage"
    return f"tier {index + 1}", (RateTier if is_percentage else AmountTier)


_LIST_FIELDS = {"plans": _plan, "metrics": _metric, "charges": _charge, "tiers": _tier}
_NESTED_MODELS: dict[str, type[BaseModel]] = {"base_fee": BaseFee}
_UNION_TAG_ERRORS = ("union_tag_invalid", "union_tag_not_found")


def _what_is_wrong(details: ErrorDetails, model: type[BaseModel]) -> str:
    kind, value, ctx = details["type"], show(details.get("input")), details.get("ctx", {})
    if kind == "missing":
        return "is required but missing"
    if kind == "union_tag_invalid":
        return f"{show(ctx['tag'])} is not a charge model; use one of {', '.join(CHARGE_CLASSES)}"
    if kind == "union_tag_not_found":
        return f"is required but missing; use one of {', '.join(CHARGE_CLASSES)}"
    if kind == "extra_forbidden":
        return f"is not a known field (check the spelling); allowed fields: {', '.join(model.model_fields)}"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", ctx["expected"])
        return f"{value} is not one of {', '.join(allowed)}"
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "greater_than_equal":
        return f"{value} must be a whole number of at least {ctx['ge']}"
    if kind.startswith("int_"):
        return f"{value} must be a whole number"
    if kind.startswith("date_"):
        return f"{value} is not a valid date (write it as YYYY-MM-DD)"
    if kind == "string_type":
        return f"{value} must be text (put it in quotes)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"{value} must not contain spaces"
    if kind == "list_type":
        return "must be a list (one '- ' line per entry)"
    if kind == "too_short":
        return "must list at least one entry"
    if kind in ("model_type", "dict_type"):
        return "must be a set of fields (key: value)"
    return details["msg"]


def show(value: object) -> str:
    """A config value as it would be written in the YAML file."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)

"""`PricingConfigError` and the translation of pydantic errors into sentences a finance analyst can act on.

Every problem reads `<file>: <plan 'id' | metric 'code'>: field '<name>': <what is wrong>`, so one message
lists every mistake in every file with enough context to fix it without reading Python.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from dagster_billing.pricing.config_models import Metric, Plan, PricingConfig


class PricingConfigError(ValueError):
    """All problems found in the pricing configs; raised once, before anything is written."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the pricing configs, nothing was loaded:"
        super().__init__("\n".join([header, *(f"- {problem}" for problem in self.problems)]))


# Entries of the list fields: what to call one in a message, the field that names it, and its model.
_ENTRIES: dict[str, tuple[str, str, type[BaseModel]]] = {
    "plans": ("plan", "id", Plan),
    "metrics": ("metric", "code", Metric),
}


def describe_validation_error(source_file: str, data: dict, error: ValidationError) -> list[str]:
    return [_describe(source_file, data, details) for details in error.errors()]


def _describe(source_file: str, data: dict, details: ErrorDetails) -> str:
    loc = details["loc"]
    model: type[BaseModel] = PricingConfig
    where = [source_file]
    if len(loc) >= 2 and loc[0] in _ENTRIES and isinstance(loc[1], int):
        label, id_field, model = _ENTRIES[str(loc[0])]
        where.append(_entry_name(label, id_field, data[loc[0]][loc[1]], loc[1]))
        loc = loc[2:]
        if not loc:
            return ": ".join([*where, f"must be a set of fields like {{{id_field}: ..., name: ...}}"])
    if loc:
        where.append(f"field '{loc[0]}'")
    return ": ".join([*where, _what_is_wrong(details, model)])


def _entry_name(label: str, id_field: str, entry: object, index: int) -> str:
    name = entry.get(id_field) if isinstance(entry, dict) else None
    if isinstance(name, str) and name.strip():
        return f"{label} '{name.strip()}'"
    return f"{label} #{index + 1}"


def _what_is_wrong(details: ErrorDetails, model: type[BaseModel]) -> str:
    kind, value, ctx = details["type"], show(details.get("input")), details.get("ctx", {})
    if kind == "missing":
        return "is required but missing"
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

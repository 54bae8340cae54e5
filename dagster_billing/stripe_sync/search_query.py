"""Values in a Stripe search query, quoted so that no data can change the query.

Stripe's search query language (https://docs.stripe.com/search#search-query-language) takes string values in
single or double quotes and escapes a quote inside them with a backslash. A value is put in single quotes with
every backslash and single quote escaped (the backslash first, so an escape in the data cannot unescape our closing
quote). Nothing else in a quoted value is special, so `OR`, `:` or `metadata[...]` in data stay text. Every value
this package puts into a search query goes through `search_string`; `metadata_clause` builds the one clause shape
we send.
"""

from __future__ import annotations


def search_string(value: str) -> str:
    """`o'brien` -> `'o\\'brien'`; `a\\b` -> `'a\\\\b'`."""
    if not isinstance(value, str):
        raise TypeError(f"a Stripe search value must be text, got {type(value).__name__}")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def metadata_clause(key: str, value: str) -> str:
    """`metadata['key']:'value'`, with the key quoted the same way (keys are ours, but the rule costs nothing)."""
    return f"metadata[{search_string(key)}]:{search_string(value)}"

"""Writing a value into SQL text as a literal, for the few places a prepared parameter cannot go.

Prefer parameters (`con.execute("... read_csv($1)", [path])`). Some statements take no parameters (DuckDB's
`COPY ... TO`, `ATTACH`, `CREATE VIEW` bodies), and there a value must be written into the text. Both helpers
follow the ANSI/DuckDB rules: a string literal is single-quoted with each quote doubled, an identifier is
double-quoted with each double quote doubled; a backslash is an ordinary character in both (DuckDB only treats
it as an escape in `E'...'` strings, which these are not). A NUL character is refused: DuckDB strings cannot hold
one, and a path or name containing one is a mistake, never data to bill.
"""

from __future__ import annotations

from pathlib import PurePath


def _checked_text(value: str | PurePath, what: str) -> str:
    if not isinstance(value, (str, PurePath)):
        raise TypeError(f"{what} must be a str or a path, not {type(value).__name__}")
    text = str(value)
    if "\x00" in text:
        raise ValueError(f"{what} {text!r} contains a NUL character, which SQL text cannot hold")
    return text


def sql_string_literal(value: str | PurePath) -> str:
    """`value` as a single-quoted SQL string literal: `/tmp/it's` -> `'/tmp/it''s'`."""
    return "'" + _checked_text(value, "SQL string").replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """`name` as a double-quoted SQL identifier (schema, table, column); each double quote is doubled."""
    text = _checked_text(name, "SQL identifier")
    if not text:
        raise ValueError("an SQL identifier cannot be empty")
    return '"' + text.replace('"', '""') + '"'

"""The SQL literal helpers: whatever the text, DuckDB reads back exactly that text and runs nothing else."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_billing.sql_literals import sql_identifier, sql_string_literal

AWKWARD_TEXTS = [
    "plain",
    "",
    "it's",
    "''",
    "'; drop table y; --",
    "/tmp/x'); drop table y; --/",
    "back\\slash\\'",
    "line\nbreak\r\nand\ttab",
    "unicode: café, 東京, emoji 🧾",
    '"double" quotes',
    "$1 ? %s {x}",
]


@pytest.fixture()
def con():
    connection = duckdb.connect()
    connection.execute("create table y as select 1 as x")
    yield connection
    connection.close()


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_string_literal_reads_back_as_the_same_text(con, text):
    (value,) = con.execute(f"select {sql_string_literal(text)}").fetchone()
    assert value == text
    assert con.execute("select count(*) from y").fetchone() == (1,)


def test_string_literal_of_a_path():
    path = Path("/tmp/x'); drop table y; --/landing")
    assert sql_string_literal(path) == "'/tmp/x''); drop table y; --/landing'"


def test_string_literal_doubles_quotes_and_keeps_backslashes():
    assert sql_string_literal("a'b\\c") == "'a''b\\c'"


@pytest.mark.parametrize("helper", [sql_string_literal, sql_identifier])
def test_nul_is_refused(helper):
    with pytest.raises(ValueError, match="NUL"):
        helper("a\x00b")


@pytest.mark.parametrize("helper", [sql_string_literal, sql_identifier])
def test_non_text_is_refused(helper):
    with pytest.raises(TypeError):
        helper(42)


@pytest.mark.parametrize("name", [t for t in AWKWARD_TEXTS if t])
def test_identifier_names_exactly_that_column(con, name):
    con.execute(f"create table t ({sql_identifier(name)} integer)")
    assert [row[0] for row in con.execute("describe t").fetchall()] == [name]
    assert con.execute(f"select {sql_identifier(name)} from t").fetchall() == []
    assert con.execute("select count(*) from y").fetchone() == (1,)


def test_empty_identifier_is_refused():
    with pytest.raises(ValueError, match="empty"):
        sql_identifier("")

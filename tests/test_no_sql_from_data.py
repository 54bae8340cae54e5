"""No SQL text is built from data (issue 12).

Every f-string, `%`, `.format` or `+` whose text looks like SQL (or that goes straight into an `execute`-like
call) is checked, in every .py file under dagster_billing/, bench/ and scripts/. Each value spliced into it must be
one of:

- a literal, or a number (`len(...)`, `int(...)`);
- a call to the shared helpers `sql_string_literal` / `sql_identifier` (dagster_billing/sql_literals.py);
- a call to a project function named `*_sql`, or a parameter named `*_sql`: SQL text, checked here where it is
  built (a function's own body, a caller's f-string);
- a name whose every assignment in its function (or module, for a module constant) is itself one of these, a
  lookup in such a name (`_SELECTS[file_format]`), a loop variable over such a value, or a composition of these
  (nested f-strings, `", ".join(...)`, `a if c else b`);
- an expression on the allowlist below: SQL fragments and identifiers produced by the project's own code, each
  with the reason it is not data.

Anything else (a function parameter, an attribute of a record, a value read from a file) fails with the file, the
line and the expression: pass it as a prepared parameter (`?` / `$1`) or through `sql_string_literal`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from dagster_billing.settings import REPO_ROOT

SCANNED_FOLDERS = ("dagster_billing", "bench", "scripts")
SQL_HELPERS = {"sql_string_literal", "sql_identifier"}
NUMBER_CALLS = {"len", "int"}
EXECUTE_LIKE = {"execute", "executemany", "sql", "query", "from_query", "execute_sql"}
SQL_TEXT = re.compile(
    r"^\s*(select|with\s+\w+\s+as|insert|update|delete|create|drop|alter|copy|attach|describe|pragma|"
    r"where|from|join|values|order\s+by|group\s+by)\b"
    r"|\bselect\b[\s\S]*\bfrom\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+(\.\w+)?\s+set\b"
    r"|\bcreate\s+(or\s+replace\s+)?(temp\s+|temporary\s+)?(table|view|schema)\b|\bdrop\s+(table|view|schema)\b"
    r"|\bread_(csv|csv_auto|parquet|json|json_auto|ndjson|text)\s*\(",
    re.IGNORECASE,
)

# SQL fragments built from code, by file: the expression as written (ast.unparse) and why it is not data.
ALLOWED: dict[str, dict[str, str]] = {
    "dagster_billing/ingestion/event_normalization.py": {
        "known_customers": "a relation name; its one caller passes the literal 'raw.customers'",
    },
    "dagster_billing/ingestion/segment_reads.py": {
        "only_rows": "a select statement written by usage_ingestion.py (a literal there)",
        "QUANTITY_TYPE": "the quantity's SQL type, a constant of event_normalization.py",
    },
    "dagster_billing/ingestion/usage_segments.py": {
        "file_id": "an integer from the raw.ingested_file_ids sequence",
        "landing_file.sha256[:8]": "hex digits of the file's SHA-256 computed by landing_files.py",
        "row_noun": "'line' or 'array element', literals of its callers",
    },
    "dagster_billing/ingestion/reference_data.py": {
        "table": "_replace_table's table name: the literals 'raw.customers' / 'raw.subscriptions' of its callers",
    },
    "dagster_billing/ledger/issue.py": {
        "SCHEMA": "the ledger's schema name, the constant 'billing' of ledger/tables.py",
        "', '.join((f'c.{name}' for name in LINE_COLUMNS[:23]))": "column names, constants of ledger/tables.py",
        "', '.join(LINE_COLUMNS)": "column names, constants of ledger/tables.py",
    },
    "dagster_billing/ledger/integrity.py": {
        "SCHEMA": "the ledger's schema name, the constant 'billing' of ledger/tables.py",
    },
    "dagster_billing/pricing/pricing_tables.py": {
        "table": "a table name from the module's own TABLES definitions",
        "definition": "column definitions from the module's own TABLES definitions",
        "key": "primary-key column list from the module's own TABLES definitions",
    },
}

# Files owned by other engineers with known unsafe sites (listed in issue 12); strict xfail, so fixing a file
# makes its test pass unexpectedly and the entry must be removed here.
# Files that still build SQL from data, each with why it is tolerated for now (strict xfail: a fixed file fails
# here until its entry is removed). Empty: every file passes.
KNOWN_UNSAFE: dict[str, str] = {}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    expression: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: '{self.expression}' is spliced into SQL text but is not a literal, a "
            f"sql_string_literal/sql_identifier call or an allowlisted fragment built from code; pass it as a "
            f"parameter (? / $1) or through dagster_billing.sql_literals"
        )


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _literal_text(node: ast.AST) -> str:
    """The constant text of a string-building expression (what SQL_TEXT is matched against)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_text(value) for value in node.values)
    if isinstance(node, ast.BinOp):
        return _literal_text(node.left) + " " + _literal_text(node.right)
    if isinstance(node, ast.Call) and _called_name(node) == "format" and isinstance(node.func, ast.Attribute):
        return _literal_text(node.func.value)
    return ""


def _spliced_values(node: ast.AST) -> list[ast.AST]:
    """The values put into a string-building expression."""
    if isinstance(node, ast.JoinedStr):
        return [value.value for value in node.values if isinstance(value, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        right = node.right
        return list(right.elts) if isinstance(right, ast.Tuple) else [right]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [side for side in (node.left, node.right) if not isinstance(side, ast.Constant)]
    if isinstance(node, ast.Call):
        return [*node.args, *(keyword.value for keyword in node.keywords)]
    return []


def _is_string_building(node: ast.AST) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(value, ast.FormattedValue) for value in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return any(isinstance(side, (ast.Constant, ast.JoinedStr)) for side in (node.left, node.right))
    return (
        isinstance(node, ast.Call)
        and _called_name(node) == "format"
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Constant)
    )


class _Scope:
    """The assignments of one function (or of the module), to decide whether a name holds code-built SQL."""

    def __init__(self, node: ast.AST, parent: _Scope | None):
        self.parent = parent
        self.parameters: set[str] = set()
        self.assignments: dict[str, list[ast.AST]] = {}
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                self.parameters.add(argument.arg)
            for argument in (arguments.vararg, arguments.kwarg):
                if argument is not None:
                    self.parameters.add(argument.arg)
        for child in _own_nodes(node):
            if isinstance(child, ast.Assign):
                for target in child.targets:
                    self._bind(target, child.value)
            elif isinstance(child, (ast.AugAssign, ast.AnnAssign)) and child.value is not None:
                self._bind(child.target, child.value)
            elif isinstance(child, (ast.For, ast.AsyncFor, ast.comprehension)):
                self._bind(child.target, ast.Subscript(value=child.iter, slice=ast.Constant(0)))
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                for alias in child.names:
                    self.assignments.setdefault(alias.asname or alias.name.split(".")[0], []).append(child)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.assignments.setdefault(child.name, []).append(child)

    def _bind(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.assignments.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:  # unpacking: each part is as safe as the whole
                self._bind(element, value)

    def lookup(self, name: str) -> tuple[_Scope, list[ast.AST]] | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.parameters:
                return scope, []
            if name in scope.assignments:
                return scope, scope.assignments[name]
            scope = scope.parent
        return None


def _own_nodes(node: ast.AST):
    """The nodes of a function or module body, not descending into nested functions or classes."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(child))


class _Checker:
    def __init__(self, path: str, allowed: dict[str, str]):
        self.path = path
        self.allowed = allowed
        self._visiting: set[tuple[int, str]] = set()

    def is_safe(self, node: ast.AST, scope: _Scope) -> bool:
        if ast.unparse(node) in self.allowed:
            return True
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(
                self.is_safe(value.value, scope)
                for value in node.values
                if isinstance(value, ast.FormattedValue)
            )
        if isinstance(node, ast.BinOp):
            return self.is_safe(node.left, scope) and self.is_safe(node.right, scope)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return all(self.is_safe(element, scope) for element in node.elts)
        if isinstance(node, ast.Dict):
            return all(self.is_safe(value, scope) for value in node.values)
        if isinstance(node, ast.IfExp):
            return self.is_safe(node.body, scope) and self.is_safe(node.orelse, scope)
        if isinstance(node, ast.Subscript):  # a lookup in a code-built table yields code-built SQL
            return self.is_safe(node.value, scope)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            # The loop variables are as safe as what they iterate over; `sql_identifier(c) for c in columns`
            # is safe whatever `columns` holds.
            return self.is_safe(node.elt, _Scope(node, scope))
        if isinstance(node, ast.Call):
            return self._is_safe_call(node, scope)
        if isinstance(node, ast.Name):
            return self._is_safe_name(node.id, scope)
        return False

    def _is_safe_call(self, call: ast.Call, scope: _Scope) -> bool:
        name = _called_name(call)
        if name in SQL_HELPERS or name in NUMBER_CALLS:
            return True
        if name is not None and name.endswith("_sql"):
            return True
        if name in {"join", "format", "upper", "lower", "strip"} and isinstance(call.func, ast.Attribute):
            arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
            return self.is_safe(call.func.value, scope) and all(self.is_safe(arg, scope) for arg in arguments)
        if name in {"map", "sorted", "list", "tuple"} and call.args:  # map(str, xs): as safe as xs
            return self.is_safe(call.args[-1], scope)
        return False

    def _is_safe_name(self, name: str, scope: _Scope) -> bool:
        if name == "str":
            return True
        found = scope.lookup(name)
        if found is None:
            return False
        owner, values = found
        if not values:  # a parameter: data, unless named `*_sql` (SQL text, checked where it is built)
            return name.endswith("_sql")
        key = (id(owner), name)
        if key in self._visiting:  # a name built from itself (`where += ...`): decided by its other parts
            return True
        self._visiting.add(key)
        try:
            return all(
                not isinstance(value, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
                and self.is_safe(value, owner)
                for value in values
            )
        finally:
            self._visiting.discard(key)


def _sql_buildings(tree: ast.AST):
    """(string-building node, enclosing function-or-module node) for each SQL text built in the tree."""
    execute_arguments: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node) in EXECUTE_LIKE and node.args:
            execute_arguments.add(id(node.args[0]))

    def visit(node: ast.AST, scopes: list[ast.AST]):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            scopes = [*scopes, node]
        if _is_string_building(node) and (
            id(node) in execute_arguments or SQL_TEXT.search(_literal_text(node))
        ):
            yield node, scopes
        for child in ast.iter_child_nodes(node):
            yield from visit(child, scopes)

    yield from visit(tree, [tree])


def violations_in(path: Path, relative: str, allowed: dict[str, str]) -> list[Violation]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    checker = _Checker(relative, allowed)
    scope_cache: dict[int, _Scope] = {}
    found = []
    for node, enclosing in _sql_buildings(tree):
        scope = None
        for owner in enclosing:
            if id(owner) not in scope_cache:
                scope_cache[id(owner)] = _Scope(owner, scope)
            scope = scope_cache[id(owner)]
        for value in _spliced_values(node):
            if not checker.is_safe(value, scope):
                found.append(Violation(relative, value.lineno, ast.unparse(value)))
    return sorted(set(found), key=lambda v: (v.line, v.expression))


def _scanned_files() -> list[str]:
    return sorted(
        path.relative_to(REPO_ROOT).as_posix()
        for folder in SCANNED_FOLDERS
        for path in (REPO_ROOT / folder).rglob("*.py")
    )


def _file_params():
    for relative in _scanned_files():
        marks = []
        if relative in KNOWN_UNSAFE:
            marks.append(pytest.mark.xfail(reason=KNOWN_UNSAFE[relative], strict=True))
        yield pytest.param(relative, marks=marks, id=relative)


@pytest.mark.parametrize("relative", list(_file_params()))
def test_no_sql_is_built_from_data(relative):
    violations = violations_in(REPO_ROOT / relative, relative, ALLOWED.get(relative, {}))
    assert not violations, "\n".join(map(str, violations))


def test_allowlist_names_only_scanned_files():
    assert set(ALLOWED) <= set(_scanned_files())
    assert set(KNOWN_UNSAFE) <= set(_scanned_files())


SAFE_EXAMPLE = """
from dagster_billing.sql_literals import sql_string_literal
TABLES = {"a": "raw.a"}
def load(con, path, name):
    source = sql_string_literal(path)
    con.execute(f"select * from read_csv({source})")
    con.execute(f"select * from {TABLES[name]} where x = ?", [path])
    for table in ("t1", "t2"):
        con.execute(f"drop table if exists {table}")
    con.execute("select * from read_parquet(" + sql_string_literal(path) + ")")
"""

UNSAFE_EXAMPLE = """
def load(con, path, record):
    con.execute(f"select * from read_csv('{path}')")
    sql = "delete from t where id = '%s'" % record.id
    con.execute(sql)
    where = f"name = '{record.name}'"
    con.execute("select * from t where " + where)
    con.execute("select {} from t".format(path))
"""


def test_the_rule_on_examples(tmp_path):
    safe, unsafe = tmp_path / "safe.py", tmp_path / "unsafe.py"
    safe.write_text(SAFE_EXAMPLE)
    unsafe.write_text(UNSAFE_EXAMPLE)
    assert violations_in(safe, "safe.py", {}) == []
    assert [(v.line, v.expression) for v in violations_in(unsafe, "unsafe.py", {})] == [
        (3, "path"),
        (4, "record.id"),
        (7, "where"),
        (8, "path"),
    ]
    assert "unsafe.py:3: 'path' is spliced into SQL" in str(violations_in(unsafe, "unsafe.py", {})[0])

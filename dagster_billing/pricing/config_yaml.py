"""Reading one pricing YAML file strictly: a syntax error, a repeated key or an impossible date is a problem
with its line number instead of a crash or a silently dropped setting (plain `yaml.safe_load` keeps the last
of two `interval:` keys without a word).

Numbers are read from their exact text: an unquoted `0.1` becomes `Decimal("0.1")`, never the binary float
0.1000000000000000055..., so `unit_amount: 0.0125` and `unit_amount: "0.0125"` mean the same exact price.
YAML 1.1 also reads `010` as 8, `1_000` as 1000, `1:30` as 90 and `.inf` as infinity; none of these is a price
anyone means, so they are errors with their line number instead of a silently different number.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError, SafeConstructor


class _StrictLoader(yaml.SafeLoader):
    pass


def _mapping_without_duplicate_keys(
    loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
) -> dict:
    first_line: dict[object, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key == "<<" or not isinstance(key, str | int | float | bool):
            continue  # merge keys and odd keys are left to pyyaml
        if key in first_line:
            raise ConstructorError(
                None,
                None,
                f"key {key!r} appears twice (first on line {first_line[key]})",
                key_node.start_mark,
            )
        first_line[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


def _date_or_problem(loader: _StrictLoader, node: yaml.ScalarNode) -> object:
    try:
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
        ) from exc


_PLAIN_INT = re.compile(r"[-+]?[0-9]+")
_PLAIN_DECIMAL = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")


def _int_from_text(loader: _StrictLoader, node: yaml.ScalarNode) -> int:
    if not _PLAIN_INT.fullmatch(node.value):
        raise _unclear_number(node)
    return int(node.value)


def _decimal_from_text(loader: _StrictLoader, node: yaml.ScalarNode) -> Decimal:
    if not _PLAIN_DECIMAL.fullmatch(node.value):
        raise _unclear_number(node)
    return Decimal(node.value)


def _unclear_number(node: yaml.ScalarNode) -> ConstructorError:
    return ConstructorError(
        None,
        None,
        f"{node.value!r} is not a plain decimal number (write digits with an optional '.', e.g. 1000 or "
        f"0.0125, or put it in quotes if it is text)",
        node.start_mark,
    )


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _int_from_text)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _decimal_from_text)
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicate_keys)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_or_problem)


class YamlProblem(Exception):
    """The file cannot be read as YAML; the message says where and why, without the file name."""


def read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem("the file is not UTF-8 text") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(part for part in (exc.problem, exc.context) if part)
        raise YamlProblem(f"{where}the YAML cannot be read: {what}") from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"the YAML cannot be read: {exc}") from exc

"""Reading one pricing YAML file strictly: a syntax error, a repeated key or an impossible date is a problem
with its line number instead of a crash or a silently dropped setting (plain `yaml.safe_load` keeps the last
of two `interval:` keys without a word).

Numbers are read from their exact text: an unquoted `0.1` becomes `Decimal("0.1")`, never the binary float
0.1000000000000000055..., so `unit_amount: 0.0125` and `unit_amount: "0.0125"` mean the same exact price.
YAML 1.1 also reads `010` as 8, `1_000` as 1000, `1:30` as 90 and `.inf` as infinity; none of these is a price
anyone means, so they are errors with their line number instead of a silently different number.

Anchors and aliases (`&growth`, `<<: *growth`) are allowed, to share a plan's header between currencies, but a
file may expand to at most MAX_EXPANDED_VALUES values: a "billion laughs" file (aliases of aliases) is a few
hundred bytes that expand to billions of values, and would take minutes and gigabytes before any rule saw it.
The size is counted on the composed node graph, where each anchor is one shared node, so the count itself is
linear in the file's size.
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
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` merge keys are resolved by pyyaml; explicit keys override merged ones
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool):
            continue  # odd keys are left to pyyaml
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


_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_DECIMAL = re.compile(r"[-+]?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")


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


# A pricing file with 100 plans of 10 charges each is about 10,000 values; a thousand times fewer than a bomb.
MAX_EXPANDED_VALUES = 100_000
# Far deeper than any pricing file (about 6 levels); pyyaml composes nodes recursively.
MAX_NESTING = 100


class YamlProblem(Exception):
    """The file cannot be read as YAML; the message says where and why, without the file name."""


def _nesting_depth(text: str) -> int:
    """The deepest nesting of YAML collections, from the parser's events (not recursive)."""
    depth = deepest = 0
    for event in yaml.parse(text, Loader=_StrictLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                raise YamlProblem(
                    f"line {event.start_mark.line + 1}: values are nested more than {MAX_NESTING} levels deep; "
                    f"a pricing config needs a handful"
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return deepest


def _check_expansion(root: yaml.Node) -> None:
    """Refuses a document whose aliases expand it beyond MAX_EXPANDED_VALUES values.

    Sizes are memoized per node (an anchor is one node however often it is aliased), children before parents,
    so the first node found too big is the innermost one: its line is where the expansion is written."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = (
            [child for pair in node.value for child in pair]
            if isinstance(node, yaml.MappingNode)
            else node.value
        )
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > MAX_EXPANDED_VALUES:
            raise YamlProblem(
                f"line {node.start_mark.line + 1}: this value expands to more than {MAX_EXPANDED_VALUES:,} values "
                f"through aliases (*name); a pricing config needs far fewer, so the file is refused unread"
            )
        sizes[id(node)] = size


def _load(text: str) -> object:
    _nesting_depth(text)
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_expansion(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem("the file is not UTF-8 text") from exc
    try:
        return _load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(part for part in (exc.problem, exc.context) if part)
        raise YamlProblem(f"{where}the YAML cannot be read: {what}") from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"the YAML cannot be read: {exc}") from exc

"""YAML files read as YAML 1.2 reads them, with the line of every key remembered.

The model, import mapping and lifecycle configuration readers share this: each
composes the text, builds plain Python data with safe scalars (``NO`` and ``ON``
stay text, ``012`` is 12, ``1:30`` is text), refuses a key given twice in one
mapping, and places a validation error at the deepest line known for its path.
Each reader wraps the problems in its own error class and wording.

>>> doc = read_yaml("country: NO\\nzip: 01234\\n", YamlProblem)
>>> doc.data, doc.lines[("zip",)]
({'country': 'NO', 'zip': 1234}, 2)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: A place in a YAML document: the keys and list indexes leading to a value.
YamlPath = tuple[str | int, ...]

#: What a reader gives to turn a problem (message, line or None) into its error.
ErrorFactory = Callable[[str, int | None], Exception]

#: The fix suggested for text that is not YAML at all, unless a reader gives one.
DEFAULT_SYNTAX_HINT = "check indentation and quoting"
#: The fix for a value YAML cannot build: in practice a date such as 2025-02-30.
DEFAULT_VALUE_HINT = "write dates as YYYY-MM-DD"

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")


class YamlProblem(ValueError):
    """The plain error of :func:`read_yaml` when a reader has no class of its own.

    ``line`` is the 1-based line of the problem, when known.
    """

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class YamlDocument:
    """A YAML document as Python data, with the 1-based line of each path in it.

    ``data`` is None for an empty document; ``root_line`` is the line where the
    document's top-level value starts.
    """

    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    root_line: int | None = None

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of ``path``, or of its deepest known parent."""
        return line_of(self.lines, path)


def read_yaml(
    text: str, error: ErrorFactory, syntax_hint: str = DEFAULT_SYNTAX_HINT
) -> YamlDocument:
    """Compose and build a YAML text; problems go through ``error(message, line)``,
    which makes the reader's own exception (naming its file)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or exc
        raise error(f"not valid YAML: {problem}; {syntax_hint}", line) from exc
    if root is None:
        return YamlDocument(None)
    lines: dict[YamlPath, int] = {}
    data = _build(root, (), lines, error)
    return YamlDocument(data, lines, root.start_mark.line + 1)


def located(make: Callable[[str], Exception], source: str) -> ErrorFactory:
    """An error factory whose message starts with ``source:line:`` (or ``source:``)."""

    def error(message: str, line: int | None) -> Exception:
        where = f"{source}:{line}" if line is not None else source
        return make(f"{where}: {message}")

    return error


def read_file(path: Path, error: Callable[[str], Exception]) -> str:
    """The UTF-8 text of a reader's file; if it cannot be read, raise
    ``error(why)``, ``why`` naming the failure (``FileNotFoundError: ...``)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{exc.__class__.__name__}: {exc}") from exc


def line_of(lines: dict[YamlPath, int], path: Sequence[str | int]) -> int | None:
    """The line of ``path`` in a document, or of its deepest known parent.

    >>> line_of({(): 1, ("a",): 2, ("a", 0): 3}, ("a", 0, "b"))
    3
    """
    loc = tuple(path)
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def safe_scalar(node: yaml.Node) -> Any:
    """A YAML value as YAML 1.2 reads it: ``NO`` and ``ON`` are text, ``012`` is 12.

    PyYAML follows YAML 1.1, where yes/no/on/off are booleans (so the country code
    NO and the province ON would silently become false and true), a leading zero
    means octal and ``1:30`` is a number in base 60. Only ``true`` and ``false``
    (any case) are booleans here; quoted values are always text.
    """
    if isinstance(node, yaml.ScalarNode) and node.style is None:
        text = node.value
        if node.tag == _BOOL_TAG and text.lower() not in ("true", "false"):
            return text
        if node.tag == _INT_TAG and _LEADING_ZERO.fullmatch(text):
            return int(text.replace("_", ""), 10)
        if node.tag in (_INT_TAG, _FLOAT_TAG) and ":" in text:
            return text
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _build(
    node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int], error: ErrorFactory
) -> Any:
    """Python data from a composed node, remembering each path's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = safe_scalar(key_node)
            if key in out:
                raise error(
                    f"key {key!r} appears twice in the same mapping; keep one",
                    key_node.start_mark.line + 1,
                )
            out[key] = _build(value_node, (*path, key), lines, error)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, i), lines, error) for i, item in enumerate(node.value)
        ]
    try:
        return safe_scalar(node)
    except (yaml.YAMLError, ValueError) as exc:
        field = ".".join(str(p) for p in path) or "document"
        raise error(
            f"{field}: {node.value!r} is not a valid value ({exc}); "
            f"{DEFAULT_VALUE_HINT}",
            node.start_mark.line + 1,
        ) from None

"""Reading a model from YAML, with errors that name the file, the line and a fix."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from mql.errors import ModelError
from mql.model.schema import Model

TEMPLATES = ("cpa", "law", "consulting", "hr")

Path_ = tuple[str | int, ...]


def load_model(path: str | Path) -> Model:
    """Read and validate a model file.

    >>> load_model("no/such/model.yaml")
    Traceback (most recent call last):
    ...
    mql.errors.ModelError: no/such/model.yaml: cannot read the model file ...
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(
            f"cannot read the model file ({exc.__class__.__name__}: {exc}); "
            "check the path, or create one with `mql init`",
            source=str(path),
        ) from exc
    return parse_model(text, source=str(path))


def parse_model(text: str, source: str = "<string>") -> Model:
    """Validate a model given as YAML text.

    >>> parse_model("name: t\\nthreshold: 50\\n").threshold
    50.0
    >>> parse_model("name: t\\nthreshold: 50\\nthreshhold: 5\\n")
    Traceback (most recent call last):
    ...
    mql.errors.ModelError: <string>:3: threshhold: unknown key ...
    """
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ModelError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}; check indentation "
            "and quoting (quote values that contain ': ' or start with '*' or '&')",
            source=source,
            line=line,
        ) from exc
    if root is None:
        raise ModelError("the model is empty; start from `mql init`", source=source)
    lines: dict[Path_, int] = {}
    data = _to_python(root, (), lines, source)
    if not isinstance(data, dict):
        raise ModelError(
            "a model must be a mapping with name, threshold, groups, fit, intent",
            source=source,
            line=root.start_mark.line + 1,
        )
    try:
        return Model.model_validate(data)
    except ValidationError as exc:
        raise _model_error(exc, lines, source) from None


def template_path(name: str) -> Path:
    """The bundled model file of a professional-services template."""
    if name not in TEMPLATES:
        raise ModelError(
            f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}",
            source="--template",
        )
    ref = resources.files("mql.model") / "templates" / f"{name}.yaml"
    return Path(str(ref))


def load_template(name: str) -> Model:
    """Load one of the bundled templates (cpa, law, consulting, hr)."""
    return load_model(template_path(name))


def _to_python(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], source: str
) -> Any:
    """Turn a composed YAML node into Python data, remembering each path's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            if key in out:
                raise ModelError(
                    f"key {key!r} appears twice in the same mapping; keep one",
                    source=source,
                    line=key_node.start_mark.line + 1,
                )
            out[key] = _to_python(value_node, (*path, key), lines, source)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*path, i), lines, source)
            for i, item in enumerate(node.value)
        ]
    return yaml.safe_load(yaml.serialize(node))


def _model_error(
    exc: ValidationError, lines: dict[Path_, int], source: str
) -> ModelError:
    """The first validation error, placed at the deepest line known for its path."""
    first = exc.errors()[0]
    loc = tuple(_yaml_key(part) for part in first["loc"])
    line = None
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            line = lines[loc[:cut]]
            break
    field = ".".join(str(p) for p in loc) or "model"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = f"unknown key; {_known_keys_hint(loc)}"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return ModelError(f"{field}: {message}{suffix}", source=source, line=line)


def _yaml_key(part: str | int) -> str | int:
    # pydantic reports the field name, the YAML file uses the alias.
    return "in" if part == "in_" else part


def _known_keys_hint(loc: tuple[str | int, ...]) -> str:
    return "check the spelling against docs/model.md (keys are case-sensitive)"

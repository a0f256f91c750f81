"""Reading a model from YAML, with errors that name the file, the line and a fix."""

from __future__ import annotations

import difflib
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from mql.errors import ModelError
from mql.model.schema import Model
from mql.yamlfile import YamlPath, line_of, read_file, read_yaml

TEMPLATES = ("cpa", "law", "consulting", "hr")

Path_ = YamlPath

#: The fix for a model that is not YAML at all.
_SYNTAX_HINT = (
    "check indentation and quoting (quote values that contain ': ' or start with "
    "'*' or '&')"
)


def load_model(path: str | Path) -> Model:
    """Read and validate a model file.

    >>> load_model("no/such/model.yaml")
    Traceback (most recent call last):
    ...
    mql.errors.ModelError: no/such/model.yaml: cannot read the model file ...
    """
    path = Path(path)
    text = read_file(
        path,
        lambda why: ModelError(
            f"cannot read the model file ({why}); "
            "check the path, or create one with `mql init`",
            source=str(path),
        ),
    )
    return parse_model(text, source=str(path))


def parse_model(text: str, source: str = "<string>") -> Model:
    """Validate a model given as YAML text.

    >>> parse_model("name: t\\nthreshold: 50\\n").threshold
    50.0
    >>> parse_model("name: t\\nthreshold: 50\\nthreshhold: 5\\n")
    Traceback (most recent call last):
    ...
    mql.errors.ModelError: <string>:3: threshhold: unknown key; did you mean ...
    """

    def error(message: str, line: int | None) -> ModelError:
        return ModelError(message, source=source, line=line)

    document = read_yaml(text, error, syntax_hint=_SYNTAX_HINT)
    if document.data is None:
        raise ModelError("the model is empty; start from `mql init`", source=source)
    data, lines = document.data, document.lines
    if not isinstance(data, dict):
        raise ModelError(
            "a model must be a mapping with name, threshold, groups, fit, intent",
            source=source,
            line=document.root_line,
        )
    try:
        return Model.model_validate(data)
    except ValidationError as exc:
        raise _model_error(exc, lines, source, data) from None


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


def _model_error(
    exc: ValidationError, lines: dict[Path_, int], source: str, data: Any
) -> ModelError:
    """The first validation error, placed at the deepest line known for its path."""
    errors = exc.errors()
    # A misspelt key also makes the right one "missing": report the misspelling.
    first = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    loc = _data_path(first, data)
    line = line_of(lines, loc)
    field = ".".join(str(p) for p in loc) or "model"
    more = len({_data_path(e, data) for e in errors}) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return ModelError(f"{field}: {_message(first, loc)}{suffix}", source, line)


#: Error types whose message already names the value (or there is none to name).
_NO_ECHO = {"extra_forbidden", "missing", "value_error", "assertion_error"}

#: Error types of a field that takes a number (strict: text and booleans refused).
_NUMBER_TYPES = {"float_type", "int_type"}
_NOT_A_NUMBER = {
    False: "a quoted number is text: write it without quotes",
    True: "true and false are not numbers",
}

#: A fix for each field whose plain pydantic message would leave the reader guessing.
_FIELD_HINTS = {
    "rate": "give the share lost per period, from 0 (no decay) to below 1, "
    "e.g. 0.25 for 25%",
    "period_days": "give a number of days above 0, e.g. 91.3125 for a quarter",
    "grace_days": "give a number of days, 0 or more",
    "points": "give points as a number, e.g. 10 or -5",
    "threshold": "give the score at which a lead is an MQL, e.g. 60",
    "id": "use letters, digits, '_', '-' or '.', e.g. cfo_title",
    "group": "name a group declared under groups:",
    "min_grade": "use A, B, C or D (A is best)",
    "method": "use top_n or max",
    "top_n": "give a whole number of leads, 1 or more",
    "cap": "give a number",
    "floor": "give a number",
    "total_cap": "give a number",
    "event": "give an event type or a list of them, e.g. [webinar_attended]",
    "when": "give at least one condition, e.g. {title: {contains: cfo}}",
    "equals": "give text, a number or true/false",
    "repeat": "use every, once, {once_per: PROPERTY} or {min_count: N} with N >= 1",
    "in": "give a list of text or numbers, e.g. [DE, FR]",
}


def _message(error: Any, loc: tuple[str | int, ...]) -> str:
    """pydantic's message made to say what was received and what to do."""
    kind = error["type"]
    name = next((p for p in reversed(loc) if isinstance(p, str)), "model")
    if kind == "extra_forbidden":
        return f"unknown key; {_known_keys_hint(loc)}"
    if kind == "missing":
        return f"required key is missing; add `{name}:` (see docs/model.md)"
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ")
    message = str(error["msg"]).replace("a valid tuple", "a list (one '- ' per item)")
    value = error.get("input")
    if not isinstance(value, dict | list):
        message += f"; got {value!r}"
    if kind in _NUMBER_TYPES and (isinstance(value, bool) or _numeric_text(value)):
        message += f" ({_NOT_A_NUMBER[isinstance(value, bool)]})"
    hint = _FIELD_HINTS.get(name)
    return f"{message}. Fix: {hint}" if hint else message


def _numeric_text(value: Any) -> bool:
    """Whether a value is text that would read as a number ('60', ' 1.5')."""
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _data_path(error: Any, data: Any) -> tuple[str | int, ...]:
    """The error's path in the file: aliases restored, union member tags dropped.

    A validator that knows the offending key raises ``LocatedError`` with its path
    below the validated object; that path is appended.
    """
    path: list[str | int] = []
    node = data
    parts = [_yaml_key(p) for p in error["loc"]]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif not (last and error["type"] == "missing"):
            continue  # a union member's tag such as 'str' or 'float': not in the file
        path.append(part)
    located = getattr(error.get("ctx", {}).get("error"), "path", None)
    if isinstance(located, tuple):
        path.extend(located)
    return tuple(path)


def _yaml_key(part: str | int) -> str | int:
    # pydantic reports the field name, the YAML file uses the alias.
    return "in" if part == "in_" else part


def _known_keys_hint(loc: tuple[str | int, ...]) -> str:
    """The keys allowed where an unknown one was found, with the closest one."""
    owner = _schema_at(loc[:-1])
    if owner is None:
        return "check the spelling against docs/model.md (keys are case-sensitive)"
    known = [field.alias or name for name, field in owner.model_fields.items()]
    key = str(loc[-1]).lower()
    # 'grace' for 'grace_days' is a closer guess than difflib's 'rate'.
    close = [k for k in known if key in k] or difflib.get_close_matches(key, known, 1)
    guess = f"did you mean {close[0]!r}? " if close else ""
    return f"{guess}known keys here: {', '.join(known)}"


def _schema_at(path: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The schema class of the mapping at ``path`` in a model file, if any."""
    owner: type[BaseModel] = Model
    skip = 0
    for part in path:
        if skip:
            skip -= 1  # a list index or a condition's field name
            continue
        field = _field(owner, part)
        if field is None:
            return None
        inner, skip = _unwrap(field.annotation)
        if inner is None:
            return None
        owner = inner
    return owner if not skip else None


def _field(owner: type[BaseModel], key: str | int) -> FieldInfo | None:
    for name, field in owner.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _unwrap(annotation: Any) -> tuple[type[BaseModel] | None, int]:
    """The schema class inside an annotation, and how many path parts lead to it."""
    skips = 0
    while True:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation, skips
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (tuple, dict) and args:
            skips += 1
            annotation = args[-1] if origin is dict else args[0]
        elif origin in (typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
        else:
            return None, skips

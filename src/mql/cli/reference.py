"""The command reference (docs/cli.md), made from the commands' own help."""

from __future__ import annotations

from collections.abc import Iterator

# Typer 0.29 ships its own copy of Click; its command classes live there.
from typer._click.core import Command, Parameter
from typer.core import TyperArgument, TyperGroup, TyperOption

from mql.cli.records import FIELD_MEANINGS

EXAMPLE = "Example:"
HEADER = (
    "# Command reference\n\n"
    "Made from the commands' own help by `mql docs --output docs/cli.md`; a test "
    "fails when this page is stale. Every listing takes `--format table|csv|json`; "
    "errors print one line on standard error and exit with code 2.\n"
)


def reference(root: Command) -> str:
    """Markdown for every visible command under ``root``, in the order shown."""
    parts = [HEADER]
    for path, command in walk(root):
        parts.append(_section(path, command))
    parts.append(_fields())
    return "\n".join(parts)


def _fields() -> str:
    lines = [
        "## Fields of `--format json` and `--format csv`",
        "",
        "These names are stable: fields may be added, none is renamed or removed "
        "within a major version. Instants are UTC, ISO 8601, ending in `Z`.",
    ]
    for title, meanings in FIELD_MEANINGS.items():
        lines += ["", f"### {title}", "", "| field | meaning |", "| --- | --- |"]
        lines += [f"| `{name}` | {text} |" for name, text in meanings.items()]
    return "\n".join(lines) + "\n"


def walk(
    command: Command, path: tuple[str, ...] = ("mql",)
) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every visible command and group, depth first, with its full name."""
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            if not sub.hidden:
                yield from walk(sub, (*path, name))


def _section(path: tuple[str, ...], command: Command) -> str:
    name = " ".join(path)
    level = "#" * min(len(path) + 1, 4)
    lines = [f"{level} `{name}`", "", "```text", _usage(name, command), "```", ""]
    lines.append(_paragraphs(command.help or ""))
    params = [p for p in command.params if not getattr(p, "hidden", False)]
    if params:
        lines += ["", "| option | meaning |", "| --- | --- |"]
        lines += [_row(param) for param in params]
    if isinstance(command, TyperGroup):
        visible = [n for n, sub in command.commands.items() if not sub.hidden]
        lines += ["", "Commands: " + ", ".join(f"`{name} {n}`" for n in visible) + "."]
    return "\n".join(lines) + "\n"


def _usage(name: str, command: Command) -> str:
    pieces = [name, "[OPTIONS]"]
    pieces += [
        (p.name or "").upper() for p in command.params if isinstance(p, TyperArgument)
    ]
    if isinstance(command, TyperGroup):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _paragraphs(text: str) -> str:
    blocks = [" ".join(block.split()) for block in text.strip().split("\n\n")]
    blocks = [_example(block) for block in blocks if block]
    return "\n\n".join(blocks)


def _example(block: str) -> str:
    if block.startswith(EXAMPLE):
        return f"{EXAMPLE} `{block.removeprefix(EXAMPLE).strip()}`"
    return block


def _row(param: Parameter) -> str:
    if isinstance(param, TyperArgument):
        names = f"`{(param.name or '').upper()}`"
    else:
        names = ", ".join(f"`{opt}`" for opt in param.opts)
    help_text = " ".join((getattr(param, "help", None) or "").split())
    default = _default(param)
    if default:
        help_text = f"{help_text} Default: `{default}`." if help_text else default
    return f"| {names} | {help_text.replace('|', '&#124;')} |"


def _default(param: Parameter) -> str | None:
    if not isinstance(param, TyperOption) or param.is_flag:
        return None
    if param.show_default is False or param.default is None:
        return None
    value = param.default
    return str(getattr(value, "value", value))

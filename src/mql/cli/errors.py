"""How the command line reports errors: one clear line, exit code 2, no traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from mql.errors import MqlError

#: The exit code of every error mql reports on purpose (the same as a usage error).
EXIT_ERROR = 2

P = ParamSpec("P")
R = TypeVar("R")


def fail(exc: MqlError | str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``error: <message>`` on standard error and exit (code 2 by default)."""
    message = " ".join(str(exc).split())
    Console(stderr=True, soft_wrap=True).print(
        f"error: {message}", markup=False, highlight=False
    )
    raise typer.Exit(code)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so that an :class:`MqlError` becomes one line and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except MqlError as exc:
            fail(exc)

    return wrapper

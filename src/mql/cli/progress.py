"""A Rich progress bar that an import reports to, row by row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

#: ``progress(done, total)``: rows handled so far and the rows in the file (if known).
ProgressCallback = Callable[[int, int | None], None]


@contextmanager
def import_progress(console: Console, what: str) -> Iterator[ProgressCallback]:
    """A callback that moves a progress bar; the bar shows only on a terminal."""
    bar = Progress(
        TextColumn(f"importing {what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = bar.add_task(what, total=None)

    def report(done: int, total: int | None) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield report

"""Progress bars for long commands, on a terminal only.

A command that may run for many seconds (``fleet simulate``, seeding ``sandbox --devices N``)
shows a rich progress bar on standard error when it is a terminal; when it is not (a pipe, a
file, CI logs) nothing extra is written, so scripts read the same output as before.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

Advance = Callable[[float], None]


def _nothing(_: float) -> None:
    return None


@contextlib.contextmanager
def progress(description: str, total: float, stream: TextIO | None = None) -> Iterator[Advance]:
    """A bar for ``total`` units of work on ``stream`` (standard error) when it is a terminal;
    yields the function to call with each amount done."""
    out = sys.stderr if stream is None else stream
    if not out.isatty():
        yield _nothing
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(file=out),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda amount: bar.advance(task, amount)

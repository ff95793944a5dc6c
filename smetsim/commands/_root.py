"""The root of the `smetsim` command line: a typer app whose commands are imported lazily.

Kept apart from :mod:`smetsim.cli` so that ``smetsim --version`` does not even import typer.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import typer
from typer import _click as click
from typer.core import TyperGroup

from smetsim import __version__
from smetsim.commands import COMMANDS

# -h everywhere: click passes a context's help option names on to every subcommand.
_CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def load_command(name: str) -> click.Command:
    """The click command ``name`` of :data:`COMMANDS`, importing its module now."""
    module = importlib.import_module(COMMANDS[name].module)
    # The module registers on an app of its own; rich markup stays off, as on the root, so
    # that help does not import rich either.
    holder = typer.Typer(add_completion=False, rich_markup_mode=None)
    module.register(holder)
    command = typer.main.get_group(holder).commands.get(name)
    if command is None:
        raise RuntimeError(f"{COMMANDS[name].module}.register did not register {name!r}")
    return command


class _LazyCommands(MutableMapping[str, click.Command]):
    """The root group's commands: every name of :data:`COMMANDS` is a key from the start
    (for "did you mean" and ``--help``), its module is imported on first lookup."""

    def __init__(self, loaded: Mapping[str, click.Command]) -> None:
        self._loaded: dict[str, click.Command] = dict(loaded)

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._loaded if name not in COMMANDS)

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._loaded


class LazyGroup(TyperGroup):
    """The root group: lists commands from :data:`COMMANDS` and imports one when it runs."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The summaries come from COMMANDS so that --help imports no command module.
        rows = [(name, entry.summary) for name, entry in COMMANDS.items()]
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(name, _shorten(text, limit)) for name, text in rows])


def _shorten(text: str, limit: int) -> str:
    """``text`` cut at a word to ``limit`` characters with "...", as click shortens help."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 3, 0)].rsplit(" ", 1)[0] + "..."


app = typer.Typer(
    name="smetsim",
    cls=LazyGroup,
    help="smetsim: SMETS2 devices, a DCC User Gateway mock and a hardware-in-the-loop adapter.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=_CONTEXT_SETTINGS,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"smetsim {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_version_callback,
        is_eager=True,
    ),
) -> None:
    """smetsim: SMETS2 devices, a DCC User Gateway mock and a hardware-in-the-loop adapter."""

"""The `smetsim` command line.

Each command lives in its own module under :mod:`smetsim.commands` and is registered
here, so that the parts of the project can grow their commands independently.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from smetsim import __version__

app = typer.Typer(
    name="smetsim",
    help="smetsim: SMETS2 devices, a DCC User Gateway mock and a hardware-in-the-loop adapter.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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


def _register_commands() -> None:
    """Attach every command module to the app (each module exposes ``register(app)``)."""
    from smetsim.commands import COMMAND_MODULES

    for module in COMMAND_MODULES:
        module.register(app)


_register_commands()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: one-line errors with exit code 2 for usage mistakes, no tracebacks."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["--help"]
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=args, prog_name="smetsim", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("smetsim: aborted", err=True)
        sys.exit(130)
    except typer.TyperException as exc:
        # Usage errors (exit code 2) and other command-line errors: one line, no traceback.
        lines = exc.format_message().strip().splitlines() or [type(exc).__name__]
        typer.echo(f"smetsim: error: {lines[0]}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()

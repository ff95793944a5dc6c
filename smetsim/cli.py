"""The `smetsim` command line.

Each command lives in its own module under :mod:`smetsim.commands`, listed in
:data:`smetsim.commands.COMMANDS`. A module is imported only when its command is used, so a
command pays only for its own dependencies: ``smetsim decode`` never loads aiohttp or the
gateway server, and ``smetsim --help`` loads no command at all (see
:mod:`smetsim.commands._root`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from smetsim import __version__


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: one-line errors with exit code 2 for usage mistakes, no tracebacks."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["--help"]
    if args == ["--version"]:
        # Importing typer alone doubles the process's start-up; --version needs none of it.
        print(f"smetsim {__version__}")
        sys.exit(0)
    if args[0] == "decode":
        from smetsim.decode_run import parse_fast, run

        # A plain decode runs without typer: building its app and parsing options with it
        # cost most of a one-message decode's time. Anything else (help, mistakes) goes on.
        plain = parse_fast(args[1:])
        if plain is not None:
            sys.exit(run(*plain))
    import typer
    from typer import _click as click

    from smetsim.commands._root import app

    command = typer.main.get_command(app)
    try:
        rv = command.main(args=args, prog_name="smetsim", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("smetsim: aborted", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:
        # A group with no subcommand (`smetsim pki`): its help lists what it can do.
        typer.echo(exc.format_message())
        sys.exit(0)
    except typer.TyperException as exc:
        # Usage errors (exit code 2) and other command-line errors: one line, no traceback.
        lines = exc.format_message().strip().splitlines() or [type(exc).__name__]
        typer.echo(f"smetsim: error: {lines[0]}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()

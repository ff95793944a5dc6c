"""The one way the long-running commands (gateway, sandbox) set up logging from --log-level."""

from __future__ import annotations

import logging
import sys

import typer

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def configure_logging(log_level: str) -> None:
    """Log to stderr at ``log_level``; a bad level is a one-line CLI error (exit 1)."""
    level = LEVELS.get(log_level.lower())
    if level is None:
        typer.echo(
            f"smetsim: error: --log-level {log_level!r} is not one of debug, info, warning",
            err=True,
        )
        raise typer.Exit(1)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

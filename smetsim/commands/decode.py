"""`smetsim decode`: GBCS messages explained, for people or (``--json``) for programs.

The work is in :mod:`smetsim.decode_run`; :mod:`smetsim.cli` runs a plain decode
command line there directly, and this typer command serves help and the rest."""

from __future__ import annotations

from pathlib import Path

import typer

from smetsim.decode_run import MIN_INPUTS_PER_JOB, run


def decode(
    inputs: list[str] = typer.Argument(  # noqa: B008  # typer declares arguments this way
        ...,
        metavar="INPUT...",
        help="A hex or base64 string, a file holding either or a DUIS XML document (each "
        "GBCSPayload is decoded), or - for standard input.",
        show_default=False,
    ),
    keystore: Path | None = typer.Option(  # noqa: B008
        None,
        "--keystore",
        metavar="DIR",
        help="Keystore directory (docs/gbcs.md layout) to check MACs and signatures and decrypt.",
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line per input."),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        min=1,
        metavar="N",
        help="Processes decoding in parallel (same output, same order). Default: one per "
        f"core, each with at least {MIN_INPUTS_PER_JOB} inputs (so one for fewer).",
        show_default=False,
    ),
) -> None:
    """Decode GBCS messages: use case, parties, counter, MAC and signature status, payload."""
    code = run(inputs, keystore, as_json, jobs)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("decode")(decode)

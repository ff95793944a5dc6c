"""`smetsim request SRV [--device EUI] [--user EUI] [--cv N] [field=value ...]`: write a DUIS
request for any served SR, with the sandbox's home as defaults (:mod:`smetsim.requests`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gbcs.eui import parse_eui


def _eui(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_eui(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def request(
    srv: Annotated[
        str, typer.Argument(help="The service reference variant, e.g. 4.1.1 (smetsim catalogue).")
    ],
    fields: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[FIELD=VALUE]...",
            help="Body fields by their DUIS element names, e.g. UTRN=... or TolerancePeriod=30; "
            "FIELD= leaves an optional one out "
            "(--fields lists an SR's fields and defaults).",
            show_default=False,
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            metavar="EUI",
            callback=_eui,
            help="The target device (default: the home's device of the first type the SR is "
            "for: its ESME mostly, its CHF for 6.28 and 8.11). Non-device SRs (CV8) name it in "
            "their body and are sent to the DCC.",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            metavar="EUI",
            callback=_eui,
            help="The DCC User sending it (default: the home's supplier, or its network operator "
            "for an SR only distributors and transporters send).",
        ),
    ] = None,
    cv: Annotated[
        int | None,
        typer.Option(
            "--cv", metavar="N", help="CommandVariant (default: the lowest the SR takes)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", metavar="FILE", help="Write here instead of stdout."),
    ] = None,
    list_fields: Annotated[
        bool, typer.Option("--fields", help="List the SR's fields and their defaults, and exit.")
    ] = False,
) -> None:
    """Write a DUIS 5.4 request for a served SR, its values defaulting to the sandbox's home
    (send it with 'smetsim send FILE', or 'smetsim send -' from a pipe)."""
    from smetsim.requests import RequestError, parse_assignments, request_fields, write_request

    try:
        if list_fields:
            shown = request_fields(srv)
            for name, default in shown.items():
                typer.echo(f"{name}={'' if default is None else default}")
            if not shown:
                typer.echo(f"SR {srv} has no body fields")
            return
        document = write_request(
            srv,
            device=None if device is None else parse_eui(device),
            user=None if user is None else parse_eui(user),
            command_variant=cv,
            fields=parse_assignments(fields or []),
        )
    except RequestError as exc:
        typer.echo(f"smetsim: error: {exc}", err=True)
        raise typer.Exit(2) from None
    if output is None:
        sys.stdout.write(document.decode("utf-8") + "\n")
        return
    try:
        output.write_bytes(document + b"\n")
    except OSError as exc:
        typer.echo(f"smetsim: error: cannot write {str(output)!r}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    app.command("request")(request)

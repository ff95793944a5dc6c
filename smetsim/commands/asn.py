"""`smetsim asn import FILE --as EUI [--state DIR]`: pre-notify a whole shipment (SR12.2).

Reads an Advance Shipment Notification (CSV or XML, see ``docs/asn.md``) and adds every device
to the gateway's Smart Metering Inventory as ``Pending``, installed by the ``--as`` supplier,
all or nothing. Works on the state folder of ``smetsim gateway`` (also while it runs: SQLite
in WAL mode takes one writer at a time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gateway.asn import AsnError, import_file
from gateway.errors import StorageError
from gateway.inventory import MIGRATIONS
from gateway.services.nondevice import NonDeviceService
from gateway.storage import DATABASE_NAME, Storage
from gbcs.eui import eui_duis, parse_eui

DEFAULT_STATE = Path("gateway-state")
"""The same default state folder as ``smetsim gateway`` (``gateway.config.DEFAULT_STATE``)."""

asn_app = typer.Typer(
    name="asn",
    help="Advance Shipment Notification files: pre-notify whole shipments.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"smetsim: error: {message}", err=True)
    return typer.Exit(1)


@asn_app.command("import")
def import_asn(
    file: Annotated[Path, typer.Argument(help="The ASN file (CSV with a header row, or XML).")],
    sender: Annotated[
        str,
        typer.Option(
            "--as",
            help="EUI of the installing supplier (an IS or GS DCC User), "
            "e.g. 90-B3-D5-1F-30-01-00-00.",
        ),
    ],
    state: Annotated[
        Path, typer.Option("--state", help="The gateway's state folder. Default: ./gateway-state.")
    ] = DEFAULT_STATE,
) -> None:
    """Pre-notify every device of FILE (status Pending), all or nothing."""
    try:
        supplier = parse_eui(sender)
    except ValueError as exc:
        raise _fail(f"--as: {exc}") from None
    database = state / DATABASE_NAME
    if not database.is_file():
        raise _fail(
            f"no gateway state in {str(state)!r} ({DATABASE_NAME} is missing): start "
            f"'smetsim gateway --state {state}' once (it registers the DCC users) or give --state"
        )
    try:
        with Storage.open(database, migrations=MIGRATIONS) as storage:
            service = NonDeviceService(storage, clock=lambda: datetime.now(UTC))
            added = import_file(service, supplier, file)
    except (AsnError, StorageError) as exc:
        raise _fail(f"{file}: {exc}" if isinstance(exc, AsnError) else str(exc)) from None
    typer.echo(
        f"pre-notified {added} device{'s' if added != 1 else ''} from {file} "
        f"as {eui_duis(supplier)}: status Pending"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(asn_app, name="asn")

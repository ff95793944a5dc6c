"""`smetsim pki export --state DIR OUT`: the sandbox's keys and certificates, for outside tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gateway.config import ConfigError
from gbcs.keystore import KeystoreError
from smetsim.sandbox import sandbox_keystore

pki_app = typer.Typer(
    name="pki",
    help="The sandbox's test PKI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@pki_app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="Folder to write the keystore to.")],
    state: Annotated[
        Path, typer.Option("--state", help="The sandbox's state folder (smetsim sandbox --state).")
    ],
) -> None:
    """Write the sandbox's keys and certificates in the keystore convention
    (<eui>-ds.pem / -ka.pem certificates, <eui>-ds.key / -ka.key / -pp-ka.key private keys,
    root-ca.pem): the DCC test organisations' and every device's in the sandbox's SMI.
    The sandbox's frames check against them (smetsim decode --keystore OUT)."""
    try:
        keystore = sandbox_keystore(state)
        keystore.save(out)
    except (ConfigError, KeystoreError) as exc:
        typer.echo(f"smetsim: error: {exc}", err=True)
        raise typer.Exit(1) from None
    files = sorted(p.name for p in out.iterdir() if p.is_file())
    typer.echo(f"wrote {len(files)} files to {out} ({len(keystore.euis())} parties)")


def register(app: typer.Typer) -> None:
    app.add_typer(pki_app, name="pki")

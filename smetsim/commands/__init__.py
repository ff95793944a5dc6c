"""Command modules of the `smetsim` CLI. Each exposes ``register(app: typer.Typer) -> None``.

To add a command: write ``smetsim/commands/<name>.py`` with a ``register`` function and
append the module to :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

from types import ModuleType

from smetsim.commands import asn, catalogue, decode, fleet, gateway, hil, pki, sandbox, send

COMMAND_MODULES: list[ModuleType] = [
    sandbox,
    decode,
    gateway,
    asn,
    send,
    pki,
    hil,
    fleet,
    catalogue,
]

"""Command modules of the `smetsim` CLI. Each exposes ``register(app: typer.Typer) -> None``.

The modules are not imported here: :mod:`smetsim.cli` imports one only when its command
runs (or its own ``--help`` is asked for), so ``smetsim --version`` or ``smetsim decode``
do not pay for aiohttp, lxml, the gateway server or the emulator.

To add a command: write ``smetsim/commands/<name>.py`` with a ``register`` function that
registers a command (or a group) called ``<name>``, and add a line to :data:`COMMANDS`.
"""

from __future__ import annotations

from typing import NamedTuple


class CommandEntry(NamedTuple):
    """Where a command lives and the one line ``smetsim --help`` shows for it."""

    module: str
    """Dotted module name; it registers the command under the entry's name."""
    summary: str
    """Must be the first sentence of the command's own help (a test checks it)."""


COMMANDS: dict[str, CommandEntry] = {
    "sandbox": CommandEntry(
        "smetsim.commands.sandbox",
        "Start the gateway (DUIS on HTTP) and a fleet of emulated meters, joined by an "
        "in-process WAN; Ctrl-C stops both.",
    ),
    "decode": CommandEntry(
        "smetsim.commands.decode",
        "Decode GBCS messages: use case, parties, counter, MAC and signature status, payload.",
    ),
    "gateway": CommandEntry(
        "smetsim.commands.gateway",
        "Serve DUIS on POST /api/v1/serviceD|serviceS|serviceT and the admin API on one port.",
    ),
    "asn": CommandEntry(
        "smetsim.commands.asn",
        "Advance Shipment Notification files: pre-notify whole shipments.",
    ),
    "request": CommandEntry(
        "smetsim.commands.request",
        "Write a DUIS 5.4 request for a served SR, its values defaulting to the sandbox's home "
        "(send it with 'smetsim send FILE', or 'smetsim send -' from a pipe).",
    ),
    "send": CommandEntry(
        "smetsim.commands.send", "POST FILE to the endpoint of its CommandVariant."
    ),
    "pki": CommandEntry("smetsim.commands.pki", "The sandbox's test PKI."),
    "hil": CommandEntry(
        "smetsim.commands.hil",
        "Hardware in the loop: optical port (IEC 62056-21) and HAN dongle over serial.",
    ),
    "fleet": CommandEntry(
        "smetsim.commands.fleet",
        "Emulated devices: firmware profiles, simulations, snapshots, MQTT fleet workers.",
    ),
    "catalogue": CommandEntry(
        "smetsim.commands.catalogue",
        "Every DUIS 5.4 service request variant: name, served or not, GBCS use cases, pattern.",
    ),
}

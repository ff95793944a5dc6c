"""`smetsim fleet serve`: a fleet worker on an MQTT broker, holding a sandbox's devices.

    smetsim sandbox --state ./state --wan mqtt://127.0.0.1:1883      # the gateway
    smetsim fleet serve --state ./state --broker mqtt://127.0.0.1:1883   # the devices

The worker builds the very devices the sandbox would host (from the state folder's seed and
test PKI, plus ``--devices``/``--suppliers`` as given to the sandbox), serves the hubs of its
partition (``--partition K/N``: the hubs whose EUI hash falls in partition K of N; all by
default) and answers every command published to them. Ctrl-C stops it (its hubs become
unreachable to the gateway at once: E1001).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from emulator.errors import EmulatorError
from gateway.config import ConfigError
from gbcs.eui import eui_duis
from gbcs.keystore import Keystore, KeystoreError
from smetsim.commands._logging import configure_logging
from smetsim.commands._signals import stop_on_signals
from smetsim.commands.fleet import _fail, fleet_app

if TYPE_CHECKING:
    from smetsim.mqtt import Broker


@fleet_app.command("serve")
def serve(
    broker: Annotated[
        str, typer.Option("--broker", help="The MQTT broker: mqtt://HOST[:PORT] (port 1883).")
    ],
    state: Annotated[
        Path,
        typer.Option("--state", help="The sandbox's state folder (its seed and test PKI)."),
    ],
    devices: Annotated[
        int, typer.Option("--devices", min=0, help="Extra ESMEs, as given to the sandbox (0).")
    ] = 0,
    suppliers: Annotated[
        int, typer.Option("--suppliers", min=0, help="Extra suppliers, as given to the sandbox.")
    ] = 0,
    partition: Annotated[
        str, typer.Option("--partition", help="K/N: serve the hubs of partition K of N (0/1).")
    ] = "0/1",
    prefix: Annotated[str, typer.Option("--prefix", help="Topic prefix (smetsim).")] = "smetsim",
    ca: Annotated[
        Path | None, typer.Option("--ca", help="CA certificate (PEM) of an mqtts:// broker.")
    ] = None,
    tick: Annotated[
        float,
        typer.Option("--tick", min=0, help="Seconds between time-driven alert ticks (0: off)."),
    ] = 60.0,
    no_latency: Annotated[
        bool, typer.Option("--no-latency", help="Answer at once (ignore profile latency).")
    ] = False,
    durability: Annotated[
        str,
        typer.Option(
            "--durability",
            help="full: each device change is fsynced before its answer is published; "
            "process: written, not fsynced (a killed worker loses nothing, a power cut may).",
        ),
    ] = "full",
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info or warning.")] = "info",
) -> None:
    """Serve a sandbox's devices on an MQTT broker (the gateway side: sandbox --wan)."""
    configure_logging(log_level)
    try:
        from smetsim.mqtt import MqttError, parse_broker, parse_partition
    except ImportError:
        raise _fail(
            "the MQTT WAN needs aiomqtt: pip install 'smetsim[mqtt]' (make installs it)"
        ) from None
    if durability not in ("full", "process"):
        raise _fail(f"--durability must be full or process, not {durability!r}")
    try:
        where = parse_broker(broker, ca_file=ca)
        part = parse_partition(partition)
    except MqttError as exc:
        raise _fail(str(exc)) from None
    try:
        asyncio.run(
            _serve(state, where, part, prefix, devices, suppliers, tick, not no_latency, durability)
        )
    except (ConfigError, EmulatorError) as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        pass


async def _serve(
    state: Path,
    broker: Broker,
    part: tuple[int, int],
    prefix: str,
    devices: int,
    suppliers: int,
    tick: float,
    latency: bool,
    durability: str,
) -> None:
    import aiomqtt

    from smetsim.device_store import open_device_store
    from smetsim.mqtt import MqttError, MqttFleetWorker, fleet_hubs, partition_of
    from smetsim.sandbox import SandboxSettings, sandbox_fleet

    seed_file, pki = state / "seed", state / "pki"
    if not seed_file.is_file() or not pki.is_dir():
        raise ConfigError(
            f"{str(state)!r} is not a sandbox state folder (no seed or pki/): give the "
            "sandbox's --state (start 'smetsim sandbox --state DIR --wan ...' first)"
        )
    try:
        seed = bytes.fromhex(seed_file.read_text().strip())
        keystore = Keystore.load(pki)
    except (OSError, ValueError, KeystoreError) as exc:
        raise ConfigError(f"cannot read the sandbox keys in {str(state)!r}: {exc}") from None
    base = SandboxSettings.create(state=state, devices=devices, suppliers=suppliers)
    settings = replace(base, latency=latency)
    fleet = sandbox_fleet(settings, keystore, seed)
    store = open_device_store(state, fleet, durability=durability)
    index, count = part
    hubs = {hub for hub in fleet_hubs(fleet) if partition_of(hub, count) == index}
    worker = MqttFleetWorker(
        fleet,
        hubs,
        broker.host,
        broker.port,
        clock=lambda: datetime.now(UTC),
        prefix=prefix,
        tick=tick,
        latency=latency,
        broker=broker,
        store=store,
    )
    try:
        await worker.start()
    except MqttError as exc:
        store.close()
        raise ConfigError(str(exc)) from None
    except aiomqtt.MqttError as exc:
        store.close()
        raise ConfigError(f"cannot reach the MQTT broker {broker.url}: {exc}") from None
    stop = stop_on_signals()
    typer.echo(
        f"smetsim fleet: serving {len(hubs)} hub(s) ({len(fleet)} devices in the fleet) on "
        f"{broker.url} as {worker.identifier}, partition {index}/{count}"
    )
    for hub in sorted(hubs):
        typer.echo(f"  hub {eui_duis(hub)}: topics {prefix}/hub/{hub.hex()}/down and /up/+")
    typer.echo("Ctrl-C stops it.")
    sys.stdout.flush()
    try:
        closed = asyncio.ensure_future(worker.wait_closed())
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({closed, stopping}, return_when="FIRST_COMPLETED")
        for task in (closed, stopping):
            if task not in done:
                task.cancel()
        if closed in done and closed.exception() is not None:
            typer.echo(f"smetsim fleet: the broker connection ended: {closed.exception()}")
    finally:
        await worker.close()
        typer.echo(f"smetsim fleet: stopped ({worker.commands} commands answered)")

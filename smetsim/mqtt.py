"""The MQTT WAN: the gateway and fleet workers meet through a broker (aiomqtt).

The gateway's side is :class:`MqttWan`, a :class:`gbcs.wan.Wan`; the devices' side is
:class:`MqttFleetWorker`, which serves the hubs of an :class:`emulator.fleet.Fleet` (all of
them, or one partition of them by EUI hash, so a large fleet spreads over processes and
machines). Neither knows the other: they share only these topics (``P`` is the prefix,
``smetsim`` by default; EUIs are 16 lowercase hex digits):

=================================  ===============================================================
``P/hub/HUB/down``                 gateway -> hub: one GBCS frame (QoS 1)
``P/hub/HUB/up/SOURCE``            hub -> gateway: a frame from device ``SOURCE`` (QoS 1)
``P/hub/HUB/worker``               retained: the identifier of the worker serving ``HUB``
``P/worker/ID``                    retained: ``online``; the worker's will (or its close) sets
                                   ``offline``
=================================  ===============================================================

A hub is reachable while its worker is ``online``: a send to any other hub fails at once with
:class:`gbcs.wan.HubUnreachableError` (the user gets ``E1001``), and a worker that dies is
reported offline by the broker (its will) within its keep-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import sqlite3
import ssl
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

import aiomqtt

from emulator.errors import EmulatorError
from emulator.fleet import Fleet, Outgoing, partition_of
from gbcs.eui import eui_duis
from gbcs.wan import FrameReceiver, HubUnreachableError
from smetsim.device_store import DeviceStore

logger = logging.getLogger(__name__)

DEFAULT_PREFIX: Final = "smetsim"
DEFAULT_PORT: Final = 1883
KEEPALIVE: Final = 10
"""Seconds: a worker that vanishes is reported offline by the broker within 1.5x this."""
MAX_INFLIGHT: Final = 1024
"""QoS 1 messages a client may have unacknowledged (paho's default, 20, serialises a busy
WAN behind the broker's acknowledgements)."""
ONLINE: Final = b"online"
OFFLINE: Final = b"offline"

_BROKER = re.compile(
    r"^(?:(?P<scheme>mqtts?)://)?(?:(?P<user>[^:@/\s]+)(?::(?P<password>[^@/\s]*))?@)?"
    r"(?P<host>\[[^\]]+\]|[^:/@\s]+)(?::(?P<port>[0-9]{1,5}))?/?$"
)
PASSWORD_VARIABLE: Final = "SMETSIM_MQTT_PASSWORD"
TLS_PORT: Final = 8883
_EUI = re.compile(r"^[0-9a-f]{16}$")


class MqttError(ValueError):
    """A bad MQTT setting: the message names it."""


@dataclass(frozen=True, slots=True)
class Broker:
    """Where the broker is and how to log in: ``mqtt://`` (plain TCP) or ``mqtts://`` (TLS,
    the server's certificate checked against the system's CAs or ``ca_file``)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: Path | None = None

    @property
    def url(self) -> str:
        """The broker's URL, without the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        try:
            return ssl.create_default_context(
                cafile=None if self.ca_file is None else str(self.ca_file)
            )
        except (OSError, ssl.SSLError) as exc:
            raise MqttError(f"CA file {str(self.ca_file)!r} cannot be used: {exc}") from None


def parse_broker(url: str, *, ca_file: Path | None = None) -> Broker:
    """``mqtt[s]://[USER[:PASSWORD]@]HOST[:PORT]`` (or ``HOST[:PORT]``); :class:`MqttError`.

    The port defaults to 1883, or 8883 for ``mqtts``. A user without a password in the URL
    takes it from the ``SMETSIM_MQTT_PASSWORD`` environment variable (so that it is not
    seen in process lists)."""
    match = _BROKER.match(url.strip())
    if match is None:
        raise MqttError(
            f"broker {url!r} is not mqtt[s]://[USER[:PASSWORD]@]HOST[:PORT] "
            "(e.g. mqtt://127.0.0.1:1883)"
        )
    tls = match["scheme"] == "mqtts"
    port = (TLS_PORT if tls else DEFAULT_PORT) if match["port"] is None else int(match["port"])
    if not 0 < port < 65536:
        raise MqttError(f"broker {url!r}: port {port} is not 1 to 65535")
    if ca_file is not None and not tls:
        raise MqttError(f"a CA file is for mqtts:// brokers, not {url!r}")
    username = match["user"]
    password = match["password"]
    if username is not None and password is None:
        password = os.environ.get(PASSWORD_VARIABLE)
    return Broker(match["host"].strip("[]"), port, username, password, tls, ca_file)


def parse_partition(text: str) -> tuple[int, int]:
    """``K/N`` (this worker serves partition K of N, 0 <= K < N) as ``(K, N)``."""
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", text.strip())
    if match is None or not 0 <= int(match[1]) < int(match[2]):
        raise MqttError(f"partition {text!r} is not K/N with 0 <= K < N (e.g. 0/4)")
    return int(match[1]), int(match[2])


def fleet_hubs(fleet: Fleet) -> set[bytes]:
    """The hubs a fleet's devices sit behind (a device without a hub is its own)."""
    hubs: set[bytes] = set()
    for eui in fleet.euis():
        hubs.add(fleet.hub_of(eui))
    return hubs


class _Topics:
    def __init__(self, prefix: str) -> None:
        if not prefix or any(c in prefix for c in "+#\0") or prefix.startswith("/"):
            raise MqttError(f"topic prefix {prefix!r} must be non-empty, without + # or a lead /")
        self.prefix = prefix.rstrip("/")

    def down(self, hub: bytes) -> str:
        return f"{self.prefix}/hub/{hub.hex()}/down"

    def up(self, hub: bytes, source: bytes) -> str:
        return f"{self.prefix}/hub/{hub.hex()}/up/{source.hex()}"

    def hub_worker(self, hub: bytes) -> str:
        return f"{self.prefix}/hub/{hub.hex()}/worker"

    def worker(self, identifier: str) -> str:
        return f"{self.prefix}/worker/{identifier}"

    def parse(self, topic: str) -> list[str] | None:
        """The topic's levels after the prefix, or None when it is not under the prefix."""
        head = self.prefix + "/"
        return topic[len(head) :].split("/") if topic.startswith(head) else None


def _eui(text: str) -> bytes | None:
    return bytes.fromhex(text) if _EUI.match(text) else None


class _Link:
    """One MQTT connection kept up: :meth:`connect` once, then :meth:`run` reads the messages
    and, when the broker goes away, reconnects with back-off (0.5 s doubling to 10 s) and calls
    ``on_connect`` again, as after the first connection (subscriptions, retained state)."""

    def __init__(
        self,
        name: str,
        make_client: Callable[[], aiomqtt.Client],
        on_connect: Callable[[aiomqtt.Client], Awaitable[None]],
        on_message: Callable[[str, bytes], None],
        on_lost: Callable[[], None],
    ) -> None:
        self.name = name
        self.client: aiomqtt.Client | None = None
        self._make_client = make_client
        self._on_connect = on_connect
        self._on_message = on_message
        self._on_lost = on_lost
        self._stack: contextlib.AsyncExitStack | None = None
        self.reconnections = 0

    async def connect(self) -> None:
        """Connect (:class:`aiomqtt.MqttError` when the broker cannot be reached)."""
        stack = contextlib.AsyncExitStack()
        client = self._make_client()
        try:
            await stack.enter_async_context(client)
            await self._on_connect(client)
        except BaseException:
            with contextlib.suppress(aiomqtt.MqttError):
                await stack.aclose()
            _close_socket(client)
            raise
        self._stack, self.client = stack, client

    async def run(self) -> None:
        while True:
            client = self.client
            assert client is not None
            try:
                async for message in client.messages:
                    payload = message.payload
                    if isinstance(payload, bytes | bytearray):
                        self._on_message(str(message.topic), bytes(payload))
            except aiomqtt.MqttError as exc:
                logger.error("%s: lost the MQTT broker: %s (reconnecting)", self.name, exc)
            self.client = None
            self._on_lost()
            await self.drop()
            delay = 0.5
            while True:
                await asyncio.sleep(delay)
                try:
                    await self.connect()
                    break
                except aiomqtt.MqttError:
                    delay = min(delay * 2, 10.0)
            self.reconnections += 1
            logger.warning("%s: reconnected to the MQTT broker", self.name)

    async def drop(self) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await stack.aclose()


def _close_socket(client: aiomqtt.Client) -> None:
    """Close the socket of a client whose connection was refused (a CONNACK saying "not
    authorized" leaves it open: aiomqtt keeps paho's client, which holds it, in ``_client``)."""
    paho = getattr(client, "_client", None)
    sock = None if paho is None else paho.socket()
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


def _client(broker: Broker, identifier: str, will: aiomqtt.Will | None = None) -> aiomqtt.Client:
    client = aiomqtt.Client(
        broker.host,
        broker.port,
        username=broker.username,
        password=broker.password,
        tls_context=broker.tls_context(),
        identifier=identifier,
        keepalive=KEEPALIVE,
        will=will,
        max_inflight_messages=MAX_INFLIGHT,
    )
    client.pending_calls_threshold = MAX_INFLIGHT
    return client


class MqttWan:
    """The gateway's WAN over an MQTT broker. ``await start()`` before use; ``close()``.
    A lost broker makes every hub unreachable until the connection is back (it reconnects
    by itself, and the workers' retained states tell again which hubs are served)."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        prefix: str = DEFAULT_PREFIX,
        identifier: str | None = None,
        broker: Broker | None = None,
    ) -> None:
        """``broker`` (from :func:`parse_broker`) gives the login and TLS; else plain TCP to
        ``host``:``port``."""
        self.broker = broker if broker is not None else Broker(host, port)
        self.host = self.broker.host
        self.port = self.broker.port
        self.topics = _Topics(prefix)
        self.identifier = identifier or f"smetsim-gateway-{secrets.token_hex(4)}"
        self._receiver: FrameReceiver | None = None
        self._hub_worker: dict[bytes, str] = {}
        self._workers: dict[str, bool] = {}
        self._link = _Link(
            f"MQTT WAN {self.broker.url}",
            lambda: _client(self.broker, self.identifier),
            self._subscribe,
            self._on_message,
            self._lost,
        )
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self.received = 0
        self.sent = 0

    @property
    def reconnections(self) -> int:
        return self._link.reconnections

    async def start(self) -> None:
        """Connect and subscribe; :class:`aiomqtt.MqttError` when the broker cannot be reached."""
        await self._link.connect()
        self._reader = asyncio.create_task(self._link.run(), name="mqtt-wan-reader")

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        prefix = self.topics.prefix
        await client.subscribe(
            [(f"{prefix}/hub/+/up/+", 1), (f"{prefix}/hub/+/worker", 1), (f"{prefix}/worker/+", 1)]
        )

    def _lost(self) -> None:
        self._workers.clear()
        self._changed.set()

    def set_receiver(self, receiver: FrameReceiver) -> None:
        self._receiver = receiver

    def reachable(self, hub: bytes) -> bool:
        worker = self._hub_worker.get(hub)
        return worker is not None and self._workers.get(worker, False)

    async def wait_reachable(self, hubs: Collection[bytes], within: float) -> set[bytes]:
        """Wait (at most ``within`` seconds) until every hub of ``hubs`` is reachable; the
        hubs still unreachable then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            missing = {hub for hub in hubs if not self.reachable(hub)}
            left = deadline - loop.time()
            if not missing or left <= 0:
                return missing
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def send(self, hub: bytes, frame: bytes) -> None:
        client = self._link.client
        if client is None:
            raise HubUnreachableError(hub, "the MQTT broker is not connected")
        if not self.reachable(hub):
            raise HubUnreachableError(hub, "no fleet worker serves it on the MQTT broker")
        try:
            await client.publish(self.topics.down(hub), frame, qos=1)
        except aiomqtt.MqttError as exc:
            raise HubUnreachableError(hub, f"the MQTT broker refused the frame: {exc}") from None
        self.sent += 1

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._reader
            self._reader = None
        self._link.client = None
        await self._link.drop()

    def _on_message(self, topic: str, payload: bytes) -> None:
        levels = self.topics.parse(topic)
        if levels is None:
            return
        if len(levels) == 4 and levels[0] == "hub" and levels[2] == "up":
            source = _eui(levels[3])
            if source is not None and self._receiver is not None:
                self.received += 1
                try:
                    self._receiver(source, payload)
                except Exception:  # a failing receiver must not stop the WAN
                    logger.exception("MQTT WAN: the receiver failed on a frame from %s", topic)
        elif len(levels) == 3 and levels[0] == "hub" and levels[2] == "worker":
            hub = _eui(levels[1])
            if hub is not None:
                if payload:
                    self._hub_worker[hub] = payload.decode("utf-8", "replace")
                else:
                    self._hub_worker.pop(hub, None)
                self._changed.set()
        elif len(levels) == 2 and levels[0] == "worker":
            self._workers[levels[1]] = payload == ONLINE
            self._changed.set()


class MqttFleetWorker:
    """Serves ``hubs`` of ``fleet`` on an MQTT broker: each command frame a hub receives is
    delivered to the fleet and every answer published up; alerts the fleet raises as time
    passes (every ``tick`` seconds) go up too. It reconnects by itself after losing the
    broker (which meanwhile tells the gateway, by the worker's will, that it is offline)."""

    def __init__(
        self,
        fleet: Fleet,
        hubs: Collection[bytes],
        host: str,
        port: int = DEFAULT_PORT,
        *,
        clock: Callable[[], datetime],
        prefix: str = DEFAULT_PREFIX,
        identifier: str | None = None,
        tick: float = 0.0,
        latency: bool = False,
        broker: Broker | None = None,
        store: DeviceStore | None = None,
    ) -> None:
        """``store``: where the state of the devices a command changed is saved before their
        answers are published (the worker owns it from here on and closes it)."""
        self.fleet = fleet
        self.store = store
        self.hubs = frozenset(hubs)
        self.broker = broker if broker is not None else Broker(host, port)
        self.host = self.broker.host
        self.port = self.broker.port
        self.clock = clock
        self.topics = _Topics(prefix)
        self.identifier = identifier or f"smetsim-fleet-{secrets.token_hex(4)}"
        self.tick = tick
        self.latency = latency
        status = self.topics.worker(self.identifier)
        self._link = _Link(
            f"fleet worker {self.identifier}",
            lambda: _client(
                self.broker,
                self.identifier,
                aiomqtt.Will(status, OFFLINE, qos=1, retain=True),
            ),
            self._announce,
            self._on_message,
            lambda: None,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: set[asyncio.Task[None]] = set()
        self.commands = 0
        self.answers = 0

    @property
    def reconnections(self) -> int:
        return self._link.reconnections

    async def start(self) -> None:
        """Connect, subscribe to the hubs' commands and say so (retained)."""
        await self._link.connect()
        self._tasks.append(asyncio.create_task(self._link.run(), name="mqtt-fleet-reader"))
        if self.tick > 0:
            self._tasks.append(asyncio.create_task(self._ticks(), name="mqtt-fleet-tick"))

    async def _announce(self, client: aiomqtt.Client) -> None:
        if self.hubs:
            await client.subscribe([(self.topics.down(hub), 1) for hub in sorted(self.hubs)])
        for hub in sorted(self.hubs):
            await client.publish(
                self.topics.hub_worker(hub), self.identifier.encode(), qos=1, retain=True
            )
        await client.publish(self.topics.worker(self.identifier), ONLINE, qos=1, retain=True)

    async def wait_closed(self) -> None:
        """Until :meth:`close` (the worker keeps reconnecting to a lost broker meanwhile)."""
        if self._tasks:
            await self._tasks[0]

    async def close(self) -> None:
        """Say offline (retained), stop serving, disconnect."""
        client = self._link.client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await client.publish(
                    self.topics.worker(self.identifier), OFFLINE, qos=1, retain=True
                )
        for task in [*self._tasks, *self._pending]:
            task.cancel()
        for task in [*self._tasks, *self._pending]:
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task
        self._tasks.clear()
        self._pending.clear()
        self._link.client = None
        await self._link.drop()
        if self.store is not None:
            try:
                # Everything this worker ran (ticks change meters without an alert too).
                self.store.save_fleet(self.fleet, self._own(self.fleet.materialised_euis()))
            except (OSError, sqlite3.Error) as exc:
                logger.warning("device state not saved: %s", exc)
            self.store.close()
            self.store = None

    def _own(self, euis: Iterable[bytes]) -> list[bytes]:
        return [eui for eui in euis if self.fleet.hub_of(eui) in self.hubs]

    def save_touched(self) -> bool:
        """Save the devices the last commands or tick changed; False (logged) when it fails:
        their answers must not be published then."""
        touched = self.fleet.take_touched()
        if self.store is None or not touched:
            return True
        try:
            self.store.save_fleet(self.fleet, self._own(touched))
        except (OSError, sqlite3.Error):
            logger.exception("device state not saved: the answers are held back")
            return False
        return True

    def _on_message(self, topic: str, payload: bytes) -> None:
        levels = self.topics.parse(topic)
        if levels is None or len(levels) != 3 or levels[0] != "hub" or levels[2] != "down":
            return
        hub = _eui(levels[1])
        if hub is None or hub not in self.hubs:
            return
        self.commands += 1
        try:
            answers = self.fleet.deliver(hub, payload, self.clock())
        except EmulatorError as exc:
            logger.warning("hub %s could not deliver a command: %s", eui_duis(hub), exc)
            return
        if answers and self.save_touched():
            for out in answers:
                self._answer(hub, out)

    def _answer(self, hub: bytes, out: Outgoing) -> None:
        # Published from a task of its own: the reader goes on with the next command while
        # the broker acknowledges this answer (tasks start in order, so answers leave in order).
        delay = out.delay if self.latency else 0.0
        task = asyncio.create_task(self._publish_up(hub, out, delay))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish_up(self, hub: bytes, out: Outgoing, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        client = self._link.client
        if client is None:
            logger.error("broker lost: an answer of %s is dropped", eui_duis(out.eui))
            return
        try:
            await client.publish(self.topics.up(hub, out.eui), out.frame, qos=1)
        except aiomqtt.MqttError as exc:
            logger.error("could not publish an answer of %s: %s", eui_duis(out.eui), exc)
            return
        self.answers += 1

    async def _ticks(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            try:
                alerts = self.fleet.advance(self.clock())
                if alerts and not self.save_touched():
                    continue
                for out in alerts:
                    hub = self.fleet.spec(out.eui).hub or out.eui
                    if hub in self.hubs:
                        self._answer(hub, out)
            except Exception:
                logger.exception("fleet tick failed (it will run again)")


__all__ = [
    "DEFAULT_PREFIX",
    "Broker",
    "MqttError",
    "MqttFleetWorker",
    "MqttWan",
    "fleet_hubs",
    "parse_broker",
    "parse_partition",
    "partition_of",
]

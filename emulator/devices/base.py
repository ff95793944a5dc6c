"""What every emulated SMETS2 device does with a GBCS command before acting on it.

A device core is sans-IO: :meth:`Device.handle` takes the bytes of a command, the time
(Unix seconds) and a :class:`DeviceContext` (its keys, lent by the host), and returns the
frames the device sends back - the response, and any alerts. It checks each command the
way a real device does, in this order:

1. the frame decodes as GBCS and is a command addressed to this device;
2. the MAC, between the ACB the device trusts and the device's own KA key;
3. the business originator holds a remote-party role the device trusts, and that role may
   send this use case (ECS42 only from the supplier; ECS17b also from the network
   operator; CCS01 from the ACB);
4. for a critical use case, the signature, with the DS key of the party in that role;
5. the originator counter is strictly greater than the last one accepted from that party.

A command failing a check changes nothing and yields an alert to the supplier (0x8F1E
malformed, 0x8F3D authentication failure, 0x8F30 no authority, 0x8F53 replay or other
authorisation failure): never silence, never an exception. A use case the firmware does
not support, or an action the device refuses (an inconsistent tariff, a used UTRN, an
illegal supply transition), yields an error response. Time-driven state moves first, so
every answer sees the device as it is at ``now``.

Device objects are the state: slots dataclasses, small enough for a hundred thousand in
one process. Handlers are registered per class against message codes (a read-only
table), not per instance. The context parameter (:class:`DeviceContext`) is the host's
loan of keys and neighbours for the one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Self

from emulator.clock import from_seconds
from emulator.devices.families import (
    FAMILY_ALERT_CONTENT,
    FAMILY_ALERT_FILTERS,
    FAMILY_HANDLERS,
    FAMILY_OBSERVERS,
    FAMILY_SEALED_ALERT_CONTENT,
    Alert,
    Handler,
    Reply,
    _observe,
)
from emulator.devices.header_time import DATED_RESPONSES, device_now
from emulator.devices.trust import (
    AUTHORITY,
    DEFAULT_TRUST,
    DeviceContext,
    Trust,
)
from emulator.errors import CommandError, TransitionError
from emulator.firmware import FirmwareProfile, FirmwareVersion
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import (
    CRA,
    RemotePartyRole,
)
from gbcs.devices import DeviceType
from gbcs.errors import DecodeError, GbcsError
from gbcs.frames import Message
from gbcs.usecases import (
    GENERIC_CRITICAL_ALERT,
    GENERIC_NON_CRITICAL_ALERT,
    USE_CASES,
    UseCase,
    use_case,
)
from gbcs.verify import Check

Role = RemotePartyRole

ECS100 = 0x0120
"""Message code of the Command not supported by Device alert."""


class NotSupportedError(CommandError):
    """A use case the device's firmware does not support (an error response; an ESME alerts
    0x8F85 too)."""


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """How a fleet will create a device on first use. Immutable: a hundred thousand devices
    added with the same settings share one spec."""

    profile: FirmwareProfile
    firmware: str | None = None
    """Firmware version at first use; None: the profile's initial firmware."""
    trust: Trust = DEFAULT_TRUST
    hub: bytes | None = None
    """The CHF the device joins (the GPF and the CHF of one hub name each other)."""
    partner: bytes | None = None
    """GPF <-> GSME pairing: whose registers the GPF mirrors."""
    prepayment: bool = False
    balance: int = 0
    """Initial credit, milli-pence (prepayment meters)."""
    shape: str | None = None
    """Load shape name; None: the default for the fuel."""


class Refusal(IntEnum):
    """Why a command was refused before any use case ran; the value is the alert code."""

    MALFORMED = AlertCode.INTEGRITY_CHECK_OF_COMMAND_FAILED
    AUTHENTICATION = AlertCode.TRUSTED_SOURCE_AUTHENTICATION_FAILURE
    NO_AUTHORITY = AlertCode.SOURCE_HAS_NO_AUTHORITY
    REPLAY = AlertCode.FAILED_AUTHENTICATION_OR_AUTHORISATION
    NOT_FOR_ME = AlertCode.UNAUTHORISED_COMMUNICATION_ACCESS


# -- the device ----------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Device:
    """State and behaviour shared by every emulated device."""

    eui: bytes
    profile: FirmwareProfile
    firmware: FirmwareVersion
    created: int
    """Unix seconds when the state was created (first use)."""
    alert_counter: int
    """The device's own originator counter for alerts; only ever increases."""
    trust: Trust = DEFAULT_TRUST
    counters: dict[bytes, int] | None = None
    """Last originator counter accepted from each remote party (created on first command)."""
    clock_offset: int = 0
    """Device clock minus host clock, seconds (ECS70 / GCS28 set it)."""
    commissioned: bool = False
    staged_image: bytes | None = None
    """SHA-256 of the firmware image received and verified, awaiting CS06 activation."""
    pending_activation: tuple[bytes, int, int] | None = None
    """A future-dated CS06: (image hash, when (Unix seconds), the command's counter)."""
    log: list[str] | None = None
    """The device's security / event log: most recent entries (allocated when first used)."""
    queued: list[Alert] | None = None
    """Alerts raised while the device had no way to send them (woken by a neighbour)."""
    extra: dict[str, Any] | None = None
    """The state of the use-case families of :mod:`emulator.usecases`, one JSON-ready value
    per family name (allocated when a family first keeps something)."""

    DEVICE_TYPE: ClassVar[DeviceType]
    HANDLERS: ClassVar[Mapping[int, Handler]] = {}
    LOG_LENGTH: ClassVar[int] = 32

    @classmethod
    def create(cls, eui: bytes, spec: DeviceSpec, now: int, key: int) -> Self:
        """A device in its factory state at ``now``; ``key`` drives everything random about
        it (see :func:`emulator.profiles.device_key`)."""
        return cls.made(eui, spec, now)

    @classmethod
    def made(cls, eui: bytes, spec: DeviceSpec, now: int, **own: Any) -> Self:
        """A device with the fields every kind starts with, and ``own`` (what a kind's
        ``create`` adds). Positional, not a dict of fields: a fleet makes device states by
        the hundred thousand."""
        profile = spec.profile
        firmware = profile.version(spec.firmware or profile.initial_firmware)
        return cls(eui, profile, firmware, now, initial_alert_counter(now), spec.trust, **own)

    # -- public API ------------------------------------------------------------------------

    def handle(self, frame: bytes | Message, now: int, ctx: DeviceContext) -> list[bytes]:
        """Process one GBCS frame received at ``now`` (Unix seconds); the frames to send.
        (A host that decoded the frame already may pass the :class:`Message`.)"""
        return [m.to_bytes() for m in self.handle_message(frame, now, ctx)]

    def handle_message(self, frame: bytes | Message, now: int, ctx: DeviceContext) -> list[Message]:
        due = self.due_alerts(now)
        out = self.seal(due, now, ctx) if due else []
        if isinstance(frame, Message):
            command = frame
        else:
            try:
                command = Message.from_bytes(frame)
            except DecodeError as exc:
                self._log(f"malformed frame: {exc}")
                return out + self.seal([Alert(Refusal.MALFORMED)], now, ctx)
        refusal = self._admit(command, ctx)
        if refusal is not None:
            self._log(
                f"refused {command.message_code:#06x} counter "
                f"{command.originator_counter}: {refusal.name.lower()}"
            )
            if FAMILY_OBSERVERS:
                _observe(self, "refused", int(refusal), now)
            return out + self.seal([Alert(refusal)], now, ctx)
        uc = USE_CASES[command.message_code]  # _admit refuses unknown codes
        try:
            reply = self._run(uc, command, now, ctx)
            if FAMILY_OBSERVERS:
                _observe(self, "command", command.message_code, now)
        except (CommandError, TransitionError) as exc:
            self._log(f"{uc.name} refused: {exc}")
            reply = Reply(
                self.error_content(command, uc, exc), alerts=self._alerts_of(exc, command)
            )
        except (GbcsError, ValueError) as exc:
            self._log(f"{uc.name} content not understood: {exc}")
            reply = Reply(self.error_content(command, uc, exc))
        date_time = reply.date_time
        if date_time is None and command.message_code in DATED_RESPONSES:
            date_time = device_now(self, now)  # success and error alike
        response = ctx.builder.response(
            command,
            reply.content,
            critical=uc.critical,
            encrypt=reply.encrypt,
            extensions=reply.extensions,
            date_time=date_time,
        )
        if reply.alerts:
            return [*out, response, *self.seal(reply.alerts, now, ctx)]
        out.append(response)
        return out

    has_clock_state: ClassVar[bool] = False
    """Whether :meth:`tick` has anything to do without a command (meters do)."""

    @property
    def has_timed_work(self) -> bool:
        """Whether letting time pass may do something (a host may skip the others)."""
        return self.has_clock_state or self.pending_activation is not None or bool(self.queued)

    def tick(self, now: int) -> list[Alert]:
        """Let time pass up to ``now``; the alerts that raises (here: a future-dated
        firmware activation falling due)."""
        pending = self.pending_activation
        if pending is not None and self.device_time(now) >= pending[1]:
            self.pending_activation = None
            return [self._future_activation(pending, now)]
        return []

    def advance(self, now: int, ctx: DeviceContext) -> list[bytes]:
        """Let time pass; the alert frames it produces (for the host's periodic tick)."""
        return [m.to_bytes() for m in self.seal(self.due_alerts(now), now, ctx)]

    def due_alerts(self, now: int) -> list[Alert]:
        """Alerts queued earlier, then those that time passing up to ``now`` raises."""
        queued = self.queued
        if queued is None:
            return self.tick(now)
        self.queued = None
        return queued + self.tick(now)

    def wake(self, now: int) -> None:
        """Catch up with time without sending (a neighbour woke the device): the alerts
        this raises wait for the device's next message."""
        alerts = self.tick(now)
        if alerts:
            self.queued = (self.queued or []) + alerts

    def device_time(self, now: int) -> int:
        """What the device's own clock says at host time ``now``."""
        return now + self.clock_offset

    @property
    def supported(self) -> frozenset[str]:
        return self.firmware.use_cases

    # -- the checks ------------------------------------------------------------------------

    def _admit(self, command: Message, ctx: DeviceContext) -> Refusal | None:
        if command.cra is not CRA.COMMAND:
            return Refusal.MALFORMED
        if command.business_target != self.eui:
            return Refusal.NOT_FOR_ME
        if command.mac is None or ctx.verifier.verify_mac(command) is not Check.VALID:
            return Refusal.AUTHENTICATION
        role = self.trust.role_of(command.business_originator)
        uc = use_case(command.message_code)
        if uc is None or uc.alert:
            return Refusal.MALFORMED
        allowed = _authority(uc)
        if role is None or (allowed is not None and role not in allowed):
            return Refusal.NO_AUTHORITY
        if uc.critical and ctx.verifier.verify_signature(command) is not Check.VALID:
            return Refusal.AUTHENTICATION
        counters = self.counters
        last = None if counters is None else counters.get(command.business_originator)
        if last is not None and command.originator_counter <= last:
            return Refusal.REPLAY
        if counters is None:
            self.counters = counters = {}
        counters[command.business_originator] = command.originator_counter
        return None

    def _run(self, uc: UseCase, command: Message, now: int, ctx: DeviceContext) -> Reply:
        handler = self.HANDLERS.get(command.message_code) or FAMILY_HANDLERS.get(
            (self.DEVICE_TYPE, command.message_code)
        )
        if handler is None or _names(uc).isdisjoint(self.supported):
            raise NotSupportedError(
                f"{uc.name} is not supported by firmware {self.firmware.version}"
            )
        return handler(self, command, now, ctx)

    # -- alerts ----------------------------------------------------------------------------

    def _alerts_of(self, error: Exception, command: Message) -> list[Alert]:
        """The alerts refusing ``command`` raises: the error's own, or - a use case the
        ESME's firmware does not support - 0x8F85 (ECS100) naming the command's message code
        and originator counter."""
        code = getattr(error, "alert_code", 0)
        if code:
            return [Alert(code)]
        if isinstance(error, NotSupportedError) and self.DEVICE_TYPE is DeviceType.ESME:
            named = command.message_code.to_bytes(2, "big") + command.originator_counter.to_bytes(
                8, "big"
            )
            # A command the ACB sent for a supplementary remote party: the alert names that
            # party and its counter as the command did, and goes to the ACB, which forwards it
            # to that party (GBCS; the DCC's vector).
            srp = command.extensions[:16] if len(command.extensions) >= 16 else b""
            return [
                Alert(
                    AlertCode.COMMAND_NOT_SUPPORTED,
                    message_code=ECS100,
                    detail=named,
                    target=self.trust.acb if srp else None,
                    extensions=srp,
                )
            ]
        return []

    def next_alert_counter(self) -> int:
        self.alert_counter += 1
        return self.alert_counter

    def seal(self, alerts: list[Alert], now: int, ctx: DeviceContext) -> list[Message]:
        sealed = []
        for alert in alerts:
            if FAMILY_OBSERVERS:
                _observe(self, "alert", alert.code, now)
            if self.extra and not all(f(self, alert) for f in FAMILY_ALERT_FILTERS):
                continue
            critical = alert.is_critical
            code = alert.message_code or (
                GENERIC_CRITICAL_ALERT if critical else GENERIC_NON_CRITICAL_ALERT
            )
            counter = self.next_alert_counter()
            content = alert.content
            if content is None:
                writer = FAMILY_ALERT_CONTENT.get(code)
                sealing = FAMILY_SEALED_ALERT_CONTENT.get(code)
                if sealing is not None:
                    content = sealing(self, alert, counter, now, ctx)
                elif writer is None:
                    content = self.alert_content(alert, counter, now)
                else:
                    content = writer(self, alert, counter, now)
            if alert.target is not None:
                target = alert.target
            elif alert.network_operator:
                target = self.trust.network_operator
            else:
                target = self.trust.supplier
            sealed.append(
                ctx.builder.alert(
                    device=self.eui,
                    target=target,
                    counter=counter,
                    message_code=code,
                    content=content,
                    critical=critical,
                    extensions=alert.extensions,
                )
            )
        return sealed

    def _log(self, entry: str) -> None:
        if self.log is None:
            self.log = []
        self.log.append(entry)
        if len(self.log) > self.LOG_LENGTH:
            del self.log[0]

    # -- firmware --------------------------------------------------------------------------

    def receive_image(self, image: bytes, now: int, ctx: DeviceContext) -> list[Message]:
        """An image arrives over the HAN: verify it, stage it, answer with the receipt."""
        out = self.seal(self.due_alerts(now), now, ctx)
        digest = c.image_hash(image)
        candidate = self.profile.version_for_hash(digest)
        ok = candidate is not None and self._may_install(candidate)
        if ok:
            self.staged_image = digest
            self._log(f"firmware image {digest.hex()[:16]} verified")
        else:
            self._log(f"firmware image {digest.hex()[:16]} failed verification")
        return out + self.seal([self.firmware_receipt(ok, digest, now)], now, ctx)

    def _may_install(self, candidate: FirmwareVersion) -> bool:
        if candidate.version == self.firmware.version:
            return False
        return not candidate.upgrades_from or self.firmware.version in candidate.upgrades_from

    def firmware_receipt(self, ok: bool, digest: bytes, now: int) -> Alert:
        """The firmware distribution receipt (0x8F72 verified / 0x8F1C failed)."""
        raise NotImplementedError

    def activate_firmware(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """CS06: switch to the staged image (now, or at the time the command names)."""
        cmd = c.ActivateFirmware.decode(command.content)
        if cmd.counter != command.originator_counter:
            raise CommandError("CS06: the content's counter is not the command's")
        if self.staged_image != cmd.image_hash:
            self._log("CS06 names an image that was not received and verified")
            failed = c.FirmwareActivated(1, self.firmware.version_bytes)
            return Reply(failed.encode())
        if cmd.at is not None:
            at = int(cmd.at.timestamp())
            if at > self.device_time(now):
                self.pending_activation = (cmd.image_hash, at, command.originator_counter)
                return Reply(c.FirmwareActivationScheduled().encode())
        result, alerts = self._switch_firmware(cmd.image_hash)
        return Reply(result.encode(), alerts=alerts)

    def _switch_firmware(self, image_hash: bytes) -> tuple[c.FirmwareActivated, list[Alert]]:
        version = self.profile.version_for_hash(image_hash)
        if version is None or self.staged_image != image_hash:
            return c.FirmwareActivated(1, self.firmware.version_bytes), []
        before = self.firmware
        self.firmware = version
        self.staged_image = None
        variant = (
            f", ESME variant {before.esme_variant} -> {version.esme_variant}"
            if before.esme_variant != version.esme_variant
            else ""
        )
        self._log(f"firmware {before.version} -> {version.version}{variant}")
        return c.FirmwareActivated(0, version.version_bytes), [
            Alert(AlertCode.CHANGE_IN_EXECUTING_FIRMWARE_VERSION)
        ]

    def _future_activation(self, pending: tuple[bytes, int, int], now: int) -> Alert:
        image_hash, at, counter = pending
        result, _ = self._switch_firmware(image_hash)
        alert = c.FutureDatedFirmwareAlert(result.ok, from_seconds(at), counter, result)
        return Alert(
            0x8F66 if result.ok else 0x8F67,
            message_code=c.FutureDatedFirmwareAlert.message_code,
            content=alert.encode(),
        )

    def press_button(self, now: int, ctx: DeviceContext) -> list[Message]:
        """The consumer presses the device's button (only meters have one that matters)."""
        return self.seal(self.due_alerts(now), now, ctx)

    # -- per device type -------------------------------------------------------------------

    def alert_content(self, alert: Alert, counter: int, now: int) -> bytes:
        """The content of a standard alert (DLMS for ESME and CHF, GBZ for GSME and GPF)."""
        raise NotImplementedError

    def error_content(self, command: Message, uc: UseCase, error: Exception) -> bytes:
        """The content of an error response to ``command``."""
        raise NotImplementedError

    # -- snapshot --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.DEVICE_TYPE.value,
            "eui": self.eui.hex(),
            "profile": self.profile.name,
            "firmware": self.firmware.version,
            "created": self.created,
            "alert_counter": self.alert_counter,
            "trust": self.trust.to_json(),
            "counters": None
            if self.counters is None
            else {k.hex(): v for k, v in self.counters.items()},
            "clock_offset": self.clock_offset,
            "commissioned": self.commissioned,
            "staged_image": None if self.staged_image is None else self.staged_image.hex(),
            "pending_activation": None
            if self.pending_activation is None
            else [
                self.pending_activation[0].hex(),
                self.pending_activation[1],
                self.pending_activation[2],
            ],
            "log": self.log,
            "queued": None if self.queued is None else [_alert_json(a) for a in self.queued],
            "extra": self.extra,
        }

    def restore_json(self, data: Mapping[str, Any]) -> None:
        """Overwrite the common state from a snapshot (subclasses restore their own)."""
        self.firmware = self.profile.version(str(data["firmware"]))
        self.created = int(data["created"])
        self.alert_counter = int(data["alert_counter"])
        self.trust = Trust.from_json(data["trust"])
        counters = data["counters"]
        self.counters = (
            None if counters is None else {bytes.fromhex(k): int(v) for k, v in counters.items()}
        )
        self.clock_offset = int(data["clock_offset"])
        self.commissioned = bool(data["commissioned"])
        staged = data["staged_image"]
        self.staged_image = None if staged is None else bytes.fromhex(staged)
        pending = data["pending_activation"]
        self.pending_activation = (
            None
            if pending is None
            else (bytes.fromhex(pending[0]), int(pending[1]), int(pending[2]))
        )
        log = data["log"]
        self.log = None if log is None else [str(e) for e in log]
        queued = data.get("queued")
        self.queued = None if queued is None else [_alert_from_json(a) for a in queued]
        extra = data.get("extra")
        self.extra = None if extra is None else dict(extra)

    def family_state(self, family: str) -> dict[str, Any]:
        """The JSON-ready state a use-case family keeps on this device (created empty)."""
        if self.extra is None:
            self.extra = {}
        state: dict[str, Any] = self.extra.setdefault(family, {})
        return state

    def log_state(self, family: str) -> dict[str, Any]:
        """A family's state (created empty) taken to write a log no family ticker reads:
        unlike :meth:`family_state`, taking it does not make a meter run its tickers at the
        next tick (a log of every command would otherwise run them on every one)."""
        return Device.family_state(self, family)


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "code": alert.code,
        "message_code": alert.message_code,
        "content": None if alert.content is None else alert.content.hex(),
        "critical": alert.critical,
        "detail": alert.detail.hex(),
        "network_operator": alert.network_operator,
        "target": None if alert.target is None else alert.target.hex(),
        "extensions": alert.extensions.hex(),
    }


def _alert_from_json(data: Mapping[str, Any]) -> Alert:
    content = data["content"]
    critical = data["critical"]
    return Alert(
        int(data["code"]),
        int(data["message_code"]),
        None if content is None else bytes.fromhex(content),
        None if critical is None else bool(critical),
        bytes.fromhex(data["detail"]),
        bool(data.get("network_operator", False)),
        None if data.get("target") is None else bytes.fromhex(data["target"]),
        bytes.fromhex(data.get("extensions", "")),
    )


def initial_alert_counter(now: int) -> int:
    """A new device's alert counter: milliseconds since the epoch (as DCC tools count), so
    that a re-created device never reuses a counter its predecessor sent."""
    return now * 1000


def _authority(uc: UseCase) -> frozenset[RemotePartyRole] | None:
    try:
        return _AUTHORITY_BY_CODE[uc.code]
    except KeyError:
        pass
    found = None
    for name in uc.names:
        roles = AUTHORITY.get(name)
        if roles is not None:
            found = roles
            break
    _AUTHORITY_BY_CODE[uc.code] = found
    return found


_AUTHORITY_BY_CODE: dict[int, frozenset[RemotePartyRole] | None] = {}
""":func:`_authority` by message code (AUTHORITY is a read-only table)."""

_NAMES_BY_CODE: dict[int, frozenset[str]] = {}
"""Each use case's GBCS names by message code, as a set (for the firmware check)."""


def _names(uc: UseCase) -> frozenset[str]:
    names = _NAMES_BY_CODE.get(uc.code)
    if names is None:
        names = _NAMES_BY_CODE[uc.code] = frozenset(uc.names)
    return names


def when(now: int) -> str:
    """ISO text of Unix seconds (for logs)."""
    return from_seconds(now).isoformat()

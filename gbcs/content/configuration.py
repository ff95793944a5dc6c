"""Device configuration: ECS70 / GCS28 (set the ESME / GSME clock), and the DLMS settings
commands of the configuration and load-control families (:class:`DeviceSettings`)."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import partial
from typing import ClassVar, Final

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    _check_exact,
    _counter_of,
    _int,
    _items,
    _parse_request,
    _parse_response,
    _request,
    _sequence,
    _stamp,
    _when,
    register,
)
from gbcs.errors import DecodeError
from gbcs.payloads import asn1, dlms, gbz
from gbcs.payloads.dlms import (
    NULL,
    AccessKind,
    AccessResponse,
    AccessResult,
    AccessSpec,
    CosemDateTime,
    Data,
)
from gbcs.payloads.gbz import CONTROL_LAST, GbzComponent, GbzPayload, ZclFrame

# =========================================================================== ECS70 / GCS28

CLOCK = "0-0:1.0.0.255"


@dataclass(frozen=True, slots=True)
class SetClock(DlmsCommand):
    """ECS70 Set Clock on ESME (also the commissioning step of SR 8.1.1; the bytes are the
    same, the gateway knows which SR it serves).

    IC 8 clock: set ``clock_base``, ``preset_adjusting_time`` (preset time not specified,
    validity interval ``valid_from`` .. ``valid_to``), ``adjust_to_preset_time``, then read
    back ``time`` and ``status``. The ESME takes its time from the comms hub and only adjusts
    when that time is inside the validity interval.
    """

    counter: int
    valid_from: _dt.datetime
    valid_to: _dt.datetime
    clock_base: int = 5
    message_code: ClassVar[int] = 0x0062

    @classmethod
    def around(
        cls, counter: int, now: _dt.datetime, tolerance: _dt.timedelta = _dt.timedelta(seconds=10)
    ) -> SetClock:
        """Valid from ``now - tolerance`` to ``now + tolerance`` (whole seconds)."""
        now = now.replace(microsecond=0)
        return cls(counter, now - tolerance, now + tolerance)

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(8, CLOCK, 9),
            dlms.action(8, CLOCK, 5),
            dlms.action(8, CLOCK, 4),
            dlms.get(8, CLOCK, 2),
            dlms.get(8, CLOCK, 4),
        )

    def encode(self) -> bytes:
        preset = dlms.structure(
            dlms.octet_string(CosemDateTime.UNSPECIFIED),
            _stamp(self.valid_from),
            _stamp(self.valid_to),
        )
        data: list[Data] = [dlms.enum(self.clock_base), preset, dlms.integer(0), NULL, NULL]
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> SetClock:
        specs = cls(0, _EPOCH, _EPOCH).specs()
        counter, data = _parse_request(content, specs)
        _, start, end = _items(data[1], "preset_adjusting_time", 3)
        return cls(
            counter,
            _when(start, "validity interval start"),
            _when(end, "validity interval end"),
            _int(data[0], "clock_base", dlms.DataType.ENUM),
        )

    def accepts(self, clock: _dt.datetime) -> bool:
        """Whether a device whose time source says ``clock`` adjusts (inside the interval)."""
        return self.valid_from <= clock <= self.valid_to


_EPOCH = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)


@dataclass(frozen=True, slots=True)
class ClockSet:
    """ECS70 response: the four write/action results and the clock read back (``time`` and
    ``status``; None where the read failed, sent as null-data)."""

    counter: int
    clock: _dt.datetime | None
    status: int | None = 0
    results: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    _KINDS: ClassVar[tuple[AccessKind, ...]] = (
        AccessKind.SET,
        AccessKind.ACTION,
        AccessKind.ACTION,
        AccessKind.GET,
        AccessKind.GET,
    )

    @classmethod
    def for_command(
        cls,
        command: SetClock,
        clock: _dt.datetime | None,
        *,
        status: int | None = 0,
        results: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0),
    ) -> ClockSet:
        return cls(command.counter, clock, status, results)

    @property
    def ok(self) -> bool:
        return not any(self.results)

    def encode(self) -> bytes:
        data: list[Data] = [NULL, NULL, NULL]
        data.append(NULL if self.clock is None else _stamp(self.clock))
        data.append(NULL if self.status is None else dlms.unsigned(self.status))
        results = tuple(AccessResult(k, r) for k, r in zip(self._KINDS, self.results, strict=True))
        return AccessResponse(dlms.invoke_id_for(self.counter), tuple(data), results).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ClockSet:
        apdu = _parse_response(content, cls._KINDS)
        clock = None if apdu.data[3] == NULL else _when(apdu.data[3], "clock")
        status = None if apdu.data[4] == NULL else _int(apdu.data[4], "clock status")
        r = tuple(x.result for x in apdu.results)
        return cls(_counter_of(apdu.invoke_id), clock, status, (r[0], r[1], r[2], r[3], r[4]))


@dataclass(frozen=True, slots=True)
class SetGasClock:
    """GCS28 Set Clock on GSME (also GSME commissioning): ASN.1
    ``SEQUENCE { validityIntervalStart GeneralizedTime, validityIntervalEnd GeneralizedTime }``."""

    valid_from: _dt.datetime
    valid_to: _dt.datetime
    message_code: ClassVar[int] = 0x007F

    @classmethod
    def around(
        cls, now: _dt.datetime, tolerance: _dt.timedelta = _dt.timedelta(minutes=30)
    ) -> SetGasClock:
        now = now.replace(microsecond=0)
        return cls(now - tolerance, now + tolerance)

    def encode(self) -> bytes:
        return asn1.der_sequence(
            asn1.der_generalized_time(self.valid_from), asn1.der_generalized_time(self.valid_to)
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> SetGasClock:
        node = _sequence(content, 2)
        return cls(node.child(0).time_value(), node.child(1).time_value())

    def accepts(self, clock: _dt.datetime) -> bool:
        return self.valid_from <= clock <= self.valid_to


@dataclass(frozen=True, slots=True)
class GasClockSet:
    """GCS28 response: ``SEQUENCE { GSME time GeneralizedTime, outcome INTEGER }``
    (0 success; the reference error response carries 2)."""

    clock: _dt.datetime
    outcome: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == 0

    def encode(self) -> bytes:
        return asn1.der_sequence(
            asn1.der_generalized_time(self.clock), asn1.der_integer(self.outcome)
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GasClockSet:
        node = _sequence(content, 2)
        return cls(node.child(0).time_value(), node.child(1).int_value())


# =========================================================================== settings

SETTINGS_OBJECTS: Final[dict[int, re.Pattern[str]]] = {
    code: re.compile(pattern)
    for code, pattern in {
        # ECS28a: the load-limit supply state, power threshold, period and restoration period
        # (future-dated configuration objects: the value, then its activation date-time).
        0x0043: r"set 9000 0-0:94\.44\.(0\.3|128\.[678])/[46]",
        # ECS28b: reset the load-limit counter.
        0x0044: r"action 3 0-0:94\.44\.42\.255/1",
        # ECS29a-d: RMS limiters, average-RMS thresholds and profile periods, counter resets.
        0x0045: r"set 7 1-0:32\.24\.0\.255/4|set 71 0-0:17\.0\.[1-4]\.255/[46]"
        r"|set 1 1-0:32\.3[15]\.0\.4/2|action 3 1-0:32\.3[26]\.0\.4/1",
        0x00AE: r"set 7 1-0:[357]2\.24\.0\.255/4|set 71 0-0:17\.0\.[1-4]\.255/[46]"
        r"|set 1 1-0:[357]2\.3[15]\.0\.4/2|action 3 1-0:[357]2\.3[26]\.0\.4/1",
        0x00D1: r"set 7 1-0:32\.24\.0\.255/4|set 71 0-0:17\.0\.[1-4]\.255/[46]"
        r"|set 1 1-0:32\.3[15]\.0\.4/2",
        0x00D2: r"set 7 1-0:[357]2\.24\.0\.255/4|set 71 0-0:17\.0\.[1-4]\.255/[46]"
        r"|set 1 1-0:[357]2\.3[15]\.0\.4/2",
        # ECS29e / ECS29f: reset the RMS voltage counters.
        0x00D3: r"action 3 1-0:32\.3[26]\.0\.4/1",
        0x00D4: r"action 3 1-0:[357]2\.3[26]\.0\.4/1",
        # ECS30 / ECS30a: the billing single-action schedule's execution times.
        0x0046: r"set 22 0-0:15\.0\.0\.255/4",
        0x00D7: r"set 22 0-0:15\.0\.0\.255/4",
        # ECS34: the instantaneous power thresholds (register monitor).
        0x0047: r"set 21 0-0:16\.0\.0\.255/2",
        # ECS37: the maximum demand configurable period (schedule).
        0x004A: r"set 10 0-0:12\.0\.0\.255/2",
        # ECS39a / ECS39b: import / export MPAN.
        0x004C: r"set 1 0-0:94\.44\.34\.11/2",
        0x004D: r"set 1 1-0:0\.0\.2\.255/2",
        # ECS46a: the HC ALCS / ALCS labels.
        0x0053: r"set 1 0-0:94\.44\.0\.1[1-5]/2",
        # ECS46c: switch types, the special days and switching schedule, their activation.
        0x0054: r"set 1 0-0:94\.44\.0\.2[1-5]/2|set 11 0-1:11\.0\.3\.255/2"
        r"|set 10 0-1:12\.0\.2\.255/2|set 9000 0-0:94\.44\.128\.(26|35)/6",
        # ECS47: activate / deactivate (with a duration) or reset an ALCS / HC ALCS.
        0x0055: r"set 1 0-0:94\.44\.1(1[7-9]|2[01])\.[12]/2|action 9 0-0:10\.0\.103\.255/1",
        # ECS46d: the auxiliary controllers' special days and calendar, as ECS46c's (the
        # pending 0-1 pair and its activation; the active 0-0 pair is what ECS61d reads).
        0x011A: r"set 11 0-1:11\.0\.3\.255/2|set 10 0-1:12\.0\.2\.255/2"
        r"|set 9000 0-0:94\.44\.128\.(26|35)/6",
        # ECS47a: set an auxiliary controller's commanded state from a start to an end.
        0x011E: r"set 1 0-0:94\.44\.1(1[7-9]|2[01])\.[12]/2|action 9 0-0:10\.0\.103\.255/1",
        # ECS47e: limit an APC level for a period.
        0x011F: r"set 1 0-0:94\.44\.1(1[7-9]|2[01])\.[34]/2|action 9 0-0:10\.0\.107\.255/1",
        # ECS38: the randomised offset limit (the third of ECS26c's values).
        0x004B: r"set 1 0-0:94\.44\.0\.1/2",
        # ECS81: the supply tamper state (the object ECS26m reads back).
        0x0068: r"set 1 0-0:94\.44\.0\.4/2",
        # ECS57: reset maximum demand registers.
        0x005A: r"action 4 1-0:[12]\.6\.[01]\.255/1",
        # DBCH04: the CHF's Sub GHz configuration.
        0x010D: r"set 1 0-0:94\.44\.10\.0/2",
        # DBCH05: ask the CHF for a Sub GHz channel scan.
        0x010E: r"set 1 0-0:94\.44\.10\.1/2",
        # ECS62: boost button association of each ALCS.
        0x005F: r"set 1 0-0:94\.44\.6\.[1-5]/2",
    }.items()
}
"""The objects each settings use case may address (``kind class obis/index``): a command
addressing any other is not that use case's."""


def spec_key(spec: AccessSpec) -> str:
    """``set 1 0-0:94.44.6.1/2``: how a settings object is named, here and in device state."""
    return f"{spec.kind.name.lower()} {spec.class_id} {spec.obis}/{spec.index}"


@dataclass(frozen=True, slots=True)
class DeviceSettings:
    """A DLMS command of the configuration and load-control families that writes settings
    and runs actions, answered by an :class:`Outcome` (null-data and one result each): ECS28a/b,
    ECS29a-f, ECS30/30a, ECS34, ECS37, ECS38, ECS39a/b, ECS46a/c/d, ECS47/47a/47e, ECS57, ECS62,
    ECS81, DBCH04/05. The
    objects and values are the gateway's to choose (from the DUIS body); the decoder checks
    that every object addressed is one of the use case's (:data:`SETTINGS_OBJECTS`)."""

    message_code: int
    counter: int
    writes: tuple[tuple[AccessSpec, Data], ...]

    def specs(self) -> tuple[AccessSpec, ...]:
        return tuple(s for s, _ in self.writes)

    def kinds(self) -> tuple[AccessKind, ...]:
        return tuple(s.kind for s, _ in self.writes)

    def encode(self) -> bytes:
        allowed = SETTINGS_OBJECTS[self.message_code]
        for spec, _ in self.writes:
            if allowed.fullmatch(spec_key(spec)) is None:
                raise DecodeError(f"0x{self.message_code:04X} does not address {spec_key(spec)}")
        return _request(self.counter, self.specs(), [d for _, d in self.writes])

    @classmethod
    def decode_as(cls, code: int, content: bytes) -> DeviceSettings:
        apdu = dlms.decode_dlms(content)
        if not isinstance(apdu, dlms.AccessRequest) or apdu.date_time:
            raise DecodeError("expected a DLMS Access-Request without a date-time")
        if not apdu.specs or len(apdu.data) != len(apdu.specs):
            raise DecodeError(f"{len(apdu.data)} data values for {len(apdu.specs)} requests")
        found = cls(
            code, _counter_of(apdu.invoke_id), tuple(zip(apdu.specs, apdu.data, strict=True))
        )
        if found.encode() != content:
            raise DecodeError("settings content is not in the form GBCS devices send")
        return found

    def outcome(self, result: int = 0) -> Outcome:
        """The response: ``result`` for every request (0 success)."""
        return Outcome(self.counter, tuple(AccessResult(k, result) for k in self.kinds()))


# =========================================================================== gas settings

GAS_SETTINGS_CALLS: Final[dict[int, frozenset[tuple[int, int]]]] = {
    # GCS23: PublishConversionFactor (0x02), PublishCalorificValue (0x03) - Price cluster.
    0x007C: frozenset({(0x0700, 0x02), (0x0700, 0x03)}),
    # GCS24 / GCS24a: SetUncontrolledFlowThreshold (0x0E), SetSupplyStatus (0x0D) - Metering.
    0x007D: frozenset({(0x0702, 0x0E), (0x0702, 0x0D)}),
    0x00FC: frozenset({(0x0702, 0x0E), (0x0702, 0x0D)}),
    # GCS25 / GCS25a: PublishBillingPeriod (0x09), PublishBlockPeriod (0x01) - Price cluster.
    0x007E: frozenset({(0x0700, 0x09), (0x0700, 0x01)}),
    0x00D8: frozenset({(0x0700, 0x09), (0x0700, 0x01)}),
    # GCS41: UpdateSiteID (0x03) - Device Management cluster.
    0x0087: frozenset({(0x0708, 0x03)}),
}
"""The ZCL commands each GSME settings use case sends (cluster, command id)."""


@dataclass(frozen=True, slots=True)
class ZclCall:
    """One cluster-specific ZCL command of a GBZ settings command; ``payload`` little-endian
    as ZCL writes it. ``to_client`` for the commands a server sends (the Price and Device
    Management clusters' publish commands, which the GSME takes as a client)."""

    cluster: int
    command_id: int
    payload: bytes
    to_client: bool = False


@dataclass(frozen=True, slots=True)
class GasSettings:
    """A GBZ command of the configuration family that sets GSME settings, answered by a
    ZCL Default Response per component (:class:`GasSettingsDone`): GCS23, GCS24/24a,
    GCS25/25a, GCS41. The decoder checks the commands are the use case's
    (:data:`GAS_SETTINGS_CALLS`)."""

    message_code: int
    calls: tuple[ZclCall, ...]

    def encode(self) -> bytes:
        allowed = GAS_SETTINGS_CALLS[self.message_code]
        components = []
        for n, call in enumerate(self.calls):
            if (call.cluster, call.command_id) not in allowed:
                raise DecodeError(
                    f"0x{self.message_code:04X} does not send cluster 0x{call.cluster:04X} "
                    f"command 0x{call.command_id:02X}"
                )
            fc = gbz.FC_CLUSTER_SPECIFIC | (gbz.FC_SERVER_TO_CLIENT if call.to_client else 0)
            frame = ZclFrame(fc, n, call.command_id, call.payload)
            last = CONTROL_LAST if n == len(self.calls) - 1 else 0
            components.append(GbzComponent(call.cluster, frame, last))
        return GbzPayload(tuple(components)).to_bytes()

    @classmethod
    def decode_as(cls, code: int, content: bytes) -> GasSettings:
        payload = GbzPayload.from_bytes(content)
        calls = []
        for component in payload.components:
            frame = component.frame
            if not isinstance(frame, ZclFrame) or not frame.cluster_specific:
                raise DecodeError("expected plain cluster-specific ZCL commands")
            calls.append(
                ZclCall(
                    component.cluster_id, frame.command_id, frame.payload, frame.server_to_client
                )
            )
        found = cls(code, tuple(calls))
        _check_exact(found, content)
        return found

    def outcome(self, status: int = 0) -> GasSettingsDone:
        return GasSettingsDone(
            tuple((c.cluster, c.command_id, c.to_client, status) for c in self.calls)
        )


@dataclass(frozen=True, slots=True)
class GasSettingsDone:
    """The response to :class:`GasSettings`: a ZCL Default Response per command (cluster,
    command answered, whether the command went to the client, status; 0 success)."""

    answers: tuple[tuple[int, int, bool, int], ...]

    @property
    def ok(self) -> bool:
        return all(status == 0 for *_, status in self.answers)

    def encode(self) -> bytes:
        components = []
        for n, (cluster, command_id, to_client, status) in enumerate(self.answers):
            # The answer goes the other way: from the client when the command came from the
            # server side (Price, Device Management), else from the server.
            fc = 0 if to_client else gbz.FC_SERVER_TO_CLIENT
            frame = ZclFrame(fc, n, gbz.DEFAULT_RESPONSE, bytes([command_id, status]))
            last = CONTROL_LAST if n == len(self.answers) - 1 else 0
            components.append(GbzComponent(cluster, frame, last))
        return GbzPayload(tuple(components)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GasSettingsDone:
        payload = GbzPayload.from_bytes(content)
        answers = []
        for component in payload.components:
            frame = component.frame
            if not isinstance(frame, ZclFrame) or frame.command_id != gbz.DEFAULT_RESPONSE:
                raise DecodeError("expected ZCL Default Responses")
            if frame.cluster_specific or len(frame.payload) != 2:
                raise DecodeError("a Default Response is general and 2 bytes long")
            to_client = not frame.server_to_client
            answers.append((component.cluster_id, frame.payload[0], to_client, frame.payload[1]))
        found = cls(tuple(answers))
        _check_exact(found, content)
        return found


# =========================================================================== registry

Command = SetClock | SetGasClock | DeviceSettings | GasSettings
Response = ClockSet | GasClockSet | GasSettingsDone
"""This family's own response shapes (besides the shared ``Outcome`` / ``ZclFailure``)."""

register(0x0062, SetClock.decode, ClockSet.decode)
register(0x007F, SetGasClock.decode, GasClockSet.decode)
for _code in SETTINGS_OBJECTS:
    register(_code, partial(DeviceSettings.decode_as, _code), Outcome.decode)
for _code in GAS_SETTINGS_CALLS:
    register(_code, partial(GasSettings.decode_as, _code), GasSettingsDone.decode)


__all__ = [
    "CLOCK",
    "GAS_SETTINGS_CALLS",
    "SETTINGS_OBJECTS",
    "ClockSet",
    "DeviceSettings",
    "GasClockSet",
    "GasSettings",
    "GasSettingsDone",
    "SetClock",
    "SetGasClock",
    "ZclCall",
    "spec_key",
]

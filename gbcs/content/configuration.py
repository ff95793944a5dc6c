"""Device configuration: ECS70 / GCS28 (set the ESME / GSME clock)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
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
from gbcs.payloads import asn1, dlms
from gbcs.payloads.dlms import (
    NULL,
    AccessKind,
    AccessResponse,
    AccessResult,
    AccessSpec,
    CosemDateTime,
    Data,
)

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


# =========================================================================== registry

Command = SetClock | SetGasClock
Response = ClockSet | GasClockSet
"""This family's own response shapes (besides the shared ``Outcome`` / ``ZclFailure``)."""

register(0x0062, SetClock.decode, ClockSet.decode)
register(0x007F, SetGasClock.decode, GasClockSet.decode)


__all__ = [
    "CLOCK",
    "ClockSet",
    "GasClockSet",
    "SetClock",
    "SetGasClock",
]

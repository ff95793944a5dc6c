"""The GBZ (gas) reads of the reading family: what each asks for, as GBCS's use-case tables
list it, and the generic response carrying the answer (see :mod:`gbcs.content.reads` for the
DLMS ones and the period they share).

A read is a table row (:data:`GBZ_READS`): fixed components (ZCL Read Attributes, the price
and calendar commands), or a ranged command restricted to the read's period - Get Sampled
Data, one Get (Prepay) Snapshot per log entry, Get Event Log, or a command on the entries
from the period's start (the component's from-date-time).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from gbcs.content._common import ZclFailure, _check_exact, register
from gbcs.content.reads import Span, from_utc_seconds
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import gbz
from gbcs.payloads.gbz import CONTROL_LAST, GbzComponent, GbzPayload, ZclFrame

METERING = gbz.Cluster.METERING
PREPAYMENT = 0x0705
PRICE = 0x0700
CALENDAR = 0x0707
EVENTS = 0x0709
BASIC = 0x0000

GET_SNAPSHOT = 0x06
GET_PREPAY_SNAPSHOT = 0x07
GET_SAMPLED_DATA = 0x08
HALF_HOUR = 1800
DAY = 86_400
NETWORK_DATA_SAMPLE_ID = 2
NETWORK_DATA_INTERVAL = 360
"""The GSME's network data log: its Get Sampled Data sample id and interval (seconds)."""
NETWORK_DATA_LOG_SAMPLES = 41
"""The samples the GSME's network data log holds (six-minute samples over four hours)."""
NOT_FOUND = 0x8B
"""ZCL status of a log entry the device does not hold."""

Frame = tuple[int, int, int, bytes]
"""One GBZ component's ZCL frame: cluster, frame control, command, payload."""


def _ra(cluster: int, *attributes: int) -> Frame:
    """ZCL Read Attributes of ``attributes`` on ``cluster``."""
    return (cluster, 0, gbz.READ_ATTRIBUTES, gbz.ReadAttributes(attributes).to_bytes())


def _cmd(cluster: int, command: int, payload: str, fc: int = gbz.FC_CLUSTER_SPECIFIC) -> Frame:
    return (cluster, fc, command, bytes.fromhex(payload))


_ALL_CALENDARS = ("00000000feffffff0100", "00000000feffffff0100", "00000000feffffff")
"""Get Calendar / Day Profiles / Week Profiles from the start of time, up to issuer event id
0xFFFFFFFE, one command (the week-profile request has no count); the tariff read (GCS21f)
asks up to 0xFFFFFFFF."""


@dataclass(frozen=True, slots=True)
class GbzReadKind:
    """What a GBZ read sends, one of:

    * ``frames``: fixed components (Read Attributes, the calendar and price commands);
    * ``samples``: Get Sampled Data of that sample id from the period's start, as many
      samples of ``interval`` seconds as the period holds (both ends included);
    * ``snapshots``: Get (Prepay) Snapshot per (cluster, command), ``count`` offsets each,
      of the period, for snapshots of ``cause``;
    * ``log``: Get Event Log of that log id over the period;
    * ``after``: one command (cluster, command, payload tail) on the entries from the
      period's start (the component's from-date-time) to its end.
    """

    frames: tuple[Frame, ...] = ()
    samples: int | None = None
    interval: int = HALF_HOUR
    snapshots: tuple[tuple[int, int], ...] = ()
    count: int = 0
    cause: int = 0
    log: int | None = None
    after: tuple[int, int, bytes] | None = None

    @property
    def ranged(self) -> bool:
        return not self.frames


def _snapshots(*pairs: tuple[int, int], count: int, cause: int) -> GbzReadKind:
    return GbzReadKind(snapshots=pairs, count=count, cause=cause)


_DAILY = 31
"""A daily read log holds 31 days: one snapshot a day (offsets 0-30)."""
_BILLING = 12
"""A billing data log holds 12 periods."""

GBZ_READS: dict[int, GbzReadKind] = {
    0x00B6: GbzReadKind(  # GCS13c TOU registers
        (_ra(METERING, 0x0302, 0x0301, 0x0300, 0x0100, 0x0102, 0x0104, 0x0106),)
    ),
    0x00B8: GbzReadKind(  # GCS13b block counters
        (_ra(METERING, 0x0700, 0x0701, 0x0702, 0x0703, 0x0302, 0x0301, 0x0300),)
    ),
    0x0075: GbzReadKind(  # GCS14 prepay values
        (
            _ra(PRICE, 0x0617, 0x0616),
            _ra(PREPAYMENT, 0x0005, 0x0002, 0x0001, 0x0231, 0x0211, 0x0221),
        )
    ),
    0x0084: GbzReadKind((_ra(METERING, 0x0206),)),  # GCS38 firmware version
    0x0089: GbzReadKind((_ra(METERING, 0x0307),)),  # GCS46 MPRN
    0x00BF: GbzReadKind((_ra(PREPAYMENT, 0x0000),)),  # GCS21j payment mode
    0x009E: GbzReadKind(  # GCS21e identity
        (_ra(BASIC, 0x0004, 0x0005, 0x0003), _ra(METERING, 0x0608, 0x0607))
    ),
    0x00FB: GbzReadKind((_ra(BASIC, 0x0004, 0x0005), _ra(METERING, 0x0608, 0x0607))),  # 21m
    0x008D: GbzReadKind((_ra(METERING, 0x0A00), _ra(PREPAYMENT, 0x0001))),  # GCS60 balance
    0x007B: GbzReadKind(  # GCS21a gas configuration
        (
            _ra(PRICE, 0x0306, 0x0305, 0x0304, 0x0303, 0x0302),
            _ra(METERING, 0x0B13, 0x0B12, 0x0B11, 0x0B10, 0x0B14, 0x0B15),
        )
    ),
    # GCS21k billing calendar: Get Billing Period from the start of time, any issuer event,
    # one command, any tariff type.
    0x00DA: GbzReadKind((_cmd(PRICE, 0x0B, "00000000ffffffff0100"),)),
    0x00F1: GbzReadKind((_cmd(0x0708, 0x05, "ff81", fc=0x09),)),  # GCS20r
    0x00B5: GbzReadKind(  # GCS21b prepayment configuration
        (
            _ra(
                PREPAYMENT,
                *(0x0239, 0x0006, 0x0216, 0x0226, 0x0040, 0x0010),
                *(0x0011, 0x0031, 0x0021, 0x0022, 0x0217, 0x0227),
            ),
            _ra(PRICE, 0x0617),
            *(_cmd(CALENDAR, n + 1, p) for n, p in enumerate(_ALL_CALENDARS)),
            _cmd(CALENDAR, 0x04, "00000000000300000000feffffff"),
        )
    ),
    0x009F: GbzReadKind(  # GCS21f tariff
        (
            _ra(
                PRICE,
                *(0x0203, 0x0202, 0x0100, 0x0101, 0x0102, 0x0615, 0x0400, 0x0401, 0x0402),
                *(0x0403, 0x0410, 0x0420, 0x0430, 0x0440, 0x0616, 0x0617, 0x0301),
            ),
            *(
                _cmd(CALENDAR, n + 1, p.replace("feffffff", "ffffffff"))
                for n, p in enumerate(_ALL_CALENDARS)
            ),
            _cmd(CALENDAR, 0x04, "00000000000000000000ffffffff"),
            _cmd(PRICE, 0x00, "00"),
        )
    ),
    0x0078: GbzReadKind(samples=0),  # GCS17 half-hour profile data
    0x00A0: GbzReadKind(samples=1, interval=DAY),  # GCS61 daily consumption log
    # GCS18 network data log: the whole log, whatever the period - Get Sampled Data of sample
    # id 2 (the network data log's) from the earliest sample held (time 1: any), as many
    # samples as the log holds (GCS31's maximum), as GBCS has the DCC ask.
    0x0079: GbzReadKind(
        frames=(
            (
                METERING,
                gbz.FC_CLUSTER_SPECIFIC,
                GET_SAMPLED_DATA,
                struct.pack("<HIBH", NETWORK_DATA_SAMPLE_ID, 1, 0, NETWORK_DATA_LOG_SAMPLES),
            ),
        )
    ),
    0x0077: _snapshots((METERING, GET_SNAPSHOT), count=_DAILY, cause=0x0001),  # GCS16a
    0x0096: _snapshots((PREPAYMENT, GET_PREPAY_SNAPSHOT), count=_DAILY, cause=0x0001),  # 16b
    0x00C3: _snapshots(  # GCS15b change of mode / tariff billing log
        (PREPAYMENT, GET_PREPAY_SNAPSHOT), (METERING, GET_SNAPSHOT), count=_BILLING, cause=0x6008
    ),
    0x0076: _snapshots(  # GCS15c billing calendar billing log
        (METERING, GET_SNAPSHOT), (PREPAYMENT, GET_PREPAY_SNAPSHOT), count=_BILLING, cause=0x0002
    ),
    0x00C4: GbzReadKind(after=(PREPAYMENT, 0x0A, bytes((10, 0x02)))),  # GCS15d debt payments
    0x00C5: GbzReadKind(after=(PREPAYMENT, 0x08, bytes((5,)))),  # GCS15e credits (top ups)
    0x0014: GbzReadKind(log=0x13),  # CS10a event log
    0x00A1: GbzReadKind(log=0x04),  # CS10b security log
}
"""Message code -> what its GBZ read sends (GBCS use-case tables)."""


def _components(frames: list[Frame] | tuple[Frame, ...]) -> GbzPayload:
    """Frames -> components numbered in order, the last one marked."""
    out = []
    for n, (cluster, fc, command, payload) in enumerate(frames):
        control = CONTROL_LAST if n == len(frames) - 1 else 0
        out.append(GbzComponent(cluster, ZclFrame(fc, n, command, payload), control))
    return GbzPayload(tuple(out))


_SPECIFIC = gbz.FC_CLUSTER_SPECIFIC


@dataclass(frozen=True, slots=True)
class GbzRead:
    """A GBZ read: its components from the table, restricted to ``span`` for a log."""

    message_code: int
    span: Span | None = None

    def kind(self) -> GbzReadKind:
        return GBZ_READS[self.message_code]

    def payload(self) -> GbzPayload:
        kind = self.kind()
        if not kind.ranged:
            if self.span is not None:
                raise EncodeError("a range goes with the log reads only")
            return _components(kind.frames)
        if self.span is None:
            raise EncodeError("this read takes a date-time range")
        start, end = self.span.seconds()
        if kind.samples is not None:
            samples = (end - start) // kind.interval + 1
            if not 0 < samples <= 0xFFFF:
                raise EncodeError("the period holds no sample or too many")
            body = struct.pack("<HIBH", kind.samples, start, 0, samples)
            return _components([(METERING, _SPECIFIC, GET_SAMPLED_DATA, body)])
        if kind.log is not None:
            # Get Event Log: the log, any event id, the period, all events, from the first.
            body = struct.pack("<BHIIBH", kind.log, 0, start, end, 0, 0)
            return _components([(EVENTS, _SPECIFIC, 0x00, body)])
        if kind.after is not None:
            cluster, command, tail = kind.after
            frame = ZclFrame(_SPECIFIC, 0, command, end.to_bytes(4, "little") + tail)
            control = CONTROL_LAST | gbz.CONTROL_FROM_DATE_TIME
            return GbzPayload((GbzComponent(cluster, frame, control, start),))
        return _components(
            [
                (cluster, _SPECIFIC, command, struct.pack("<IIBI", start, end, n, kind.cause))
                for cluster, command in kind.snapshots
                for n in range(kind.count)
            ]
        )

    def encode(self) -> bytes:
        return self.payload().to_bytes()

    @classmethod
    def decoder(cls, message_code: int) -> Callable[[bytes], GbzRead]:
        def decode(content: bytes) -> GbzRead:
            kind = GBZ_READS[message_code]
            span = None
            if kind.ranged:
                component = GbzPayload.from_bytes(content).components[0]
                frame = component.frame
                if not isinstance(frame, ZclFrame) or len(frame.payload) < 4:
                    raise DecodeError("expected a plain ZCL command with a period")
                body = frame.payload
                if kind.samples is not None:
                    _, start, _, count = struct.unpack("<HIBH", body[:9].ljust(9, b"\0"))
                    end = start + (count - 1) * kind.interval
                elif kind.log is not None:
                    start, end = struct.unpack("<II", body[3:11].ljust(8, b"\0"))
                elif kind.after is not None:
                    start = component.from_date_time or 0
                    end = int.from_bytes(body[:4], "little")
                else:
                    start, end = struct.unpack("<II", body[:8].ljust(8, b"\0"))
                span = Span(from_utc_seconds(start), from_utc_seconds(end))
            found = cls(message_code, span)
            _check_exact(found, content)
            return found

        return decode


@dataclass(frozen=True, slots=True)
class GbzReadResponse:
    """The answer to a :class:`GbzRead`: its components (encrypted ones stay ciphered). A
    component the device could not answer is a ZCL Default Response, an attribute it could
    not read has a failure status: either fails the read - except, in a log of snapshots
    (``of_log``), a NOT_FOUND day, which the others still answer."""

    payload: GbzPayload
    of_log: bool = False

    @property
    def ok(self) -> bool:
        return not any(_is_failure(c, self.of_log) for c in self.payload.components)

    def encode(self) -> bytes:
        return self.payload.to_bytes()

    @classmethod
    def decode(cls, content: bytes, *, of_log: bool = False) -> GbzReadResponse:
        payload = GbzPayload.from_bytes(content)
        only = payload.components[0].frame if len(payload.components) == 1 else None
        if isinstance(only, ZclFrame) and only.command_id == gbz.DEFAULT_RESPONSE:
            raise DecodeError("one default response is a ZclFailure")
        found = cls(payload, of_log)
        _check_exact(found, content)
        return found

    @classmethod
    def decoder(cls, message_code: int) -> Callable[[bytes], GbzReadResponse]:
        of_log = bool(GBZ_READS[message_code].snapshots)
        return lambda content: cls.decode(content, of_log=of_log)


def _is_failure(component: GbzComponent, of_log: bool) -> bool:
    """A Default Response with a failure status, or a Read Attributes Response with a
    failed attribute."""
    frame = component.frame
    if not isinstance(frame, ZclFrame) or frame.cluster_specific:
        return False
    if frame.command_id == gbz.DEFAULT_RESPONSE:
        status = gbz.DefaultResponse.from_bytes(frame.payload).status
        return status != 0 and not (of_log and status == NOT_FOUND)
    if frame.command_id == gbz.READ_ATTRIBUTES_RESPONSE:
        try:
            records = gbz.ReadAttributesResponse.from_bytes(frame.payload).records
        except DecodeError:
            return False
        return any(r.status for r in records)
    return False


# =========================================================================== registry

Command = GbzRead
Response = GbzReadResponse

for _code in GBZ_READS:
    register(_code, GbzRead.decoder(_code), GbzReadResponse.decoder(_code), ZclFailure.decode)

__all__ = ["GBZ_READS", "GbzRead", "GbzReadResponse"]

"""GBZ payloads of GBCS (GSME and GPF): ZigBee Cluster Library frames in a GBCS wrapper.
Byte-exact both ways.

Layout (GBCS section 7.2; GBZ multi-byte header fields are big-endian, ZCL payloads
little-endian)::

    profile id (2) = 01 09 | component count (1)
    [alerts only: alert code (2) | timestamp (4, UTC seconds since 2000-01-01)
                  | alert-specific fields]
    component*: control (1) | cluster id (2) | length (2) of what follows
                [from-date-time (4) if control & 0x10]
                plain (control & 0x02 clear): ZCL frame control (1), [manufacturer code (2)],
                                              sequence number (1), command id (1), payload
                encrypted (control & 0x02):   additional header control (1), additional
                                              frame counter (1), ZCL frame control (1),
                                              sequence number (1), command id (1), length
                                              (2) of the ciphered block, ciphered block
                                              (``31`` ‖ counter (4) ‖ ciphertext ‖ tag (12))

Control 0x01 marks the last component. The ZCL helpers below parse and build the ZCL
payloads GBCS uses most: Read Attributes (0x00), Read Attributes Response (0x01) and
Default Response (0x0B), with the attribute data types they carry.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads._buf import Reader

PROFILE_ID = 0x0109
"""ZigBee Smart Energy: the only profile GBZ uses."""

CONTROL_LAST = 0x01
CONTROL_ENCRYPTED = 0x02
CONTROL_FROM_DATE_TIME = 0x10

ZIGBEE_EPOCH = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)


def zigbee_time(when: _dt.datetime) -> int:
    """ZigBee UTCTime: seconds since 2000-01-01 00:00 UTC (naive datetimes are UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    seconds = int((when - ZIGBEE_EPOCH).total_seconds())
    if not 0 <= seconds <= 0xFFFF_FFFF:
        raise EncodeError(f"{when.isoformat()} cannot be a ZigBee UTCTime")
    return seconds


def from_zigbee_time(seconds: int) -> _dt.datetime:
    return ZIGBEE_EPOCH + _dt.timedelta(seconds=seconds)


def _time_text(seconds: int) -> str:
    if seconds == 0:
        return "now (0)"
    if seconds == 0xFFFF_FFFF:
        return "never (FFFFFFFF)"
    return from_zigbee_time(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cluster(IntEnum):
    """The ZCL clusters GBCS uses."""

    BASIC = 0x0000
    IDENTIFY = 0x0003
    TIME = 0x000A
    OTA_UPGRADE = 0x0019
    PRICE = 0x0700
    DRLC = 0x0701
    METERING = 0x0702
    MESSAGING = 0x0703
    TUNNELING = 0x0704
    PREPAYMENT = 0x0705
    CALENDAR = 0x0707
    DEVICE_MANAGEMENT = 0x0708
    EVENTS = 0x0709
    METER_IDENTIFICATION = 0x0B01


# ZCL frame control bits.
FC_CLUSTER_SPECIFIC = 0x01
FC_MANUFACTURER = 0x04
FC_SERVER_TO_CLIENT = 0x08
FC_DISABLE_DEFAULT_RESPONSE = 0x10

# Profile-wide (general) ZCL command ids.
READ_ATTRIBUTES = 0x00
READ_ATTRIBUTES_RESPONSE = 0x01
DEFAULT_RESPONSE = 0x0B


@dataclass(frozen=True, slots=True)
class ZclFrame:
    """A ZCL frame: header and the raw (little-endian) payload."""

    frame_control: int
    sequence: int
    command_id: int
    payload: bytes = b""
    manufacturer_code: int | None = None

    def __post_init__(self) -> None:
        if bool(self.frame_control & FC_MANUFACTURER) != (self.manufacturer_code is not None):
            raise EncodeError("ZCL manufacturer code present iff frame control bit 0x04 is set")

    @property
    def cluster_specific(self) -> bool:
        return bool(self.frame_control & FC_CLUSTER_SPECIFIC)

    @property
    def server_to_client(self) -> bool:
        return bool(self.frame_control & FC_SERVER_TO_CLIENT)

    def header_bytes(self) -> bytes:
        out = bytes([self.frame_control])
        if self.manufacturer_code is not None:
            out += self.manufacturer_code.to_bytes(2, "little")
        return out + bytes([self.sequence, self.command_id])

    def to_bytes(self) -> bytes:
        return self.header_bytes() + self.payload

    @classmethod
    def from_bytes(cls, data: bytes) -> ZclFrame:
        r = Reader(data)
        fc = r.u8("ZCL frame control")
        manufacturer = None
        if fc & FC_MANUFACTURER:
            manufacturer = int.from_bytes(r.take(2, "ZCL manufacturer code"), "little")
        sequence = r.u8("ZCL sequence number")
        command = r.u8("ZCL command id")
        return cls(fc, sequence, command, r.rest(), manufacturer)

    def as_tree(self, cluster_id: int | None = None) -> dict[str, Any]:
        tree: dict[str, Any] = {
            "frame_control": f"0x{self.frame_control:02x}",
            "direction": "server-to-client" if self.server_to_client else "client-to-server",
            "sequence": self.sequence,
            "command": _command_name(self, cluster_id),
        }
        if self.manufacturer_code is not None:
            tree["manufacturer_code"] = f"0x{self.manufacturer_code:04x}"
        tree.update(_payload_tree(self))
        return tree


@dataclass(frozen=True, slots=True)
class EncryptedZcl:
    """The encrypted form of a component: the ZCL header in clear, the payload ciphered.

    ``ciphered`` is the whole block ``31 ‖ counter ‖ ciphertext ‖ tag`` as
    :func:`gbcs.crypto.decrypt_payload` takes it; the plaintext is the ZCL payload.
    """

    frame_control: int
    sequence: int
    command_id: int
    ciphered: bytes
    additional_header_control: int = 0
    additional_frame_counter: int = 0

    def to_bytes(self) -> bytes:
        return (
            bytes([self.additional_header_control, self.additional_frame_counter])
            + bytes([self.frame_control, self.sequence, self.command_id])
            + len(self.ciphered).to_bytes(2, "big")
            + self.ciphered
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> EncryptedZcl:
        r = Reader(data)
        ahc = r.u8("additional header control")
        afc = r.u8("additional frame counter")
        fc, seq, cmd = r.u8("ZCL frame control"), r.u8("ZCL sequence"), r.u8("ZCL command id")
        n = r.u16("ciphered length")
        ciphered = r.take(n, "ciphered information")
        r.expect_end("encrypted component")
        return cls(fc, seq, cmd, ciphered, ahc, afc)

    def with_plaintext(self, plaintext: bytes) -> ZclFrame:
        """The plain ZCL frame once the payload is decrypted."""
        return ZclFrame(self.frame_control, self.sequence, self.command_id, plaintext)

    def as_tree(self, cluster_id: int | None = None) -> dict[str, Any]:
        frame = ZclFrame(self.frame_control, self.sequence, self.command_id)
        return {
            "frame_control": f"0x{self.frame_control:02x}",
            "sequence": self.sequence,
            "command": _command_name(frame, cluster_id),
            "encrypted": self.ciphered.hex(),
        }


@dataclass(frozen=True, slots=True)
class GbzComponent:
    """One GBZ use-case-specific component."""

    cluster_id: int
    frame: ZclFrame | EncryptedZcl
    control: int = CONTROL_LAST
    from_date_time: int | None = None
    """ZigBee UTCTime; present iff ``control & 0x10``."""

    def __post_init__(self) -> None:
        if bool(self.control & CONTROL_FROM_DATE_TIME) != (self.from_date_time is not None):
            raise EncodeError("GBZ from-date-time present iff control bit 0x10 is set")
        if bool(self.control & CONTROL_ENCRYPTED) != isinstance(self.frame, EncryptedZcl):
            raise EncodeError("GBZ control bit 0x02 set iff the component is encrypted")

    @property
    def last(self) -> bool:
        return bool(self.control & CONTROL_LAST)

    def to_bytes(self) -> bytes:
        body = b""
        if self.from_date_time is not None:
            body += self.from_date_time.to_bytes(4, "big")
        body += self.frame.to_bytes()
        if len(body) > 0xFFFF:
            raise EncodeError("a GBZ component is at most 65535 bytes")
        return (
            bytes([self.control])
            + self.cluster_id.to_bytes(2, "big")
            + len(body).to_bytes(2, "big")
            + body
        )

    @classmethod
    def read(cls, r: Reader) -> GbzComponent:
        control = r.u8("GBZ component control")
        cluster = r.u16("GBZ cluster id")
        n = r.u16("GBZ component length")
        body = Reader(r.take(n, "GBZ component"))
        from_dt = body.u32("from-date-time") if control & CONTROL_FROM_DATE_TIME else None
        rest = body.rest()
        frame: ZclFrame | EncryptedZcl
        frame = (
            EncryptedZcl.from_bytes(rest)
            if control & CONTROL_ENCRYPTED
            else ZclFrame.from_bytes(rest)
        )
        return cls(cluster, frame, control, from_dt)

    def as_tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = {
            "control": f"0x{self.control:02x}",
            "cluster": _cluster_name(self.cluster_id),
        }
        if self.from_date_time is not None:
            tree["from_date_time"] = _time_text(self.from_date_time)
        tree["zcl"] = self.frame.as_tree(self.cluster_id)
        return tree


def _components_bytes(components: tuple[GbzComponent, ...]) -> bytes:
    return b"".join(c.to_bytes() for c in components)


@dataclass(frozen=True, slots=True)
class GbzPayload:
    """A GBZ command or response: the components in order."""

    components: tuple[GbzComponent, ...]
    profile_id: int = PROFILE_ID

    kind: ClassVar[str] = "gbz"

    def to_bytes(self) -> bytes:
        if len(self.components) > 0xFF:
            raise EncodeError("at most 255 GBZ components")
        return (
            self.profile_id.to_bytes(2, "big")
            + bytes([len(self.components)])
            + _components_bytes(self.components)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> GbzPayload:
        r = Reader(data)
        profile = r.u16("GBZ profile id")
        if profile != PROFILE_ID:
            raise DecodeError(f"GBZ profile id 0x{profile:04x} is not 0x0109", 0)
        count = r.u8("GBZ component count")
        components = tuple(GbzComponent.read(r) for _ in range(count))
        r.expect_end("GBZ payload")
        return cls(components, profile)

    def as_tree(self) -> dict[str, Any]:
        return {"gbz": "components", "components": [c.as_tree() for c in self.components]}


def _alert_extra_length(alert_code: int, r: Reader) -> int:
    """How many alert-specific bytes follow a GBZ alert header (GBCS 7.2.x)."""
    if alert_code in (0x8F1C, 0x8F72):  # firmware verification: start (2) + image hash (32)
        return 34
    if alert_code in (0x8F66, 0x8F67):  # future-dated: 0E, code, counter, cluster, fc, cmd
        return 15 if r.remaining and r.peek() == 0x0E else 0
    if alert_code in (0x81A0, 0x8161, 0x8162):  # integrity warning / user interface command
        return 2
    return 0


@dataclass(frozen=True, slots=True)
class GbzAlert:
    """A GBZ alert: alert code, timestamp, alert-specific fields (kept raw here; typed in
    :mod:`gbcs.content`), then zero or more components."""

    alert_code: int
    timestamp: int
    """ZigBee UTCTime of the alert."""
    extra: bytes = b""
    components: tuple[GbzComponent, ...] = ()
    profile_id: int = PROFILE_ID
    count: int | None = None
    """The component-count byte when it differs from ``len(components)``: future-dated
    alerts (8F66/8F67) send 1 and carry the command reference instead of a component."""

    kind: ClassVar[str] = "gbz-alert"

    @property
    def code(self) -> int:
        """The alert code, by the name a DLMS alert gives it: whoever reads alerts of either
        kind (the gateway's DUIS ``AlertCode``) finds it alike, not the message code."""
        return self.alert_code

    def to_bytes(self) -> bytes:
        count = len(self.components) if self.count is None else self.count
        return (
            self.profile_id.to_bytes(2, "big")
            + bytes([count])
            + self.alert_code.to_bytes(2, "big")
            + self.timestamp.to_bytes(4, "big")
            + self.extra
            + _components_bytes(self.components)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> GbzAlert:
        r = Reader(data)
        profile = r.u16("GBZ profile id")
        if profile != PROFILE_ID:
            raise DecodeError(f"GBZ profile id 0x{profile:04x} is not 0x0109", 0)
        count = r.u8("GBZ component count")
        code = r.u16("alert code")
        stamp = r.u32("alert timestamp")
        if count == 0:
            return cls(code, stamp, r.rest(), (), profile)
        extra = r.take(_alert_extra_length(code, r), "alert-specific fields")
        if r.at_end():  # the count announced the alert-specific block, no component follows
            return cls(code, stamp, extra, (), profile, count)
        components = tuple(GbzComponent.read(r) for _ in range(count))
        r.expect_end("GBZ alert")
        return cls(code, stamp, extra, components, profile)

    def as_tree(self) -> dict[str, Any]:
        from gbcs.alerts import alert_name

        tree: dict[str, Any] = {
            "gbz": "alert",
            "alert_code": f"0x{self.alert_code:04X}",
            "alert": alert_name(self.alert_code),
            "timestamp": _time_text(self.timestamp),
        }
        if self.extra:
            tree["alert_fields"] = self.extra.hex()
        if self.components:
            tree["components"] = [c.as_tree() for c in self.components]
        return tree


# --------------------------------------------------------------------------- ZCL payloads


class ZclType(IntEnum):
    """ZCL attribute data types that GBCS payloads carry."""

    NO_DATA = 0x00
    DATA8 = 0x08
    DATA16 = 0x09
    DATA24 = 0x0A
    DATA32 = 0x0B
    BOOLEAN = 0x10
    BITMAP8 = 0x18
    BITMAP16 = 0x19
    BITMAP24 = 0x1A
    BITMAP32 = 0x1B
    BITMAP48 = 0x1D
    BITMAP64 = 0x1F
    UINT8 = 0x20
    UINT16 = 0x21
    UINT24 = 0x22
    UINT32 = 0x23
    UINT40 = 0x24
    UINT48 = 0x25
    UINT56 = 0x26
    UINT64 = 0x27
    INT8 = 0x28
    INT16 = 0x29
    INT24 = 0x2A
    INT32 = 0x2B
    INT40 = 0x2C
    INT48 = 0x2D
    INT56 = 0x2E
    INT64 = 0x2F
    ENUM8 = 0x30
    ENUM16 = 0x31
    OCTET_STRING = 0x41
    CHARACTER_STRING = 0x42
    LONG_OCTET_STRING = 0x43
    TIME_OF_DAY = 0xE0
    DATE = 0xE1
    UTC_TIME = 0xE2
    CLUSTER_ID = 0xE8
    ATTRIBUTE_ID = 0xE9
    IEEE_ADDRESS = 0xF0
    SECURITY_KEY = 0xF1


def _zcl_width(t: ZclType) -> int | None:
    """Width in bytes of a fixed-size ZCL type, None for strings."""
    v = int(t)
    if t == ZclType.NO_DATA:
        return 0
    if 0x08 <= v <= 0x0F or 0x18 <= v <= 0x1F or 0x20 <= v <= 0x27 or 0x28 <= v <= 0x2F:
        return (v & 0x07) + 1
    if t in (ZclType.BOOLEAN, ZclType.ENUM8):
        return 1
    if t == ZclType.ENUM16:
        return 2
    if t in (ZclType.TIME_OF_DAY, ZclType.DATE, ZclType.UTC_TIME):
        return 4
    if t in (ZclType.CLUSTER_ID, ZclType.ATTRIBUTE_ID):
        return 2
    if t == ZclType.IEEE_ADDRESS:
        return 8
    if t == ZclType.SECURITY_KEY:
        return 16
    return None


@dataclass(frozen=True, slots=True)
class ZclValue:
    """A typed ZCL attribute value kept as its little-endian bytes (strings: without the
    length prefix)."""

    type: ZclType
    raw: bytes

    def __post_init__(self) -> None:
        width = _zcl_width(self.type)
        if width is not None and len(self.raw) != width:
            raise EncodeError(f"ZCL {self.type.name} is {width} bytes, not {len(self.raw)}")

    @classmethod
    def uint(cls, t: ZclType, value: int) -> ZclValue:
        width = _zcl_width(t)
        if width is None:
            raise EncodeError(f"{t.name} is not a fixed-width type")
        try:
            return cls(t, value.to_bytes(width, "little", signed=0x28 <= int(t) <= 0x2F))
        except OverflowError:
            raise EncodeError(f"{value} does not fit ZCL {t.name}") from None

    @classmethod
    def string(cls, t: ZclType, value: bytes) -> ZclValue:
        return cls(t, value)

    @property
    def value(self) -> int | bytes:
        """Integers for numeric types, bytes for strings, addresses and keys."""
        v = int(self.type)
        if 0x28 <= v <= 0x2F:
            return int.from_bytes(self.raw, "little", signed=True)
        if self.type in (ZclType.OCTET_STRING, ZclType.CHARACTER_STRING, ZclType.LONG_OCTET_STRING):
            return self.raw
        if self.type in (ZclType.IEEE_ADDRESS, ZclType.SECURITY_KEY):
            return self.raw
        return int.from_bytes(self.raw, "little")

    def to_bytes(self) -> bytes:
        if self.type == ZclType.LONG_OCTET_STRING:
            return len(self.raw).to_bytes(2, "little") + self.raw
        if self.type in (ZclType.OCTET_STRING, ZclType.CHARACTER_STRING):
            if len(self.raw) > 0xFE:
                raise EncodeError("a ZCL string is at most 254 bytes")
            return bytes([len(self.raw)]) + self.raw
        return self.raw

    @classmethod
    def read(cls, t: ZclType, r: Reader) -> ZclValue:
        width = _zcl_width(t)
        if width is not None:
            return cls(t, r.take(width, f"ZCL {t.name}"))
        if t == ZclType.LONG_OCTET_STRING:
            n = int.from_bytes(r.take(2, "long string length"), "little")
        else:
            n = r.u8("string length")
        return cls(t, r.take(n, "ZCL string"))

    def as_tree(self) -> dict[str, Any]:
        value = self.value
        tree: dict[str, Any] = {"type": self.type.name.lower()}
        if isinstance(value, int):
            tree["value"] = value
            if self.type == ZclType.UTC_TIME:
                tree["time"] = _time_text(value)
        else:
            tree["hex"] = value.hex()
        return tree


def _zcl_type(code: int, r: Reader) -> ZclType:
    try:
        return ZclType(code)
    except ValueError:
        raise DecodeError(f"unsupported ZCL data type 0x{code:02x}", r.pos - 1) from None


@dataclass(frozen=True, slots=True)
class ReadAttributes:
    """ZCL Read Attributes (general command 0x00): attribute ids, little-endian."""

    attributes: tuple[int, ...]

    def to_bytes(self) -> bytes:
        return b"".join(a.to_bytes(2, "little") for a in self.attributes)

    @classmethod
    def from_bytes(cls, data: bytes) -> ReadAttributes:
        if len(data) % 2:
            raise DecodeError("Read Attributes payload has an odd length")
        return cls(tuple(int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)))


@dataclass(frozen=True, slots=True)
class AttributeRecord:
    """One record of a Read Attributes Response: status 0 carries a typed value."""

    attribute: int
    status: int = 0
    value: ZclValue | None = None

    def __post_init__(self) -> None:
        if (self.status == 0) != (self.value is not None):
            raise EncodeError("a read attribute record has a value iff its status is 0")

    def to_bytes(self) -> bytes:
        out = self.attribute.to_bytes(2, "little") + bytes([self.status])
        if self.value is not None:
            out += bytes([self.value.type]) + self.value.to_bytes()
        return out

    def as_tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = {"attribute": f"0x{self.attribute:04x}", "status": self.status}
        if self.status:
            tree["meaning"] = ZCL_STATUS.get(self.status, "unknown")
        if self.value is not None:
            tree.update(self.value.as_tree())
        return tree


@dataclass(frozen=True, slots=True)
class ReadAttributesResponse:
    """ZCL Read Attributes Response (general command 0x01)."""

    records: tuple[AttributeRecord, ...]

    def to_bytes(self) -> bytes:
        return b"".join(x.to_bytes() for x in self.records)

    @classmethod
    def from_bytes(cls, data: bytes) -> ReadAttributesResponse:
        r = Reader(data)
        records = []
        while not r.at_end():
            attribute = int.from_bytes(r.take(2, "attribute id"), "little")
            status = r.u8("attribute status")
            if status:
                records.append(AttributeRecord(attribute, status))
                continue
            t = _zcl_type(r.u8("attribute type"), r)
            records.append(AttributeRecord(attribute, 0, ZclValue.read(t, r)))
        return cls(tuple(records))

    def get(self, attribute: int) -> AttributeRecord | None:
        for x in self.records:
            if x.attribute == attribute:
                return x
        return None


@dataclass(frozen=True, slots=True)
class DefaultResponse:
    """ZCL Default Response (general command 0x0B): the command answered and a status."""

    command_id: int
    status: int

    def to_bytes(self) -> bytes:
        return bytes([self.command_id, self.status])

    @classmethod
    def from_bytes(cls, data: bytes) -> DefaultResponse:
        if len(data) != 2:
            raise DecodeError(f"Default Response payload is 2 bytes, not {len(data)}")
        return cls(data[0], data[1])


ZCL_STATUS: dict[int, str] = {
    0x00: "SUCCESS",
    0x01: "FAILURE",
    0x7E: "NOT_AUTHORIZED",
    0x80: "MALFORMED_COMMAND",
    0x81: "UNSUP_CLUSTER_COMMAND",
    0x82: "UNSUP_GENERAL_COMMAND",
    0x85: "INVALID_FIELD",
    0x86: "UNSUPPORTED_ATTRIBUTE",
    0x87: "INVALID_VALUE",
    0x88: "READ_ONLY",
    0x89: "INSUFFICIENT_SPACE",
    0x8B: "NOT_FOUND",
    0x8C: "UNREPORTABLE_ATTRIBUTE",
    0x8D: "INVALID_DATA_TYPE",
    0x94: "TIMEOUT",
    0xC0: "HARDWARE_FAILURE",
    0xC1: "SOFTWARE_FAILURE",
    0xC2: "CALIBRATION_ERROR",
    0xC3: "UNSUPPORTED_CLUSTER",
}


# Names of the cluster-specific commands GBCS uses (cluster, direction s->c?, id).
_CLUSTER_COMMANDS: dict[tuple[int, bool, int], str] = {
    (Cluster.METERING, False, 0x00): "GetProfile",
    (Cluster.METERING, False, 0x06): "GetSnapshot",
    (Cluster.METERING, False, 0x0B): "ChangeSupply",
    (Cluster.METERING, False, 0x0D): "SetSupplyStatus",
    (Cluster.METERING, False, 0x0E): "SetUncontrolledFlowThreshold",
    (Cluster.METERING, True, 0x00): "GetProfileResponse",
    (Cluster.METERING, True, 0x06): "PublishSnapshot",
    (Cluster.METERING, True, 0x0C): "SupplyStatusResponse",
    (Cluster.PRICE, True, 0x00): "PublishPrice",
    (Cluster.PRICE, True, 0x02): "PublishTariffInformation",
    (Cluster.PRICE, True, 0x03): "PublishPriceMatrix",
    (Cluster.PRICE, True, 0x04): "PublishBlockThresholds",
    (Cluster.PRICE, True, 0x05): "PublishConversionFactor",
    (Cluster.PRICE, True, 0x06): "PublishCalorificValue",
    (Cluster.PRICE, True, 0x0B): "PublishBillingPeriod",
    (Cluster.PREPAYMENT, False, 0x04): "ConsumerTopUp",
    (Cluster.PREPAYMENT, False, 0x05): "CreditAdjustment",
    (Cluster.PREPAYMENT, False, 0x06): "ChangePaymentMode",
    (Cluster.PREPAYMENT, False, 0x0A): "GetTopUpLog",
    (Cluster.PREPAYMENT, False, 0x0B): "SetLowCreditWarningLevel",
    (Cluster.PREPAYMENT, False, 0x0C): "GetDebtRepaymentLog",
    (Cluster.PREPAYMENT, False, 0x0D): "SetMaximumCreditLimit",
    (Cluster.PREPAYMENT, False, 0x0E): "SetOverallDebtCap",
    (Cluster.PREPAYMENT, True, 0x01): "PublishPrepaySnapshot",
    (Cluster.PREPAYMENT, True, 0x02): "ChangePaymentModeResponse",
    (Cluster.PREPAYMENT, True, 0x03): "ConsumerTopUpResponse",
    (Cluster.PREPAYMENT, True, 0x05): "PublishTopUpLog",
    (Cluster.PREPAYMENT, True, 0x06): "PublishDebtLog",
    (Cluster.CALENDAR, True, 0x00): "PublishCalendar",
    (Cluster.CALENDAR, True, 0x01): "PublishDayProfile",
    (Cluster.CALENDAR, True, 0x02): "PublishWeekProfile",
    (Cluster.CALENDAR, True, 0x03): "PublishSeasons",
    (Cluster.CALENDAR, True, 0x04): "PublishSpecialDays",
    (Cluster.DEVICE_MANAGEMENT, True, 0x01): "PublishChangeOfTenancy",
    (Cluster.DEVICE_MANAGEMENT, True, 0x02): "PublishChangeOfSupplier",
    (Cluster.DEVICE_MANAGEMENT, True, 0x05): "UpdateCIN",
    (Cluster.EVENTS, False, 0x00): "GetEventLog",
    (Cluster.EVENTS, False, 0x01): "ClearEventLogRequest",
    (Cluster.EVENTS, True, 0x01): "PublishEventLog",
    (Cluster.EVENTS, True, 0x02): "ClearEventLogResponse",
    (Cluster.MESSAGING, True, 0x00): "DisplayMessage",
}

_GENERAL_COMMANDS = {
    0x00: "ReadAttributes",
    0x01: "ReadAttributesResponse",
    0x02: "WriteAttributes",
    0x04: "WriteAttributesResponse",
    0x0B: "DefaultResponse",
}


_CLUSTER_NAMES: dict[int, str] = {c: c.name.lower() for c in Cluster}


def _cluster_name(cluster_id: int) -> str:
    name = _CLUSTER_NAMES.get(cluster_id)
    return f"0x{cluster_id:04x}" if name is None else f"{name} (0x{cluster_id:04x})"


def _command_name(frame: ZclFrame, cluster_id: int | None) -> str:
    if not frame.cluster_specific:
        name = _GENERAL_COMMANDS.get(frame.command_id)
    else:
        key = (
            cluster_id if cluster_id is not None else -1,
            frame.server_to_client,
            frame.command_id,
        )
        name = _CLUSTER_COMMANDS.get(key)
    return f"{name or 'command'} (0x{frame.command_id:02x})"


def _payload_tree(frame: ZclFrame) -> dict[str, Any]:
    """The ZCL payload parsed where the command is a known general one, else hex."""
    try:
        if not frame.cluster_specific:
            if frame.command_id == READ_ATTRIBUTES:
                ids = ReadAttributes.from_bytes(frame.payload).attributes
                return {"attributes": [f"0x{a:04x}" for a in ids]}
            if frame.command_id == READ_ATTRIBUTES_RESPONSE:
                records = ReadAttributesResponse.from_bytes(frame.payload).records
                return {"records": [x.as_tree() for x in records]}
            if frame.command_id == DEFAULT_RESPONSE:
                d = DefaultResponse.from_bytes(frame.payload)
                return {
                    "answered_command": f"0x{d.command_id:02x}",
                    "status": d.status,
                    "meaning": ZCL_STATUS.get(d.status, "unknown"),
                }
    except DecodeError:
        pass
    return {"payload": frame.payload.hex()}


GbzMessage = GbzPayload | GbzAlert


def decode_gbz(data: bytes, *, alert: bool = False) -> GbzMessage:
    """Decode GBZ content; ``alert`` selects the alert header (the CRA flag says)."""
    return GbzAlert.from_bytes(data) if alert else GbzPayload.from_bytes(data)

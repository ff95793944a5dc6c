"""HAN and hub: CCS01 / CCS02 (add / remove a device in the CHF device log), CCS03 (restore
the CHF device log), CS03 joins and CS04ac unjoins (ASN.1), GCS59 (restore the GPF device log)
and GCS31 (start the GSME's network data log). The CHF device log reads (CCS05/CCS04, CCS06)
are tabled reads (:mod:`gbcs.content.reads`)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    _check_exact,
    _int,
    _items,
    _octets,
    _parse_request,
    _request,
    _sequence,
    _when,
    register,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import asn1, dlms
from gbcs.payloads.dlms import (
    AccessSpec,
    CosemDateTime,
    Data,
)
from gbcs.payloads.gbz import (
    CONTROL_LAST,
    FC_CLUSTER_SPECIFIC,
    FC_SERVER_TO_CLIENT,
    Cluster,
    GbzComponent,
    GbzPayload,
    ZclFrame,
)

# =========================================================================== CCS01 / CCS02

ZIGBEE_NETWORK_CONTROL = "0-0:30.3.0.255"
"""IC 104 ZigBee network control of the CHF: method 1 register_device, 2 unregister_device,
5 restore_PAN; attribute 2 enable_disable_joining, 3 join_timeout."""

RESTORE_PAN = 5
"""IC 104's restore_PAN method (CCS03)."""


@dataclass(frozen=True, slots=True)
class AddDeviceLogEntry(DlmsCommand):
    """CCS01 Add Device to CHF device log: register the device (EUI, device type, install
    code) then set the join timeout and enable joining.

    ``device_type`` and ``option`` are sent as the reference messages send them (1 and 0
    for an ESME); their full value lists are not confirmed here.
    """

    counter: int
    device: bytes
    install_code: bytes
    join_timeout: int = 90
    """DUIS JoinTimePeriod, minutes."""
    device_type: int = 1
    option: int = 0
    enable_joining: bool = True
    message_code: ClassVar[int] = 0x0001

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.action(104, ZIGBEE_NETWORK_CONTROL, 1),
            dlms.set_(104, ZIGBEE_NETWORK_CONTROL, 3),
            dlms.set_(104, ZIGBEE_NETWORK_CONTROL, 2),
        )

    def encode(self) -> bytes:
        entry = dlms.structure(
            dlms.octet_string(self.device),
            dlms.enum(self.device_type),
            dlms.octet_string(self.install_code),
            dlms.enum(self.option),
        )
        data: list[Data] = [
            entry,
            dlms.long_unsigned(self.join_timeout),
            dlms.boolean(self.enable_joining),
        ]
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> AddDeviceLogEntry:
        counter, data = _parse_request(content, cls(0, bytes(8), b"").specs())
        device, device_type, install_code, option = _items(data[0], "register_device", 4)
        joining = data[2]
        if not isinstance(joining, dlms.Boolean):
            raise DecodeError("enable_disable_joining: expected a boolean")
        return cls(
            counter,
            _octets(device, "device EUI"),
            _octets(install_code, "install code"),
            _int(data[1], "join_timeout", dlms.DataType.LONG_UNSIGNED),
            _int(device_type, "device type", dlms.DataType.ENUM),
            _int(option, "register_device option", dlms.DataType.ENUM),
            joining.value,
        )


@dataclass(frozen=True, slots=True)
class RemoveDeviceLogEntry(DlmsCommand):
    """CCS02 Remove device from CHF device log: IC 104 method 2 with the device's EUI."""

    counter: int
    device: bytes
    message_code: ClassVar[int] = 0x0002

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(104, ZIGBEE_NETWORK_CONTROL, 2),)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), [dlms.octet_string(self.device)])

    @classmethod
    def decode(cls, content: bytes) -> RemoveDeviceLogEntry:
        counter, (device,) = _parse_request(content, (dlms.action(104, ZIGBEE_NETWORK_CONTROL, 2),))
        return cls(counter, _octets(device, "device EUI"))


# =========================================================================== CCS03


@dataclass(frozen=True, slots=True)
class RestoreChfDeviceLog(DlmsCommand):
    """CCS03 Restore CHF Device Log: IC 104 ``restore_PAN`` with ``structure {
    extended_PAN_ID octet-string (8), device_log array of structure { ieee_address
    octet-string (8), device_type enum } }``. GBCS has the hub form its network with the
    extended PAN ID the command gives, and the entries are the device log as the DCC holds
    it, each device's type in the ``otherDeviceType`` numbering of the joins
    (:data:`OTHER_DEVICE_TYPES`; CCS01's ``device_type`` is 1 for an ESME too).

    Known difference: GBCS's entry is ``structure { EUI, the device's 16-byte key }`` - the
    entries of the hub's backup (CCS07, :class:`ChfSecurityLogs`) - where this one carries
    the device type. The SMI keeps no device keys to send (the gateway would keep the old
    hub's last CCS07 backup for that), so the type stays until it does."""

    counter: int
    extended_pan_id: bytes
    entries: tuple[tuple[bytes, int], ...]
    message_code: ClassVar[int] = 0x0003

    def __post_init__(self) -> None:
        if len(self.extended_pan_id) != 8:
            raise EncodeError(f"an extended PAN ID is 8 bytes, not {len(self.extended_pan_id)}")
        for eui, kind in self.entries:
            if len(eui) != 8:
                raise EncodeError(f"a device EUI is 8 bytes, not {len(eui)}")
            if kind not in OTHER_DEVICE_TYPES.values():
                raise EncodeError(f"device type {kind} is not 0 to 6")

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(104, ZIGBEE_NETWORK_CONTROL, RESTORE_PAN),)

    def encode(self) -> bytes:
        log = dlms.array(
            *(dlms.structure(dlms.octet_string(eui), dlms.enum(kind)) for eui, kind in self.entries)
        )
        data = dlms.structure(dlms.octet_string(self.extended_pan_id), log)
        return _request(self.counter, self.specs(), [data])

    @classmethod
    def decode(cls, content: bytes) -> RestoreChfDeviceLog:
        counter, (data,) = _parse_request(
            content, (dlms.action(104, ZIGBEE_NETWORK_CONTROL, RESTORE_PAN),)
        )
        pan, log = _items(data, "restore_PAN", 2)
        if not isinstance(log, dlms.Array):
            raise DecodeError("restore_PAN device_log: expected an array")
        entries = []
        for item in log.items:
            eui, kind = _items(item, "device log entry", 2)
            entries.append(
                (_octets(eui, "ieee_address"), _int(kind, "device_type", dlms.DataType.ENUM))
            )
        try:
            return cls(counter, _octets(pan, "extended_PAN_ID"), tuple(entries))
        except EncodeError as exc:
            raise DecodeError(f"CCS03: {exc}") from None


# =========================================================================== CCS07

BACKUP_LOG = 4
"""IC 104's method that returns the network's device log with each device's security detail
(CCS07, GBCS's backup of the hub's logs ahead of a CCS03 restore)."""

SECOND_NETWORK_CONTROL = "0-0:30.3.1.255"
"""The CHF's second ZigBee network control object (IC 104), whose log CCS07 reads too."""

LINK_KEY_BYTES = 16


@dataclass(frozen=True, slots=True)
class ReadChfSecurityLog(DlmsCommand):
    """CCS07 Read CHF device log with security details (SR8.9 with ``ReadSecurityDetails``):
    IC 104 method 4 on both network control objects, no argument."""

    counter: int
    message_code: ClassVar[int] = 0x00FE

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.action(104, ZIGBEE_NETWORK_CONTROL, BACKUP_LOG),
            dlms.action(104, SECOND_NETWORK_CONTROL, BACKUP_LOG),
        )

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), (dlms.NULL, dlms.NULL))

    @classmethod
    def decode(cls, content: bytes) -> ReadChfSecurityLog:
        counter, data = _parse_request(content, cls(0).specs())
        if any(not isinstance(d, dlms.Null) for d in data):
            raise DecodeError("CCS07: the methods take no argument")
        found = cls(counter)
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class SecurityLog:
    """One network's log as CCS07 returns it: ``structure { capture time (COSEM date-time),
    extended PAN ID octet-string (8), array of structure { EUI octet-string (8), link key
    octet-string (16) } }``."""

    taken: _dt.datetime
    extended_pan_id: bytes
    entries: tuple[tuple[bytes, bytes], ...]

    def __post_init__(self) -> None:
        if len(self.extended_pan_id) != 8:
            raise EncodeError(f"an extended PAN ID is 8 bytes, not {len(self.extended_pan_id)}")
        for eui, key in self.entries:
            if len(eui) != 8 or len(key) != LINK_KEY_BYTES:
                raise EncodeError("a CCS07 entry is an 8-byte EUI and a 16-byte key")

    def data(self) -> Data:
        return dlms.structure(
            dlms.octet_string(CosemDateTime.from_datetime(self.taken).to_bytes()),
            dlms.octet_string(self.extended_pan_id),
            dlms.array(
                *(
                    dlms.structure(dlms.octet_string(eui), dlms.octet_string(key))
                    for eui, key in self.entries
                )
            ),
        )

    @classmethod
    def from_data(cls, data: Data) -> SecurityLog:
        taken, pan, log = _items(data, "CCS07 log", 3)
        if not isinstance(log, dlms.Array):
            raise DecodeError("CCS07 log entries: expected an array")
        entries = []
        for item in log.items:
            eui, key = _items(item, "CCS07 entry", 2)
            entries.append((_octets(eui, "EUI"), _octets(key, "link key")))
        try:
            return cls(_when(taken, "CCS07 capture time"), _octets(pan, "PAN ID"), tuple(entries))
        except EncodeError as exc:
            raise DecodeError(f"CCS07: {exc}") from None


@dataclass(frozen=True, slots=True)
class ChfSecurityLogs:
    """The CHF's answer to CCS07: each network's :class:`SecurityLog`, action results 0."""

    counter: int
    logs: tuple[SecurityLog, SecurityLog]

    def encode(self) -> bytes:
        return dlms.AccessResponse(
            dlms.invoke_id_for(self.counter),
            tuple(log.data() for log in self.logs),
            (dlms.AccessResult(dlms.AccessKind.ACTION, 0),) * 2,
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ChfSecurityLogs:
        apdu = dlms.decode_dlms(content)
        if not isinstance(apdu, dlms.AccessResponse) or len(apdu.data) != 2:
            raise DecodeError("CCS07: expected an Access-Response of two logs")
        first, second = (SecurityLog.from_data(d) for d in apdu.data)
        found = cls(apdu.invoke_id & 0xFFFFFF, (first, second))
        _check_exact(found, content)
        return found


# =========================================================================== CS03 / CS04ac

JOIN_METHODS = {"CS03A1": 0, "CS03A2": 1, "CS03B": 2, "CS03C": 3}
"""GBCS ``JoinMethodAndRole``: methodAInitiator (0), methodAResponder (1), methodB (2),
methodC (3), by the use case that carries it."""

JOIN_CODES = {"CS03A1": 0x000D, "CS03A2": 0x00AB, "CS03B": 0x000E, "CS03C": 0x00AF}

_CODE_OF_METHOD = {JOIN_METHODS[name]: code for name, code in JOIN_CODES.items()}

OTHER_DEVICE_TYPES = {"GSME": 0, "ESME": 1, "CHF": 2, "GPF": 3, "HCALCS": 4, "PPMID": 5, "IHD": 6}
"""GBCS ``DeviceType`` of the device entered in the target's device log (``type2`` is 6)."""


@dataclass(frozen=True, slots=True)
class JoinDevice:
    """CS03a1 / CS03a2 / CS03b / CS03c Join: ``SEQUENCE { joinMethodAndRole INTEGER,
    otherDeviceEntityIdentifier OCTET STRING (8), otherDeviceType INTEGER,
    otherDeviceCertificate Certificate OPTIONAL }``. The certificate (DER, the other device's
    key agreement certificate) is present only in a method C join (GSME with PPMID)."""

    method: int
    other: bytes
    other_type: int
    certificate: bytes | None = None

    def __post_init__(self) -> None:
        if self.method not in JOIN_METHODS.values():
            raise EncodeError(f"join method {self.method} is not 0 to 3")
        if len(self.other) != 8:
            raise EncodeError(f"a device EUI is 8 bytes, not {len(self.other)}")
        if self.other_type not in OTHER_DEVICE_TYPES.values():
            raise EncodeError(f"device type {self.other_type} is not 0 to 6")

    @property
    def message_code(self) -> int:
        """The join's use case: CS03a1 (0x000D), CS03a2 (0x00AB), CS03b (0x000E), CS03c (0x00AF)."""
        return _CODE_OF_METHOD[self.method]

    def encode(self) -> bytes:
        items = [
            asn1.der_integer(self.method),
            asn1.der_octet_string(self.other),
            asn1.der_integer(self.other_type),
        ]
        if self.certificate is not None:
            items.append(asn1.decode_der(self.certificate))
        return asn1.der_sequence(*items).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> JoinDevice:
        node = _sequence(content)
        children = node.children or ()
        if len(children) not in (3, 4) or children[1].tag != asn1.OCTET_STRING:
            raise DecodeError("CS03: expected SEQUENCE { INTEGER, OCTET STRING, INTEGER [, cert] }")
        certificate = children[3].to_bytes() if len(children) == 4 else None
        try:
            join = cls(
                children[0].int_value(), children[1].value, children[2].int_value(), certificate
            )
        except EncodeError as exc:
            raise DecodeError(str(exc)) from None
        _check_exact(join, content)
        return join


@dataclass(frozen=True, slots=True)
class UnjoinDevice:
    """CS04ac Method A or C Unjoin: the other device's EUI as an OCTET STRING."""

    other: bytes
    message_code: ClassVar[int] = 0x000F

    def encode(self) -> bytes:
        if len(self.other) != 8:
            raise EncodeError(f"a device EUI is 8 bytes, not {len(self.other)}")
        return asn1.der_octet_string(self.other).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> UnjoinDevice:
        node = asn1.decode_der(content)
        if node.tag != asn1.OCTET_STRING or len(node.value) != 8:
            raise DecodeError("CS04ac: expected the other device's EUI (OCTET STRING of 8)")
        return cls(node.value)


@dataclass(frozen=True, slots=True)
class UnjoinMethodB(UnjoinDevice):
    """CS04b Method B Unjoin: GBCS gives it the content of CS04ac (the other device's EUI as
    an OCTET STRING) under its own message code, answered by the same INTEGER."""

    message_code: ClassVar[int] = 0x0010


@dataclass(frozen=True, slots=True)
class JoinOutcome:
    """The response to a CS03 join or CS04 unjoin: an INTEGER (0 success; the reference
    data's errors are 2 and 3)."""

    outcome: int

    @property
    def ok(self) -> bool:
        return self.outcome == 0

    def encode(self) -> bytes:
        return asn1.der_integer(self.outcome).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> JoinOutcome:
        node = asn1.decode_der(content)
        if node.tag != asn1.INTEGER:
            raise DecodeError("join response: expected an INTEGER")
        found = cls(node.int_value())
        _check_exact(found, content)
        return found


# =========================================================================== GCS59


@dataclass(frozen=True, slots=True)
class RestoreGpfDeviceLog:
    """GCS59 Restore GPF Device Log: ``SEQUENCE { SEQUENCE OF SEQUENCE { entityIdentifier
    OCTET STRING (8), deviceType INTEGER } }``, the old GPF's device log as the DCC holds it."""

    entries: tuple[tuple[bytes, int], ...]
    message_code: ClassVar[int] = 0x008C

    def encode(self) -> bytes:
        rows = [
            asn1.der_sequence(asn1.der_octet_string(eui), asn1.der_integer(kind))
            for eui, kind in self.entries
        ]
        return asn1.der_sequence(asn1.der_sequence(*rows)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> RestoreGpfDeviceLog:
        node = _sequence(content, 1)
        entries: list[tuple[bytes, int]] = []
        for row in node.child(0).children or ():
            if row.children is None or len(row.children) != 2:
                raise DecodeError("GCS59: each entry is SEQUENCE { OCTET STRING, INTEGER }")
            entries.append((row.child(0).value, row.child(1).int_value()))
        found = cls(tuple(entries))
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class GpfDeviceLogRestored:
    """GCS59 response: each entry of the command with its outcome (0 restored)."""

    results: tuple[tuple[bytes, int, int], ...]

    @property
    def ok(self) -> bool:
        return all(r == 0 for _, _, r in self.results)

    def encode(self) -> bytes:
        rows = [
            asn1.der_sequence(
                asn1.der_sequence(asn1.der_octet_string(eui), asn1.der_integer(kind)),
                asn1.der_integer(result),
            )
            for eui, kind, result in self.results
        ]
        return asn1.der_sequence(asn1.der_sequence(*rows)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GpfDeviceLogRestored:
        node = _sequence(content, 1)
        results: list[tuple[bytes, int, int]] = []
        for row in node.child(0).children or ():
            entry = row.child(0)
            results.append(
                (entry.child(0).value, entry.child(1).int_value(), row.child(1).int_value())
            )
        found = cls(tuple(results))
        _check_exact(found, content)
        return found


# =========================================================================== GCS31

START_SAMPLING = 0x07
START_SAMPLING_RESPONSE = 0x0D
NETWORK_DATA_INTERVAL = 360
"""GCS31's SampleRequestInterval (seconds) and MaxNumberOfSamples: six-minute samples over
four hours, as the DCC's reference command sends them (not confirmed against GBCS here)."""
NETWORK_DATA_SAMPLES = 41
SAMPLE_FAILED = 0xFFFF
"""StartSamplingResponse SampleID of a refused sampling (ZigBee SE)."""


def _one_metering_frame(content: bytes, what: str) -> ZclFrame:
    payload = GbzPayload.from_bytes(content)
    if len(payload.components) != 1 or not isinstance(payload.components[0].frame, ZclFrame):
        raise DecodeError(f"{what}: expected one plain GBZ component")
    if payload.components[0].cluster_id != Cluster.METERING:
        raise DecodeError(f"{what}: expected the Metering cluster")
    return payload.components[0].frame


def _metering_frame(frame: ZclFrame) -> bytes:
    return GbzPayload((GbzComponent(Cluster.METERING, frame, CONTROL_LAST),)).to_bytes()


@dataclass(frozen=True, slots=True)
class StartNetworkDataLog:
    """GCS31 Start Network Data Log on GSME: ZCL Metering StartSampling (0x07), little-endian
    IssuerEventID, StartSamplingTime (ZigBee UTC, 0 = now), SampleType (0: consumption
    delivered), SampleRequestInterval (s), MaxNumberOfSamples."""

    issuer_event_id: int
    start_time: int = 0
    sample_type: int = 0
    interval: int = NETWORK_DATA_INTERVAL
    samples: int = NETWORK_DATA_SAMPLES
    message_code: ClassVar[int] = 0x0080

    def encode(self) -> bytes:
        payload = (
            self.issuer_event_id.to_bytes(4, "little")
            + self.start_time.to_bytes(4, "little")
            + bytes([self.sample_type])
            + self.interval.to_bytes(2, "little")
            + self.samples.to_bytes(2, "little")
        )
        return _metering_frame(ZclFrame(FC_CLUSTER_SPECIFIC, 0, START_SAMPLING, payload))

    @classmethod
    def decode(cls, content: bytes) -> StartNetworkDataLog:
        frame = _one_metering_frame(content, "StartSampling")
        p = frame.payload
        if frame.command_id != START_SAMPLING or len(p) != 13:
            raise DecodeError("expected a ZCL StartSampling")
        found = cls(
            int.from_bytes(p[0:4], "little"),
            int.from_bytes(p[4:8], "little"),
            p[8],
            int.from_bytes(p[9:11], "little"),
            int.from_bytes(p[11:13], "little"),
        )
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class NetworkDataLogStarted:
    """GCS31 response: ZCL StartSamplingResponse (0x0D), the SampleID (0xFFFF: refused)."""

    sample_id: int

    @property
    def ok(self) -> bool:
        return self.sample_id != SAMPLE_FAILED

    def encode(self) -> bytes:
        frame = ZclFrame(
            FC_CLUSTER_SPECIFIC | FC_SERVER_TO_CLIENT,
            0,
            START_SAMPLING_RESPONSE,
            self.sample_id.to_bytes(2, "little"),
        )
        return _metering_frame(frame)

    @classmethod
    def decode(cls, content: bytes) -> NetworkDataLogStarted:
        frame = _one_metering_frame(content, "StartSamplingResponse")
        if frame.command_id != START_SAMPLING_RESPONSE or len(frame.payload) != 2:
            raise DecodeError("expected a ZCL StartSamplingResponse")
        found = cls(int.from_bytes(frame.payload, "little"))
        _check_exact(found, content)
        return found


# =========================================================================== registry

Command = (
    AddDeviceLogEntry
    | RemoveDeviceLogEntry
    | RestoreChfDeviceLog
    | JoinDevice
    | UnjoinDevice
    | UnjoinMethodB
    | RestoreGpfDeviceLog
    | ReadChfSecurityLog
    | StartNetworkDataLog
)
Response = JoinOutcome | GpfDeviceLogRestored | NetworkDataLogStarted | ChfSecurityLogs
"""This family's own response shapes (besides the shared ``Outcome``)."""

register(0x0001, AddDeviceLogEntry.decode, Outcome.decode)
register(0x0002, RemoveDeviceLogEntry.decode, Outcome.decode)
register(0x0003, RestoreChfDeviceLog.decode, Outcome.decode)
register(0x00FE, ReadChfSecurityLog.decode, ChfSecurityLogs.decode, Outcome.decode)
for _code in JOIN_CODES.values():
    register(_code, JoinDevice.decode, JoinOutcome.decode)
register(0x000F, UnjoinDevice.decode, JoinOutcome.decode)
register(0x0010, UnjoinMethodB.decode, JoinOutcome.decode)
register(0x008C, RestoreGpfDeviceLog.decode, GpfDeviceLogRestored.decode)
register(0x0080, StartNetworkDataLog.decode, NetworkDataLogStarted.decode)


__all__ = [
    "BACKUP_LOG",
    "JOIN_CODES",
    "JOIN_METHODS",
    "LINK_KEY_BYTES",
    "NETWORK_DATA_INTERVAL",
    "NETWORK_DATA_SAMPLES",
    "OTHER_DEVICE_TYPES",
    "RESTORE_PAN",
    "SECOND_NETWORK_CONTROL",
    "ZIGBEE_NETWORK_CONTROL",
    "AddDeviceLogEntry",
    "ChfSecurityLogs",
    "GpfDeviceLogRestored",
    "JoinDevice",
    "JoinOutcome",
    "NetworkDataLogStarted",
    "ReadChfSecurityLog",
    "RemoveDeviceLogEntry",
    "RestoreChfDeviceLog",
    "RestoreGpfDeviceLog",
    "SecurityLog",
    "StartNetworkDataLog",
    "UnjoinDevice",
    "UnjoinMethodB",
]

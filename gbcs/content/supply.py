"""Supply and load control: ECS42/43/44 (ESME supply enable, disable, arm) and GCS32/33/39
(GSME valve close, read valve status, arm valve).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    ZclFailure,
    _check_exact,
    _fixed_request_counter,
    _int,
    _parse_request,
    _request,
    register,
)
from gbcs.errors import DecodeError
from gbcs.payloads import dlms, gbz
from gbcs.payloads.dlms import (
    AccessSpec,
)
from gbcs.payloads.gbz import (
    CONTROL_LAST,
    AttributeRecord,
    Cluster,
    GbzComponent,
    GbzPayload,
    ReadAttributes,
    ReadAttributesResponse,
    ZclFrame,
    ZclType,
    ZclValue,
)

# =========================================================================== ECS42/43/44

LOAD_SWITCH_SCRIPTS = "0-0:10.0.106.255"
"""IC 9 script table whose scripts drive the load switch."""


class _LoadSwitch(DlmsCommand):
    __slots__ = ()
    script: ClassVar[int]

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(9, LOAD_SWITCH_SCRIPTS, 1),)

    def encode(self) -> bytes:
        body = _LOAD_SWITCH_BODIES.get(self.script)
        if body is None:
            return self._encode_tree()
        return b"\xd9" + dlms.invoke_id_for(self.counter).to_bytes(4, "big") + body

    def _encode_tree(self) -> bytes:
        """The reference encoder; :meth:`encode` writes the same bytes from a template."""
        return _request(self.counter, self.specs(), [dlms.long_unsigned(self.script)])


@dataclass(frozen=True, slots=True)
class SupplyEnable(_LoadSwitch):
    """ECS42 Remotely Close the Load Switch (supply enable): script 51."""

    counter: int
    message_code: ClassVar[int] = 0x004F
    script: ClassVar[int] = 0x33

    @classmethod
    def decode(cls, content: bytes) -> SupplyEnable:
        return cls(_decode_script(content, cls.script))


@dataclass(frozen=True, slots=True)
class SupplyDisable(_LoadSwitch):
    """ECS43 Remotely Open the Load Switch (supply disable): script 52."""

    counter: int
    message_code: ClassVar[int] = 0x0050
    script: ClassVar[int] = 0x34

    @classmethod
    def decode(cls, content: bytes) -> SupplyDisable:
        return cls(_decode_script(content, cls.script))


@dataclass(frozen=True, slots=True)
class SupplyArm(_LoadSwitch):
    """ECS44 Arm Load Switch: script 54."""

    counter: int
    message_code: ClassVar[int] = 0x0051
    script: ClassVar[int] = 0x36

    @classmethod
    def decode(cls, content: bytes) -> SupplyArm:
        return cls(_decode_script(content, cls.script))


_LOAD_SWITCH_BODIES: dict[int, bytes] = {
    switch.script: switch(0)._encode_tree()[5:]
    for switch in (SupplyEnable, SupplyDisable, SupplyArm)
}
"""Each load-switch request after its invoke id (made once by the reference encoder)."""


def _decode_script(content: bytes, script: int) -> int:
    body = _LOAD_SWITCH_BODIES.get(script)
    counter = None if body is None else _fixed_request_counter(content, body)
    return _decode_script_tree(content, script) if counter is None else counter


def _decode_script_tree(content: bytes, script: int) -> int:
    """The reference decoder (the fast path takes exactly what the encoder writes)."""
    counter, (value,) = _parse_request(content, (dlms.action(9, LOAD_SWITCH_SCRIPTS, 1),))
    found = _int(value, "script id", dlms.DataType.LONG_UNSIGNED)
    if found != script:
        raise DecodeError(f"load switch script {found}, expected {script}")
    return counter


# =========================================================================== GCS32/33/39


class SupplyStatus(IntEnum):
    """ZCL Metering supply status (and ChangeSupply proposed status)."""

    OFF = 0
    ARMED = 1
    ON = 2


def _single_frame(content: bytes, what: str) -> ZclFrame:
    payload = GbzPayload.from_bytes(content)
    if len(payload.components) != 1 or not isinstance(payload.components[0].frame, ZclFrame):
        raise DecodeError(f"{what}: expected one plain GBZ component")
    if payload.components[0].cluster_id != Cluster.METERING:
        raise DecodeError(f"{what}: expected the Metering cluster")
    return payload.components[0].frame


def _metering(frame: ZclFrame) -> bytes:
    return GbzPayload((GbzComponent(Cluster.METERING, frame, CONTROL_LAST),)).to_bytes()


@dataclass(frozen=True, slots=True)
class _ChangeSupply:
    """ZCL Metering ChangeSupply (0x0B), little-endian: provider id, issuer event id,
    request time, implementation time (ZigBee UTCTime, 0 = now), proposed status, control
    bits (0x01: acknowledge)."""

    issuer_event_id: int
    implementation_time: int = 0
    request_time: int = 0
    provider_id: int = 0
    control_bits: int = 0x01
    proposed: ClassVar[SupplyStatus]

    def encode(self) -> bytes:
        payload = (
            self.provider_id.to_bytes(4, "little")
            + self.issuer_event_id.to_bytes(4, "little")
            + self.request_time.to_bytes(4, "little")
            + self.implementation_time.to_bytes(4, "little")
            + bytes([self.proposed, self.control_bits])
        )
        return _metering(ZclFrame(gbz.FC_CLUSTER_SPECIFIC, 0, 0x0B, payload))

    @classmethod
    def _fields(cls, content: bytes) -> tuple[int, int, int, int, int]:
        frame = _single_frame(content, "ChangeSupply")
        p = frame.payload
        if frame.command_id != 0x0B or len(p) != 18:
            raise DecodeError("expected a ZCL ChangeSupply")
        if p[16] != cls.proposed:
            raise DecodeError(f"proposed supply status {p[16]}, expected {int(cls.proposed)}")

        def u32(i: int) -> int:
            return int.from_bytes(p[i : i + 4], "little")

        return u32(4), u32(12), u32(8), u32(0), p[17]


@dataclass(frozen=True, slots=True)
class ValveClose(_ChangeSupply):
    """GCS32 Remotely close the valve (ChangeSupply to Supply OFF). GBCS has no remote
    valve opening: the valve is armed (GCS39) and the consumer opens it on the meter."""

    message_code: ClassVar[int] = 0x0081
    proposed: ClassVar[SupplyStatus] = SupplyStatus.OFF

    @classmethod
    def decode(cls, content: bytes) -> ValveClose:
        found = cls(*cls._fields(content))
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ValveArm(_ChangeSupply):
    """GCS39 Arm Valve in GSME (ChangeSupply to Supply OFF/ARMED)."""

    message_code: ClassVar[int] = 0x0085
    proposed: ClassVar[SupplyStatus] = SupplyStatus.ARMED

    @classmethod
    def decode(cls, content: bytes) -> ValveArm:
        found = cls(*cls._fields(content))
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ValveState:
    """GCS32/GCS39 response: ZCL SupplyStatusResponse (0x0C): provider id, issuer event id
    (echoed), implementation time, the supply status now."""

    issuer_event_id: int
    status: SupplyStatus
    implementation_time: int = 0
    provider_id: int = 0

    ok: ClassVar[bool] = True

    @classmethod
    def for_command(cls, command: ValveClose | ValveArm, status: SupplyStatus) -> ValveState:
        return cls(
            command.issuer_event_id, status, command.implementation_time, command.provider_id
        )

    def encode(self) -> bytes:
        payload = (
            self.provider_id.to_bytes(4, "little")
            + self.issuer_event_id.to_bytes(4, "little")
            + self.implementation_time.to_bytes(4, "little")
            + bytes([self.status])
        )
        return _metering(
            ZclFrame(gbz.FC_CLUSTER_SPECIFIC | gbz.FC_SERVER_TO_CLIENT, 0, 0x0C, payload)
        )

    @classmethod
    def decode(cls, content: bytes) -> ValveState:
        frame = _single_frame(content, "SupplyStatusResponse")
        p = frame.payload
        if frame.command_id != 0x0C or len(p) != 13 or p[12] > 2:
            raise DecodeError("expected a ZCL SupplyStatusResponse")
        found = cls(
            int.from_bytes(p[4:8], "little"),
            SupplyStatus(p[12]),
            int.from_bytes(p[8:12], "little"),
            int.from_bytes(p[0:4], "little"),
        )
        _check_exact(found, content)
        return found


VALVE_ATTRIBUTES = (0x0205, 0x0014)
"""RemainingBatteryLifeInDays, SupplyStatus (Metering cluster)."""


@dataclass(frozen=True, slots=True)
class ReadValve:
    """GCS33 Read GSME Valve Status: ZCL Read Attributes (battery life in days, supply
    status)."""

    message_code: ClassVar[int] = 0x0082

    def encode(self) -> bytes:
        return _metering(
            ZclFrame(0x00, 0, gbz.READ_ATTRIBUTES, ReadAttributes(VALVE_ATTRIBUTES).to_bytes())
        )

    @classmethod
    def decode(cls, content: bytes) -> ReadValve:
        found = cls()
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ValveStatus:
    """GCS33 response: supply (valve) status and remaining battery life in days."""

    status: SupplyStatus
    battery_days: int

    ok: ClassVar[bool] = True

    def encode(self) -> bytes:
        records = ReadAttributesResponse(
            (
                AttributeRecord(0x0205, 0, ZclValue.uint(ZclType.UINT16, self.battery_days)),
                AttributeRecord(0x0014, 0, ZclValue.uint(ZclType.ENUM8, self.status)),
            )
        )
        return _metering(
            ZclFrame(gbz.FC_SERVER_TO_CLIENT, 0, gbz.READ_ATTRIBUTES_RESPONSE, records.to_bytes())
        )

    @classmethod
    def decode(cls, content: bytes) -> ValveStatus:
        frame = _single_frame(content, "GCS33 response")
        if frame.cluster_specific or frame.command_id != gbz.READ_ATTRIBUTES_RESPONSE:
            raise DecodeError("GCS33 response: expected a Read Attributes Response")
        records = ReadAttributesResponse.from_bytes(frame.payload)
        battery, status = records.get(0x0205), records.get(0x0014)
        if battery is None or status is None or battery.value is None or status.value is None:
            raise DecodeError("GCS33 response: missing attributes")
        b, s = battery.value.value, status.value.value
        if not isinstance(b, int) or not isinstance(s, int) or s > 2:
            raise DecodeError("GCS33 response: bad attribute values")
        found = cls(SupplyStatus(s), b)
        _check_exact(found, content)
        return found


# =========================================================================== registry

Command = SupplyEnable | SupplyDisable | SupplyArm | ValveClose | ValveArm | ReadValve
Response = ValveState | ValveStatus
"""This family's own response shapes (besides the shared ``Outcome`` / ``ZclFailure``)."""

register(0x004F, SupplyEnable.decode, Outcome.decode)
register(0x0050, SupplyDisable.decode, Outcome.decode)
register(0x0051, SupplyArm.decode, Outcome.decode)
register(0x0081, ValveClose.decode, ValveState.decode, ZclFailure.decode)
register(0x0085, ValveArm.decode, ValveState.decode, ZclFailure.decode)
register(0x0082, ReadValve.decode, ValveStatus.decode, ZclFailure.decode)


__all__ = [
    "LOAD_SWITCH_SCRIPTS",
    "VALVE_ATTRIBUTES",
    "ReadValve",
    "SupplyArm",
    "SupplyDisable",
    "SupplyEnable",
    "SupplyStatus",
    "ValveArm",
    "ValveClose",
    "ValveState",
    "ValveStatus",
]

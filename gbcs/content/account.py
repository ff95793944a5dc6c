"""Prepayment and account use cases beside the tariff itself: block counter resets (ECS05,
ECS48), emergency credit (ECS09, GCS06), supplier messages (ECS10, GCS07), change of tenancy
(ECS12, GCS09), event log clearing (ECS15c, CS11), supplier contact details (ECS16, GCS44),
the gas privacy PIN (GCS11), the gas meter balance (GCS40a - GCS40d) and gas debt
(GCS04).

The ZCL contents carry an *Issuer Event ID* (or message id) that the DCC fills in with its
own clock (ZigBee UTC seconds when it builds the command): it is the ``issued`` field here,
given by the gateway, never a counter. ZCL fields are little-endian.
"""

from __future__ import annotations

import datetime as _dt
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    ZclFailure,
    _check_exact,
    _items,
    _octets,
    _parse_request,
    _request,
    register,
)
from gbcs.content._zcl import (
    _FROM_SERVER,
    _TO_DEVICE,
    _gbz,
    _payloads,
    _read_strings,
    _u32,
    _unpack,
    _zcl_string,
    issuer_id,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import dlms, gbz
from gbcs.payloads.dlms import AccessSpec, CosemDateTime, Data
from gbcs.payloads.gbz import CONTROL_LAST, Cluster, GbzComponent, GbzPayload, ZclFrame

# =========================================================================== DLMS commands

BLOCK_SCRIPTS = "0-0:10.0.100.255"
RESET_BLOCK_COUNTERS = 99
"""The tariff script table entry that resets the tariff block counter matrix."""


@dataclass(frozen=True, slots=True)
class _FixedAction(DlmsCommand):
    """A command that invokes one method with a fixed argument: only its counter varies."""

    counter: int
    SPEC: ClassVar[AccessSpec]
    ARGUMENT: ClassVar[Data]

    def specs(self) -> tuple[AccessSpec, ...]:
        return (self.SPEC,)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), (self.ARGUMENT,))

    @classmethod
    def decode(cls, content: bytes) -> Self:
        counter, _ = _parse_request(content, (cls.SPEC,))
        found = cls(counter)
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ResetBlockCounters(_FixedAction):
    """ECS05: execute the tariff script that resets the block counter matrix."""

    message_code: ClassVar[int] = 0x001D
    SPEC: ClassVar[AccessSpec] = dlms.action(9, BLOCK_SCRIPTS, 1)
    ARGUMENT: ClassVar[Data] = dlms.long_unsigned(RESET_BLOCK_COUNTERS)


EMERGENCY_CREDIT = "0-0:19.10.1.255"


@dataclass(frozen=True, slots=True)
class ActivateEmergencyCredit(_FixedAction):
    """ECS09: invoke the emergency credit account's activate method."""

    message_code: ClassVar[int] = 0x0020
    SPEC: ClassVar[AccessSpec] = dlms.action(112, EMERGENCY_CREDIT, 3)
    ARGUMENT: ClassVar[Data] = dlms.integer(0)


SUPPLIER_MESSAGE = "0-2:96.13.1.255"


@dataclass(frozen=True, slots=True)
class SendMessage(DlmsCommand):
    """ECS10: the supplier message the ESME shows (its text as sent)."""

    counter: int
    text: bytes
    message_code: ClassVar[int] = 0x0021

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.set_(1, SUPPLIER_MESSAGE, 2),)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), (dlms.octet_string(self.text),))

    @classmethod
    def decode(cls, content: bytes) -> SendMessage:
        counter, data = _parse_request(content, cls(0, b"").specs())
        found = cls(counter, _octets(data[0], "ECS10 message"))
        _check_exact(found, content)
        return found


TENANCY_DATE = "0-0:94.44.3.2"


@dataclass(frozen=True, slots=True)
class SetTenancyDate(DlmsCommand):
    """ECS12: the change of tenancy date (data before it is no longer the consumer's)."""

    counter: int
    when: _dt.datetime
    message_code: ClassVar[int] = 0x0022

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.set_(1, TENANCY_DATE, 2),)

    def encode(self) -> bytes:
        stamp = CosemDateTime.from_datetime(self.when).to_bytes()
        return _request(self.counter, self.specs(), (dlms.octet_string(stamp),))

    @classmethod
    def decode(cls, content: bytes) -> SetTenancyDate:
        counter, data = _parse_request(content, cls(0, gbz.ZIGBEE_EPOCH).specs())
        when = CosemDateTime.from_bytes(_octets(data[0], "ECS12 date")).to_datetime()
        if when is None:
            raise DecodeError("ECS12: the tenancy date is not fully specified")
        found = cls(counter, when)
        _check_exact(found, content)
        return found


ALCS_EVENT_LOG = "0-17:99.98.2.255"


@dataclass(frozen=True, slots=True)
class ClearAlcsLog(_FixedAction):
    """ECS15c: reset the ALCS event log (profile generic ``reset``)."""

    message_code: ClassVar[int] = 0x00C1
    SPEC: ClassVar[AccessSpec] = dlms.action(7, ALCS_EVENT_LOG, 1)
    ARGUMENT: ClassVar[Data] = dlms.integer(0)


SUPPLIER_TELEPHONE = "0-0:96.13.0.255"
SUPPLIER_NAME = "0-0:96.13.1.255"


@dataclass(frozen=True, slots=True)
class SupplierContact(DlmsCommand):
    """ECS16: the supplier's telephone number and name, as the ESME shows them."""

    counter: int
    name: bytes
    telephone: bytes
    message_code: ClassVar[int] = 0x0025

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.set_(9000, SUPPLIER_TELEPHONE, 2), dlms.set_(9000, SUPPLIER_NAME, 2))

    def encode(self) -> bytes:
        data = (dlms.octet_string(self.telephone), dlms.octet_string(self.name))
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> SupplierContact:
        counter, data = _parse_request(content, cls(0, b"", b"").specs())
        found = cls(counter, _octets(data[1], "ECS16 name"), _octets(data[0], "ECS16 phone"))
        _check_exact(found, content)
        return found


BLOCK_RESET_SCHEDULE = "0-0:15.1.0.255"
_MIDNIGHT = bytes(4)
"""COSEM time 00:00:00.00: the daily reset runs at midnight."""
_EVERY_DAY = b"\xff" * 5
"""COSEM date with every field a wildcard: every day."""


@dataclass(frozen=True, slots=True)
class DailyBlockCounterReset(DlmsCommand):
    """ECS48: whether the block counter matrix resets every day at midnight (the single
    execution time of its single action schedule, or no execution time at all)."""

    counter: int
    daily: bool
    message_code: ClassVar[int] = 0x00DB

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.set_(22, BLOCK_RESET_SCHEDULE, 4),)

    def _times(self) -> Data:
        if not self.daily:
            return dlms.array()
        entry = dlms.structure(dlms.octet_string(_MIDNIGHT), dlms.octet_string(_EVERY_DAY))
        return dlms.array(entry)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), (self._times(),))

    @classmethod
    def decode(cls, content: bytes) -> DailyBlockCounterReset:
        counter, data = _parse_request(content, cls(0, False).specs())
        found = cls(counter, bool(_items(data[0], "ECS48 execution times")))
        _check_exact(found, content)
        return found


# =========================================================================== ZCL commands


@dataclass(frozen=True, slots=True)
class GasEmergencyCredit:
    """GCS06: Prepayment SelectAvailableEmergencyCredit (issue time 0: now; from the ESI)."""

    message_code: ClassVar[int] = 0x0070

    def encode(self) -> bytes:
        return _gbz(Cluster.PREPAYMENT, _TO_DEVICE, [(0x00, bytes(5))])

    @classmethod
    def decode(cls, content: bytes) -> GasEmergencyCredit:
        _payloads(content, Cluster.PREPAYMENT, 0x00, "GCS06")
        found = cls()
        _check_exact(found, content)  # issue time 0 and the ESI as origin, nothing else
        return found


MESSAGE_FOREVER = 0xFFFF
"""ZCL DisplayMessage duration: until changed."""


@dataclass(frozen=True, slots=True)
class GasMessage:
    """GCS07: Messaging DisplayMessage, shown from now until replaced."""

    issued: int
    text: bytes
    message_code: ClassVar[int] = 0x0071

    def encode(self) -> bytes:
        head = struct.pack("<IBIH", _u32(self.issued, "GCS07"), 0, 0, MESSAGE_FOREVER)
        return _gbz(
            Cluster.MESSAGING, _FROM_SERVER, [(0x00, head + _zcl_string(self.text, "GCS07"))]
        )

    @classmethod
    def decode(cls, content: bytes) -> GasMessage:
        (payload,) = _payloads(content, Cluster.MESSAGING, 0x00, "GCS07")
        issued, _, _, _ = _unpack("<IBIH", payload[:11], "GCS07")
        (text,), _ = _read_strings(payload[11:], 1, "GCS07")
        found = cls(issued, text)
        _check_exact(found, content)
        return found


TENANCY_CONTROL = 0x0000_0200
"""ProposedTenancyChangeControl of GCS09 as the DCC sends it."""


@dataclass(frozen=True, slots=True)
class GasTenancy:
    """GCS09: Device Management PublishChangeOfTenancy to the GPF (the implementation time
    is the restriction date-time)."""

    issued: int
    when: _dt.datetime
    message_code: ClassVar[int] = 0x0072

    def encode(self) -> bytes:
        payload = struct.pack(
            "<IIBII", 0, _u32(self.issued, "GCS09"), 0, gbz.zigbee_time(self.when), TENANCY_CONTROL
        )
        return _gbz(Cluster.DEVICE_MANAGEMENT, _FROM_SERVER, [(0x00, payload)])

    @classmethod
    def decode(cls, content: bytes) -> GasTenancy:
        (payload,) = _payloads(content, Cluster.DEVICE_MANAGEMENT, 0x00, "GCS09")
        _, issued, _, when, _ = _unpack("<IIBII", payload, "GCS09")
        found = cls(issued, gbz.from_zigbee_time(when))
        _check_exact(found, content)
        return found


PIN_RESET = 0x02
"""RequestNewPasswordResponse password type GBCS uses to disable the privacy PIN."""


@dataclass(frozen=True, slots=True)
class GasPrivacyPin:
    """GCS11: Device Management RequestNewPasswordResponse with an empty password, from now,
    no duration: privacy PIN protection off."""

    issued: int
    message_code: ClassVar[int] = 0x0073

    def encode(self) -> bytes:
        payload = struct.pack("<IIHB", _u32(self.issued, "GCS11"), 0, 0, PIN_RESET) + b"\x00"
        return _gbz(Cluster.DEVICE_MANAGEMENT, _FROM_SERVER, [(0x02, payload)])

    @classmethod
    def decode(cls, content: bytes) -> GasPrivacyPin:
        (payload,) = _payloads(content, Cluster.DEVICE_MANAGEMENT, 0x02, "GCS11")
        issued, _, _, _ = _unpack("<IIHB", payload[:11], "GCS11")
        found = cls(issued)
        _check_exact(found, content)
        return found


SUPPLIER_CONTROL = 0x0000_1800
"""ProviderChangeControl of GCS44 as the DCC sends it (the name and contact details only)."""


@dataclass(frozen=True, slots=True)
class GasContact:
    """GCS44: Device Management PublishChangeOfSupplier carrying only the supplier's name and
    telephone number (no provider change, from now)."""

    issued: int
    name: bytes
    telephone: bytes
    message_code: ClassVar[int] = 0x0088

    def encode(self) -> bytes:
        head = struct.pack("<IIBIII", 0, _u32(self.issued, "GCS44"), 0, 0, 0, SUPPLIER_CONTROL)
        tail = _zcl_string(self.name, "GCS44 name") + _zcl_string(self.telephone, "GCS44 phone")
        return _gbz(Cluster.DEVICE_MANAGEMENT, _FROM_SERVER, [(0x01, head + tail)])

    @classmethod
    def decode(cls, content: bytes) -> GasContact:
        (payload,) = _payloads(content, Cluster.DEVICE_MANAGEMENT, 0x01, "GCS44")
        fields = _unpack("<IIBIII", payload[:21], "GCS44")
        (name, phone), _ = _read_strings(payload[21:], 2, "GCS44")
        found = cls(fields[1], name, phone)
        _check_exact(found, content)
        return found


GENERAL_EVENT_LOG = 0x03
"""ZCL Events ClearEventLogRequest log id of the (general) event log CS11 clears."""


@dataclass(frozen=True, slots=True)
class ClearGasEventLog:
    """CS11: Events ClearEventLogRequest for the event log."""

    message_code: ClassVar[int] = 0x0015

    def encode(self) -> bytes:
        return _gbz(Cluster.EVENTS, _TO_DEVICE, [(0x01, bytes([GENERAL_EVENT_LOG]))])

    @classmethod
    def decode(cls, content: bytes) -> ClearGasEventLog:
        _payloads(content, Cluster.EVENTS, 0x01, "CS11")
        found = cls()
        _check_exact(found, content)
        return found


class CreditAdjustment(IntEnum):
    """Credit adjustment type of the ZCL Prepayment CreditAdjustment command as GBCS uses it:
    the prepayment-mode meter balance adjusted by an amount (incremental) or set to zero
    (absolute), and the credit-mode one reset or adjusted."""

    INCREMENTAL = 0x00
    ABSOLUTE = 0x01
    RESET = 0x02
    ADJUST = 0x03


_BALANCE_CODES = {
    CreditAdjustment.INCREMENTAL: 0x0086,  # GCS40a
    CreditAdjustment.ABSOLUTE: 0x00B4,  # GCS40b
    CreditAdjustment.ADJUST: 0x00C0,  # GCS40c
    CreditAdjustment.RESET: 0x00C2,  # GCS40d
}


@dataclass(frozen=True, slots=True)
class GasMeterBalance:
    """GCS40a / GCS40b (the prepayment-mode meter balance adjusted by ``amount`` / reset)
    and GCS40c / GCS40d (the credit-mode one): Prepayment CreditAdjustment, from now."""

    issued: int
    kind: CreditAdjustment
    amount: int = 0

    @property
    def message_code(self) -> int:
        return _BALANCE_CODES[self.kind]

    def encode(self) -> bytes:
        if not -(1 << 31) <= self.amount < 1 << 31:
            raise EncodeError(f"GCS40: {self.amount} is not a signed 32-bit amount")
        payload = struct.pack("<IIBi", _u32(self.issued, "GCS40"), 0, self.kind, self.amount)
        return _gbz(Cluster.PREPAYMENT, _TO_DEVICE, [(0x05, payload)])

    @classmethod
    def decode(cls, content: bytes) -> GasMeterBalance:
        (payload,) = _payloads(content, Cluster.PREPAYMENT, 0x05, "GCS40")
        issued, _, kind, amount = _unpack("<IIBi", payload, "GCS40")
        try:
            found = cls(issued, CreditAdjustment(kind), amount)
        except ValueError:
            raise DecodeError(f"GCS40: credit adjustment type 0x{kind:02X}") from None
        _check_exact(found, content)
        return found


class RecoveryPeriod(IntEnum):
    """ZCL DebtRecoveryFrequency."""

    HOURLY = 0x00
    DAILY = 0x01
    WEEKLY = 0x02
    MONTHLY = 0x03
    QUARTERLY = 0x04


@dataclass(frozen=True, slots=True)
class DebtChange:
    """One ZCL Prepayment ChangeDebt of GCS04: an incremental change of debt register
    ``register`` (1, 2: time-based; 3: payment-based) with its recovery terms."""

    register: int
    amount: int
    rate: int = 0
    period: RecoveryPeriod = RecoveryPeriod.DAILY
    percentage: int = 0
    """Payment-based recovery: hundredths of a percent of each payment (register 3)."""

    def payload(self, issued: int) -> bytes:
        if self.register not in (1, 2, 3):
            raise EncodeError(f"GCS04: no debt register {self.register}")
        method = 0x01 if self.register == 3 else 0x00
        kind = 2 * self.register - 1  # ZCL DebtAmountType: Type n incremental
        return struct.pack(
            "<IBIBBIHBIH",
            _u32(issued, "GCS04"),
            0,
            _u32(self.amount, "GCS04 amount"),
            method,
            kind,
            0,
            0,
            self.period,
            _u32(self.rate, "GCS04 rate"),
            self.percentage,
        )


@dataclass(frozen=True, slots=True)
class ManageGasDebt:
    """GCS04: the gas debt changes, one ChangeDebt a register."""

    issued: int
    changes: tuple[DebtChange, ...]
    message_code: ClassVar[int] = 0x006E

    def encode(self) -> bytes:
        if not self.changes:
            raise EncodeError("GCS04: at least one debt change")
        frames = [(0x02, c.payload(self.issued)) for c in self.changes]
        return _gbz(Cluster.PREPAYMENT, _TO_DEVICE, frames)

    @classmethod
    def decode(cls, content: bytes) -> ManageGasDebt:
        changes = []
        issued = 0
        for payload in _payloads(content, Cluster.PREPAYMENT, 0x02, "GCS04"):
            fields = _unpack("<IBIBBIHBIH", payload, "GCS04")
            issued, _, amount, _, kind, _, _, period, rate, pct = fields
            if kind not in (1, 3, 5):
                raise DecodeError(f"GCS04: debt amount type {kind} is not incremental")
            try:
                changes.append(
                    DebtChange((kind + 1) // 2, amount, rate, RecoveryPeriod(period), pct)
                )
            except ValueError:
                raise DecodeError(f"GCS04: recovery frequency {period}") from None
        found = cls(issued, tuple(changes))
        _check_exact(found, content)
        return found


NOW = 0
"""ZigBee implementation date-time: at once."""
CANCEL_PENDING = 0xFFFF_FFFF
"""ZigBee implementation date-time that cancels a pending future-dated change."""
_CREDIT_CONTROL = 0x0094
"""Payment control configuration bits every GSME mode carries: credit management, credit
display and contactor (valve) fitted."""
_PREPAYMENT_CONTROL = 0x0003
"""Disconnection and prepayment enabled."""
SUSPEND_DEBT_DISABLED = 0x0400
"""Set when debt collection stops while supply is disabled."""
COLLECT_DEBT_IN_EMERGENCY = 0x0800
"""Set when debt is still collected on emergency credit (clear: suspended)."""


@dataclass(frozen=True, slots=True)
class GasPaymentMode:
    """GCS02 (credit) / GCS03 (prepayment): Prepayment ChangePaymentMode with the proposed
    payment control configuration and cut-off value (the disablement threshold; -1 in credit
    mode), at ``implementation`` (ZigBee UTC seconds; :data:`NOW`, or :data:`CANCEL_PENDING`)."""

    issued: int
    prepayment: bool
    implementation: int = NOW
    suspend_debt_disabled: bool = True
    suspend_debt_emergency: bool = False
    cut_off: int = -1

    @property
    def message_code(self) -> int:
        return 0x006D if self.prepayment else 0x006C

    @property
    def control(self) -> int:
        bits = _CREDIT_CONTROL | (_PREPAYMENT_CONTROL if self.prepayment else 0)
        bits |= SUSPEND_DEBT_DISABLED if self.suspend_debt_disabled else 0
        return bits | (0 if self.suspend_debt_emergency else COLLECT_DEBT_IN_EMERGENCY)

    def encode(self) -> bytes:
        if not -(1 << 31) <= self.cut_off < 1 << 31:
            raise EncodeError(f"GCS02/03: cut-off {self.cut_off} is not a signed 32-bit value")
        payload = struct.pack(
            "<IIIHi",
            0,
            _u32(self.issued, "GCS02/03"),
            _u32(self.implementation, "GCS02/03"),
            self.control,
            self.cut_off,
        )
        return _gbz(Cluster.PREPAYMENT, _TO_DEVICE, [(0x06, payload)])

    @classmethod
    def decode(cls, content: bytes) -> GasPaymentMode:
        (payload,) = _payloads(content, Cluster.PREPAYMENT, 0x06, "GCS02/03")
        _, issued, at, control, cut_off = _unpack("<IIIHi", payload, "GCS02/03")
        found = cls(
            issued,
            bool(control & _PREPAYMENT_CONTROL),
            at,
            bool(control & SUSPEND_DEBT_DISABLED),
            not control & COLLECT_DEBT_IN_EMERGENCY,
            cut_off,
        )
        _check_exact(found, content)
        return found


# =========================================================================== ZCL answers


@dataclass(frozen=True, slots=True)
class ZclStatus:
    """A GSME's answer to a GBZ command that returns no data: a ZCL Default Response a
    command, in order (status 0 success; e.g. 0xC0 HARDWARE_FAILURE). ``to_client`` is the
    direction bit: set where the meter is the server of the cluster (prepayment), clear where
    it is the client (messaging, device management)."""

    cluster: int
    to_client: bool
    statuses: tuple[tuple[int, int], ...]
    """(command id answered, status) a component."""
    clusters: tuple[int, ...] = ()
    """Each component's cluster where they differ (GCS01a answers calendar and price
    commands); empty: all ``cluster``."""

    @property
    def ok(self) -> bool:
        return all(status == 0 for _, status in self.statuses)

    @classmethod
    def answering(cls, command: object, status: int = 0) -> ZclStatus:
        """The answer of :data:`ANSWERS` shape to a decoded command, every status ``status``."""
        cluster, to_client, commands = ANSWERS[type(command)]
        count = len(command.changes) if isinstance(command, ManageGasDebt) else 1
        return cls(cluster, to_client, tuple((commands, status) for _ in range(count)))

    def encode(self) -> bytes:
        fc = gbz.FC_SERVER_TO_CLIENT if self.to_client else 0
        frames = [(gbz.DEFAULT_RESPONSE, bytes([c, s])) for c, s in self.statuses]
        if not self.clusters:
            return _gbz(self.cluster, fc, frames)
        if len(self.clusters) != len(frames):
            raise EncodeError(f"{len(self.clusters)} clusters for {len(frames)} statuses")
        # Mixed clusters: each answer goes the way its cluster does (the meter serves the
        # prepayment cluster and is the client of the calendar and price ones).
        components = tuple(
            GbzComponent(
                cluster,
                ZclFrame(
                    gbz.FC_SERVER_TO_CLIENT if cluster == Cluster.PREPAYMENT else 0,
                    seq,
                    command,
                    payload,
                ),
                CONTROL_LAST if seq == len(frames) - 1 else 0,
            )
            for seq, (cluster, (command, payload)) in enumerate(
                zip(self.clusters, frames, strict=True)
            )
        )
        return GbzPayload(components).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ZclStatus:
        payload = GbzPayload.from_bytes(content)
        statuses = []
        to_client = True
        cluster = payload.components[0].cluster_id if payload.components else 0
        for component in payload.components:
            frame = component.frame
            if not isinstance(frame, ZclFrame) or frame.command_id != gbz.DEFAULT_RESPONSE:
                raise DecodeError("expected ZCL Default Responses")
            if frame.cluster_specific or len(frame.payload) != 2:
                raise DecodeError("expected ZCL Default Responses")
            to_client = frame.server_to_client
            statuses.append((frame.payload[0], frame.payload[1]))
        clusters = tuple(c.cluster_id for c in payload.components)
        mixed = clusters if len(set(clusters)) > 1 else ()
        found = cls(cluster, to_client, tuple(statuses), mixed)
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class GasPaymentModeAnswer:
    """GCS02 / GCS03 answer: Prepayment ChangePaymentModeResponse - friendly credit flags,
    the friendly credit calendar id and the emergency credit limit and threshold the meter
    holds."""

    friendly_credit: int
    calendar_id: int
    emergency_credit_limit: int
    emergency_credit_threshold: int

    ok: ClassVar[bool] = True

    def encode(self) -> bytes:
        payload = struct.pack(
            "<BIII",
            self.friendly_credit,
            _u32(self.calendar_id, "GCS02/03 answer"),
            _u32(self.emergency_credit_limit, "GCS02/03 answer"),
            _u32(self.emergency_credit_threshold, "GCS02/03 answer"),
        )
        fc = _FROM_SERVER | gbz.FC_DISABLE_DEFAULT_RESPONSE
        return _gbz(Cluster.PREPAYMENT, fc, [(0x02, payload)])

    @classmethod
    def decode(cls, content: bytes) -> GasPaymentModeAnswer:
        (payload,) = _payloads(content, Cluster.PREPAYMENT, 0x02, "GCS02/03 answer")
        found = cls(*_unpack("<BIII", payload, "GCS02/03 answer"))
        _check_exact(found, content)
        return found


CLEARED_GENERAL_LOG = 0x08
"""ClearEventLogResponse ClearedEventsLogs bit of the general event log."""


@dataclass(frozen=True, slots=True)
class GasLogCleared:
    """CS11 answer: Events ClearEventLogResponse with the logs cleared (none: refused)."""

    cleared: int = CLEARED_GENERAL_LOG

    @property
    def ok(self) -> bool:
        return self.cleared != 0

    def encode(self) -> bytes:
        return _gbz(Cluster.EVENTS, _FROM_SERVER, [(0x02, bytes([self.cleared]))])

    @classmethod
    def decode(cls, content: bytes) -> GasLogCleared:
        (payload,) = _payloads(content, Cluster.EVENTS, 0x02, "CS11 answer")
        if len(payload) != 1:
            raise DecodeError("CS11 answer: one byte of cleared logs")
        found = cls(payload[0])
        _check_exact(found, content)
        return found


ANSWERS: dict[type, tuple[int, bool, int]] = {
    GasEmergencyCredit: (Cluster.PREPAYMENT, True, 0x00),
    GasMessage: (Cluster.MESSAGING, False, 0x00),
    GasTenancy: (Cluster.DEVICE_MANAGEMENT, False, 0x00),
    GasPrivacyPin: (Cluster.DEVICE_MANAGEMENT, False, 0x02),
    GasContact: (Cluster.DEVICE_MANAGEMENT, False, 0x01),
    GasMeterBalance: (Cluster.PREPAYMENT, True, 0x05),
    GasPaymentMode: (Cluster.PREPAYMENT, True, 0x06),
    ManageGasDebt: (Cluster.PREPAYMENT, True, 0x02),
}
"""Per GBZ command: the cluster, direction and command id its Default Responses answer."""


Command = (
    ResetBlockCounters
    | ActivateEmergencyCredit
    | SendMessage
    | SetTenancyDate
    | ClearAlcsLog
    | SupplierContact
    | DailyBlockCounterReset
    | GasEmergencyCredit
    | GasMessage
    | GasTenancy
    | GasPrivacyPin
    | GasContact
    | ClearGasEventLog
    | GasMeterBalance
    | GasPaymentMode
    | ManageGasDebt
)

for _dlms in (
    ResetBlockCounters,
    ActivateEmergencyCredit,
    SendMessage,
    SetTenancyDate,
    ClearAlcsLog,
    SupplierContact,
    DailyBlockCounterReset,
):
    register(_dlms.message_code, _dlms.decode, Outcome.decode)
_ZCL = (GasEmergencyCredit, GasMessage, GasTenancy, GasPrivacyPin, GasContact, ManageGasDebt)
for _zcl in _ZCL:
    register(_zcl.message_code, _zcl.decode, ZclStatus.decode)
register(0x0015, ClearGasEventLog.decode, GasLogCleared.decode, ZclFailure.decode)
register(0x006C, GasPaymentMode.decode, GasPaymentModeAnswer.decode, ZclStatus.decode)
register(0x006D, GasPaymentMode.decode, GasPaymentModeAnswer.decode, ZclStatus.decode)
register(0x0086, GasMeterBalance.decode, ZclStatus.decode)
register(0x00B4, GasMeterBalance.decode, ZclStatus.decode)
register(0x00C0, GasMeterBalance.decode, ZclStatus.decode)
register(0x00C2, GasMeterBalance.decode, ZclStatus.decode)

Response = ZclStatus | GasLogCleared | GasPaymentModeAnswer

__all__ = [
    "ActivateEmergencyCredit",
    "ClearAlcsLog",
    "ClearGasEventLog",
    "CreditAdjustment",
    "DailyBlockCounterReset",
    "DebtChange",
    "GasContact",
    "GasEmergencyCredit",
    "GasLogCleared",
    "GasMessage",
    "GasMeterBalance",
    "GasPaymentMode",
    "GasPaymentModeAnswer",
    "GasPrivacyPin",
    "GasTenancy",
    "ManageGasDebt",
    "RecoveryPeriod",
    "ResetBlockCounters",
    "SendMessage",
    "SetTenancyDate",
    "SupplierContact",
    "ZclStatus",
    "issuer_id",
]

"""The emulated GSME (gas meter): GBZ (ZigBee cluster) content inside GBCS.

Use cases: GCS13a read the consumption register (encrypted to the requester), GCS28 set
clock (also commissioning), GCS32 close the valve, GCS39 arm it, GCS33 read its status
(the :data:`~emulator.supply.VALVE` table: a valve is never opened remotely), CS06
activate firmware. The meter is battery powered; its battery life counts down.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

from emulator.clock import from_seconds
from emulator.devices.base import Device, DeviceSpec
from emulator.devices.families import Alert, Reply
from emulator.devices.meter import MeterDevice
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError, TransitionError
from emulator.metering import Meter, PaymentMode
from emulator.profiles import DEFAULT_SHAPE, shape_named, unit_interval
from emulator.supply import VALVE, SupplyEvent, SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.devices import DeviceType, Fuel
from gbcs.errors import GbcsError
from gbcs.frames import Message
from gbcs.payloads import asn1, gbz
from gbcs.usecases import UseCase

ZCL_FAILURE = 0x01
ZCL_UNSUPPORTED = 0x81
ZCL_HARDWARE_FAILURE = 0xC0
BATTERY_DAYS = 15 * 365
"""A GSME battery is designed to last fifteen years."""
FWRECEIPT_GAS = 0x00CF

_SUPPLY_STATUS = {
    SupplyState.ENABLED: c.SupplyStatus.ON,
    SupplyState.DISABLED: c.SupplyStatus.OFF,
    SupplyState.ARMED: c.SupplyStatus.ARMED,
}


def gas_register(meter: Meter) -> c.GasRegister:
    """The GCS13a register of a gas meter: dm3, i.e. m3 with divisor 1000."""
    return c.GasRegister(volume=meter.total % (1 << 48), multiplier=1, divisor=1000)


def encrypt_for(ctx: DeviceContext, device: bytes, command: Message) -> c.Encrypt:
    """The payload encryption of a response to ``command`` (for its originator)."""

    def encrypt(plaintext: bytes) -> bytes:
        return ctx.builder.encrypt_payload(
            device=device,
            target=command.business_originator,
            counter=command.originator_counter,
            plaintext=plaintext,
        )

    return encrypt


def gbz_error(command: Message, uc: UseCase, error: Exception, clock: int) -> bytes:
    """An error response in GBZ (ZCL Default Response), or the use case's ASN.1 failure."""
    if uc.name == "GCS28":
        return c.GasClockSet(from_seconds(clock), 2).encode()
    if uc.kind is not None and uc.kind.value == "asn1":
        return asn1.der_integer(1).to_bytes()
    unsupported = isinstance(error, CommandError) and "not supported" in str(error)
    status = ZCL_UNSUPPORTED if unsupported else ZCL_FAILURE
    command_id, cluster = 0x00, int(gbz.Cluster.METERING)
    try:
        payload = gbz.GbzPayload.from_bytes(command.content)
        first = payload.components[0]
        cluster = first.cluster_id
        if isinstance(first.frame, gbz.ZclFrame):
            command_id = first.frame.command_id
    except (GbcsError, IndexError):
        pass
    return c.ZclFailure(command_id, status, cluster).encode()


@dataclass(slots=True, eq=False, kw_only=True)
class GbzDevice(Device):
    """A device other than a meter whose messages are GBZ, as the GSME's (the GPF, the PPMID,
    the HCALCS): GBZ alerts and firmware receipts, and GBZ errors as of its creation (it keeps
    no meter clock)."""

    def alert_content(self, alert: Alert, counter: int, now: int) -> bytes:
        return c.gbz_alert(alert.code, from_seconds(self.device_time(now)), alert.detail).to_bytes()

    def firmware_receipt(self, ok: bool, digest: bytes, now: int) -> Alert:
        body = c.firmware_verification_alert(
            ok=ok, when=from_seconds(self.device_time(now)), image_hash=digest
        )
        return Alert(body.alert_code, content=body.to_bytes())

    def error_content(self, command: Message, uc: UseCase, error: Exception) -> bytes:
        return gbz_error(command, uc, error, self.created)


@dataclass(slots=True, eq=False, kw_only=True)
class Gsme(MeterDevice):
    """A gas meter."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.GSME

    @classmethod
    def create(cls, eui: bytes, spec: DeviceSpec, now: int, key: int) -> Gsme:
        meter = Meter.new(
            shape_named(spec.shape or DEFAULT_SHAPE[Fuel.GAS]),
            key,
            now,
            initial_total=int(8_000_000 * unit_interval(key ^ 0x6A5)),
            supply_table=VALVE,
            mode=PaymentMode.PREPAYMENT if spec.prepayment else PaymentMode.CREDIT,
            balance=spec.balance,
        )
        return cls.made(eui, spec, now, meter=meter)

    def battery_days(self, now: int) -> int:
        """Days of battery left: fifteen years from when the meter was made."""
        age_days = int(5 * 365 * unit_interval(self.meter.key ^ 0xBA7))
        used = age_days + max(0, now - self.created) // 86400
        return max(0, BATTERY_DAYS - used)

    # -- use cases -------------------------------------------------------------------------

    def read_register(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """GCS13a: the consumption register, encrypted for the party that asked."""
        c.ReadGasRegister.decode(command.content)
        encrypt = encrypt_for(ctx, self.eui, command)
        return Reply(c.GasRegisterResponse.build(gas_register(self.meter), encrypt).encode())

    def set_clock(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """GCS28 (and GSME commissioning): take the hub's time inside the validity interval."""
        cmd = c.SetGasClock.decode(command.content)
        if not cmd.accepts(from_seconds(now)):
            self._log("GCS28: hub time outside the validity interval; clock not adjusted")
            clock = from_seconds(self.device_time(now))
            return Reply(
                c.GasClockSet(clock, 2).encode(),
                alerts=[Alert(AlertCode.CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE)],
            )
        self.clock_offset = 0
        alerts = []
        if not self.commissioned:
            self.commissioned = True
            self._log("commissioned")
            alerts.append(Alert(AlertCode.DEVICE_COMMISSIONED))
        return Reply(c.GasClockSet(from_seconds(now), 0).encode(), alerts=alerts)

    def _valve(self, cmd: c.ValveClose | c.ValveArm, event: SupplyEvent) -> Reply:
        try:
            state = self.meter.operate_supply(event)
        except TransitionError as exc:
            self._log(f"valve: {exc}")
            return Reply(c.ZclFailure(0x0B, ZCL_HARDWARE_FAILURE).encode())
        self._log(f"valve {event.value}: now {state.value}")
        alerts = [Alert(AlertCode.SUPPLY_ARMED)] if event is SupplyEvent.REMOTE_ARM else []
        return Reply(c.ValveState.for_command(cmd, _SUPPLY_STATUS[state]).encode(), alerts=alerts)

    def valve_close(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """GCS32: close the valve."""
        return self._valve(c.ValveClose.decode(command.content), SupplyEvent.REMOTE_DISABLE)

    def valve_arm(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """GCS39: arm the valve (the consumer then opens it on the meter)."""
        return self._valve(c.ValveArm.decode(command.content), SupplyEvent.REMOTE_ARM)

    def read_valve(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """GCS33: valve status and remaining battery life."""
        c.ReadValve.decode(command.content)
        status = _SUPPLY_STATUS[self.meter.supply]
        return Reply(c.ValveStatus(status, self.battery_days(now)).encode())

    def top_up(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """CS01b: a UTRN from the supplier (through the DCC)."""
        cmd = c.TopUpGas.decode(command.content)
        try:
            pence, alerts = self.accept_utrn(cmd.utrn, ctx, local=False, now=now)
        except CommandError as exc:
            self._log(f"CS01b refused: {exc}")
            result = (
                c.TopUpResult.REJECTED_DUPLICATE
                if exc.alert_code == AlertCode.DUPLICATE_UTRN_ENTERED
                else c.TopUpResult.REJECTED_MAX_CREDIT
                if exc.alert_code == AlertCode.CREDIT_WOULD_EXCEED_MAXIMUM_METER_BALANCE
                else c.TopUpResult.REJECTED_INVALID
            )
            remaining = self.meter.credit.balance // 1000
            return Reply(
                c.GasTopUpResult(result, 0, remaining, cmd.origin).encode(),
                alerts=[Alert(exc.alert_code)] if exc.alert_code else [],
            )
        state = self.meter.supply
        result = {
            SupplyState.ENABLED: c.TopUpResult.ACCEPTED_SUPPLY_ENABLED,
            SupplyState.DISABLED: c.TopUpResult.ACCEPTED_SUPPLY_DISABLED,
            SupplyState.ARMED: c.TopUpResult.ACCEPTED_SUPPLY_ARMED,
        }[state]
        remaining = self.meter.credit.balance // 1000
        return Reply(c.GasTopUpResult(result, pence, remaining, cmd.origin).encode(), alerts=alerts)

    # -- content of alerts and errors ------------------------------------------------------

    def alert_content(self, alert: Alert, counter: int, now: int) -> bytes:
        when = from_seconds(self.device_time(now))
        return c.gbz_alert(alert.code, when, alert.detail).to_bytes()

    def firmware_receipt(self, ok: bool, digest: bytes, now: int) -> Alert:
        when = from_seconds(self.device_time(now))
        body = c.firmware_verification_alert(ok=ok, when=when, image_hash=digest)
        return Alert(body.alert_code, message_code=FWRECEIPT_GAS, content=body.to_bytes())

    def error_content(self, command: Message, uc: UseCase, error: Exception) -> bytes:
        return gbz_error(command, uc, error, self.device_time(int(self.meter.accounted_to)))


Gsme.HANDLERS = MappingProxyType(
    {
        0x0074: Gsme.read_register,
        0x007F: Gsme.set_clock,
        0x0081: Gsme.valve_close,
        0x0085: Gsme.valve_arm,
        0x0082: Gsme.read_valve,
        0x0012: Gsme.activate_firmware,
        0x0097: Gsme.top_up,
    }
)

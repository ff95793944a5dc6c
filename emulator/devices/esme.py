"""The emulated ESME (electricity meter): DLMS/COSEM content inside GBCS.

Use cases: ECS17b read import registers (encrypted to the requester), ECS42/43/44 close,
open and arm the load switch (the :data:`~emulator.supply.LOAD_SWITCH` table), ECS70 set
clock (also commissioning, SR 8.1.1), ECS52 read firmware version, CS06 activate
firmware. A twin-element ESME (variant B..) has a second element with its own register.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from emulator.clock import from_seconds
from emulator.devices.base import DeviceSpec
from emulator.devices.families import Alert, Reply
from emulator.devices.meter import MeterDevice
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError, TransitionError
from emulator.metering import (
    BlockRate,
    Meter,
    PaymentMode,
    Season,
    SpecialDay,
    Tariff,
)
from emulator.profiles import DEFAULT_SHAPE, shape_named, unit_interval
from emulator.supply import LOAD_SWITCH, SupplyEvent
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.devices import DeviceType, Fuel
from gbcs.errors import GbcsError
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessKind, AccessRequest, AccessResult
from gbcs.usecases import UseCase

RESULT_HARDWARE_FAULT = 1
RESULT_OBJECT_UNAVAILABLE = 11
RESULT_OTHER_REASON = 250
FWRECEIPT = 0x00CE
"""Message code of the firmware distribution receipt alert (ESME or comms hub, DLMS)."""
FUTURE_DATED_DLMS = 0x00CC
"""Message code of the future-dated execution alert (DLMS)."""


def initial_register(key: int, scale: int) -> int:
    """A meter's register when first seen: it has been on the wall for a while."""
    return int(scale * unit_interval(key ^ 0x1217))


@dataclass(slots=True, eq=False, kw_only=True)
class Esme(MeterDevice):
    """An electricity meter."""

    secondary: Meter | None = None
    """The second element of a twin-element ESME (variant B...)."""
    pending_tariff: tuple[Tariff, int, int] | None = None
    """A future-dated ECS01a: (tariff, when (Unix seconds), the command's counter)."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.ESME

    @classmethod
    def create(cls, eui: bytes, spec: DeviceSpec, now: int, key: int) -> Esme:
        shape = shape_named(spec.shape or DEFAULT_SHAPE[Fuel.ELECTRICITY])
        mode = PaymentMode.PREPAYMENT if spec.prepayment else PaymentMode.CREDIT
        meter = Meter.new(
            shape,
            key,
            now,
            initial_total=initial_register(key, 30_000_000),
            supply_table=LOAD_SWITCH,
            mode=mode,
            balance=spec.balance,
        )
        device = cls.made(eui, spec, now, meter=meter)
        if (device.firmware.esme_variant or "A").startswith("B"):
            heating = shape_named("economy7-electricity")
            device.secondary = Meter.new(
                heating, key ^ 0xB, now, initial_total=initial_register(key ^ 0xB, 20_000_000)
            )
        return device

    def tick(self, now: int) -> list[Alert]:
        if self.secondary is not None:
            self.secondary.advance(now)
        pending = self.pending_tariff
        if pending is not None and self.device_time(now) >= pending[1]:
            # Account the time before the switch on the old tariff, then switch.
            alerts = MeterDevice.tick(self, pending[1])
            self.pending_tariff = None
            executed = True
            try:
                self.meter.apply_tariff(pending[0], None)
            except CommandError:
                executed = False
            self._log(f"future-dated tariff {'activated' if executed else 'failed'}")
            future = 0x8F66 if executed else 0x8F67
            for spec in c.UpdateTariff.activations():  # one alert an activation time
                alert = c.DlmsAlert.future_dated(
                    self.next_alert_counter(),
                    executed=executed,
                    when=from_seconds(pending[1]),
                    message_code=c.UpdateTariff.message_code,
                    command_counter=pending[2],
                    spec=spec,
                )
                alerts.append(Alert(future, message_code=FUTURE_DATED_DLMS, content=alert.encode()))
            return alerts + MeterDevice.tick(self, now)
        return MeterDevice.tick(self, now)

    # -- use cases -------------------------------------------------------------------------

    def read_import_registers(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """ECS17b: the import registers, encrypted for the party that asked."""
        content = command.content
        fields = c.ecs17b_request_fields(content)
        if fields is None:
            return self._read_import_registers(command, ctx)
        # The usual request, in one step (the same bytes as the general path below).
        _, requester, device = fields
        if device != self.eui or requester != command.business_originator:
            raise CommandError("ECS17b protection parameters name other parties")
        meter = self.meter
        total = meter.total
        secondary = self.secondary
        plaintext = c.ecs17b_registers_plaintext(
            total & 0xFFFF_FFFF,
            (total * (40 + meter.key % 160) // 1000) & 0xFFFF_FFFF,
            None if secondary is None else secondary.total & 0xFFFF_FFFF,
        )
        encrypted = ctx.builder.encrypt_payload(
            device=device, target=requester, counter=command.originator_counter, plaintext=plaintext
        )
        return Reply(c.ecs17b_response_content(content, encrypted))

    def _read_import_registers(self, command: Message, ctx: DeviceContext) -> Reply:
        """ECS17b through the general codecs (any request form)."""
        cmd = c.ReadImportRegisters.decode(command.content)
        if cmd.device != self.eui or cmd.requester != command.business_originator:
            raise CommandError("ECS17b protection parameters name other parties")
        total = self.meter.total
        reactive = total * (40 + self.meter.key % 160) // 1000
        registers = c.ImportRegisters(
            active_import=total % (1 << 32),
            reactive_import=reactive % (1 << 32),
            secondary_active_import=None
            if self.secondary is None
            else self.secondary.total % (1 << 32),
        )

        def encrypt(plaintext: bytes) -> bytes:
            return ctx.builder.encrypt_payload(
                device=self.eui,
                target=command.business_originator,
                counter=command.originator_counter,
                plaintext=plaintext,
            )

        return Reply(c.ImportRegistersResponse.build(cmd, registers, encrypt).encode())

    def _switch(
        self,
        command: Message,
        cmd: c.SupplyEnable | c.SupplyDisable | c.SupplyArm,
        event: SupplyEvent,
    ) -> Reply:
        try:
            state = self.meter.operate_supply(event)
        except TransitionError as exc:
            self._log(f"load switch: {exc}")
            return Reply(c.Outcome.for_command(cmd, RESULT_OTHER_REASON).encode())
        self._log(f"load switch {event.value}: now {state.value}")
        alerts = [Alert(AlertCode.SUPPLY_ARMED)] if event is SupplyEvent.REMOTE_ARM else []
        return Reply(c.Outcome.for_command(cmd).encode(), alerts=alerts)

    def supply_enable(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """ECS42: close the load switch."""
        cmd = c.SupplyEnable.decode(command.content)
        return self._switch(command, cmd, SupplyEvent.REMOTE_ENABLE)

    def supply_disable(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """ECS43: open the load switch."""
        return self._switch(
            command, c.SupplyDisable.decode(command.content), SupplyEvent.REMOTE_DISABLE
        )

    def supply_arm(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """ECS44: arm the load switch."""
        return self._switch(command, c.SupplyArm.decode(command.content), SupplyEvent.REMOTE_ARM)

    def set_clock(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """ECS70 (and commissioning): take the hub's time if it is inside the validity
        interval; the first successful set commissions the meter (alert 0x8F69)."""
        cmd = c.SetClock.decode(command.content)
        hub_time = from_seconds(now)
        if not cmd.accepts(hub_time):
            self._log("ECS70: hub time outside the validity interval; clock not adjusted")
            failed = c.ClockSet.for_command(cmd, None, status=None, results=(0, 0, 0, 1, 250))
            return Reply(
                failed.encode(), alerts=[Alert(AlertCode.CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE)]
            )
        self.clock_offset = 0
        alerts = []
        if not self.commissioned:
            self.commissioned = True
            self._log("commissioned")
            alerts.append(Alert(AlertCode.DEVICE_COMMISSIONED))
        clock = from_seconds(self.device_time(now))
        return Reply(c.ClockSet.for_command(cmd, clock).encode(), alerts=alerts)

    def read_firmware_version(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """ECS52: the running firmware version (4 bytes)."""
        cmd = c.ReadFirmwareVersion.decode(command.content)
        return Reply(c.FirmwareVersion.for_command(cmd, self.firmware.version_bytes).encode())

    def update_tariff(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """ECS01a: check the tariff as the DCC design asks the meter to (the supplier's checks
        are not trusted), then install it now or at its activation time."""
        cmd = c.UpdateTariff.decode(command.content)
        if cmd.cancel_pending:
            # A cancellation drops the pending future-dated tariff; it installs nothing.
            self.pending_tariff = None
            self._log("ECS01a: pending tariff cancelled")
            return Reply(c.Outcome.for_command(cmd).encode())
        problems = cmd.problems()
        if not problems:
            try:
                tariff = tariff_of(cmd)
            except CommandError as exc:
                problems.append(str(exc))
        if problems:
            self._log("ECS01a refused: " + "; ".join(problems))
            return Reply(c.Outcome.for_command(cmd, RESULT_OTHER_REASON).encode())
        if cmd.activate_at is not None:
            at = int(cmd.activate_at.timestamp())
            if at > self.device_time(now):
                self.pending_tariff = (tariff, at, command.originator_counter)
                self._log(f"ECS01a scheduled for {cmd.activate_at.isoformat()}")
                return Reply(c.Outcome.for_command(cmd).encode())
        try:
            self.meter.apply_tariff(tariff, None)
        except CommandError as exc:
            self._log(f"ECS01a refused: {exc}")
            return Reply(c.Outcome.for_command(cmd, RESULT_OTHER_REASON).encode())
        self._log(f"ECS01a tariff installed: {len(set(tariff.switching))} rate(s)")
        return Reply(c.Outcome.for_command(cmd).encode())

    def top_up(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """CS01a: a UTRN from the supplier (through the DCC)."""
        cmd = c.TopUp.decode(command.content)
        try:
            _, alerts = self.accept_utrn(cmd.utrn, ctx, local=False, now=now)
        except CommandError as exc:
            self._log(f"CS01a refused: {exc}")
            return Reply(
                c.Outcome.for_command(cmd, RESULT_OTHER_REASON).encode(),
                alerts=[Alert(exc.alert_code)] if exc.alert_code else [],
            )
        return Reply(c.Outcome.for_command(cmd).encode(), alerts=alerts)

    # -- content of alerts and errors ------------------------------------------------------

    def alert_content(self, alert: Alert, counter: int, now: int) -> bytes:
        details = dlms.octet_string(alert.detail) if alert.detail else None
        when = from_seconds(self.device_time(now))
        return c.DlmsAlert(counter, alert.code, when, details).encode()

    def firmware_receipt(self, ok: bool, digest: bytes, now: int) -> Alert:
        code = (
            AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL
            if ok
            else AlertCode.FIRMWARE_VERIFICATION_FAILED
        )
        return Alert(code, message_code=FWRECEIPT, detail=digest)

    def error_content(self, command: Message, uc: UseCase, error: Exception) -> bytes:
        return dlms_error(command, uc, error, self.firmware.version_bytes)

    # -- snapshot --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = MeterDevice.to_json(self)
        data["secondary"] = None if self.secondary is None else self.secondary.to_json()
        pending = self.pending_tariff
        data["pending_tariff"] = (
            None
            if pending is None
            else {"tariff": tariff_json(pending[0]), "at": pending[1], "counter": pending[2]}
        )
        return data

    def restore_json(self, data: Mapping[str, Any]) -> None:
        MeterDevice.restore_json(self, data)
        secondary = data.get("secondary")
        if secondary is not None and self.secondary is not None:
            self.secondary = Meter.from_json(
                secondary, self.secondary.shape, self.secondary.key, self.secondary.supply_table
            )
        pending = data.get("pending_tariff")
        self.pending_tariff = (
            None
            if pending is None
            else (tariff_from_json(pending["tariff"]), int(pending["at"]), int(pending["counter"]))
        )


def tariff_of(cmd: c.UpdateTariff) -> Tariff:
    """The meter's tariff from an ECS01a: TOU prices (milli-pence per kWh), the standing
    charge (milli-pence per day), the half-hour switching table of each day of the first
    season's week and of each special day, and the block rates the day profiles switch to
    (their thresholds in Wh and one price a block)."""
    money = cmd.price_scale + 5  # milli-pence are 1e-5 of a pound
    energy = 3 - cmd.commodity_scale  # prices per kWh
    if money + energy < 0 or money < 0:
        raise CommandError(
            f"price scale {cmd.price_scale} is finer than the meter's milli-pence resolution"
        )
    scale = 10 ** (money + energy)
    weeks = {w.name: w for w in cmd.week_profiles}
    if not cmd.seasons or any(s.week not in weeks for s in cmd.seasons):
        raise CommandError("the calendar has no week profile for each of its seasons")
    profiles = {d.day_id: d for d in cmd.day_profiles}
    charges = list(cmd.tou_prices)
    blocks: dict[int, BlockRate] = {}

    def table(day_id: int) -> tuple[int, ...]:
        day = profiles.get(day_id)
        if day is None or not day.switches:
            raise CommandError(f"the calendar has no tariff switch for day profile {day_id}")
        switching = []
        for slot in range(48):
            minute = slot * 30
            rate = day.switches[0].rate
            for switch in day.switches:
                if switch.start.hour * 60 + switch.start.minute <= minute:
                    rate = switch.rate
            if rate > c.BLOCK_SCRIPT_BASE:
                # Block rate n bills on register n, at the price of the block its counters
                # have reached.
                rate -= c.BLOCK_SCRIPT_BASE
                thresholds = tuple(t for t in cmd.block_thresholds[rate - 1] if t != 0xFFFF_FFFF)
                prices = tuple(
                    cmd.block_prices[b][rate - 1] * scale for b in range(len(thresholds) + 1)
                )
                blocks[rate] = BlockRate(rate - 1, rate, thresholds, prices)
                charges[rate - 1] = cmd.block_prices[0][rate - 1]
            switching.append(rate - 1)
        return tuple(switching)

    seasons = tuple(
        Season.from_cosem(s.start, tuple(table(day_id) for day_id in weeks[s.week].days))
        for s in cmd.seasons
    )
    week = seasons[0].weekdays
    special = tuple(
        SpecialDay(int.from_bytes(d.date[0:2], "big"), d.date[2], d.date[3], table(d.day_id))
        for d in cmd.special_days
    )
    return Tariff(
        prices=tuple(p * scale for p in charges),
        standing_charge=cmd.standing_charge * 10**money,
        switching=week[0],
        weekdays=week if len(set(week)) > 1 else (),
        special_days=special,
        seasons=seasons if len(seasons) > 1 else (),
        block_rates=tuple(blocks[n] for n in sorted(blocks)),
    )


def tariff_json(tariff: Tariff) -> dict[str, Any]:
    return tariff.to_json()


def tariff_from_json(data: Mapping[str, Any]) -> Tariff:
    return Tariff.from_json(dict(data))


def dlms_error(command: Message, uc: UseCase, error: Exception, version: bytes) -> bytes:
    """An error response in DLMS: one failed result per request of the command (its invoke
    id echoed); a CS06 failure in its ASN.1 form."""
    if uc.name == "CS06":
        return c.FirmwareActivated(1, version).encode()
    unsupported = isinstance(error, CommandError) and "not supported" in str(error)
    code = RESULT_OBJECT_UNAVAILABLE if unsupported else RESULT_HARDWARE_FAULT
    try:
        request = AccessRequest.from_bytes(command.content)
    except GbcsError:  # not DLMS at all: one failed result
        failed = (AccessResult(AccessKind.GET, code),)
        return c.Outcome(command.originator_counter, failed).encode()
    plain = {
        AccessKind.GET_WITH_SELECTION: AccessKind.GET,
        AccessKind.SET_WITH_SELECTION: AccessKind.SET,
    }
    results = tuple(AccessResult(plain.get(s.kind, s.kind), code) for s in request.specs)
    return c.Outcome(command.originator_counter, results).encode()


Esme.HANDLERS = MappingProxyType(
    {
        0x0027: Esme.read_import_registers,
        0x004F: Esme.supply_enable,
        0x0050: Esme.supply_disable,
        0x0051: Esme.supply_arm,
        0x0062: Esme.set_clock,
        0x0059: Esme.read_firmware_version,
        0x0012: Esme.activate_firmware,
        0x0019: Esme.update_tariff,
        0x0007: Esme.top_up,
    }
)

"""What ESMEs and GSMEs share: a :class:`~emulator.metering.Meter` moved by the clock, and
the consumer's button."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from emulator.devices.base import Alert, Device, DeviceContext
from emulator.metering import Meter, MeterEvent
from emulator.supply import SupplyEvent
from gbcs.alerts import AlertCode
from gbcs.frames import Message

METER_EVENT_ALERTS: dict[MeterEvent, int] = {
    MeterEvent.LOW_CREDIT: 0x810D,  # combined credit below low credit threshold
    MeterEvent.EMERGENCY_CREDIT_ACTIVATED: 0x81AB,  # emergency credit activated
    MeterEvent.SUPPLY_DISABLED_CREDIT: AlertCode.CREDIT_BELOW_DISABLEMENT_THRESHOLD,
    MeterEvent.SUPPLY_ARMED: AlertCode.SUPPLY_ARMED,
    MeterEvent.CREDIT_ADDED: AlertCode.CREDIT_ADDED_LOCALLY,
}
"""The GBCS alert each metering event raises."""


@dataclass(slots=True, eq=False, kw_only=True)
class MeterDevice(Device):
    """A device with a meter: registers, half hours, supply, credit."""

    meter: Meter

    has_clock_state: ClassVar[bool] = True

    # -- time ------------------------------------------------------------------------------

    def tick(self, now: int) -> list[Alert]:
        alerts = [Alert(METER_EVENT_ALERTS[e]) for e in self.meter.advance(now)]
        return alerts + Device.tick(self, now)

    # -- the consumer ----------------------------------------------------------------------

    def press_button(self, now: int, ctx: DeviceContext) -> list[Message]:
        """The consumer presses the button: an armed supply is restored; otherwise
        nothing happens (the button is not an error)."""
        out = self.seal(self.due_alerts(now), now, ctx)
        if self.meter.supply.value == "armed":
            self.meter.operate_supply(SupplyEvent.CONSUMER_BUTTON)
            self._log("supply restored by the consumer")
        return out

    # -- snapshot --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = Device.to_json(self)
        data["meter"] = self.meter.to_json()
        return data

    def restore_json(self, data: Mapping[str, Any]) -> None:
        Device.restore_json(self, data)
        self.meter = Meter.from_json(
            data["meter"], self.meter.shape, self.meter.key, self.meter.supply_table
        )

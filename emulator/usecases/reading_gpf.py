"""The GPF's answers to the gas meter's reads, from the GSME it mirrors: the Gas Proxy
Function holds a copy of the sleepy GSME's data (its 13 months of half hours, its logs, its
configuration) and answers for it, as itself - its EUI in the response, the payloads it
encrypts. The GSME catches up with time first (it wakes every half hour, as the GPF's GCS13a
answer does). The GPF's identity reads (GCS21e / GCS21m) are its own and not answered here.
"""

from __future__ import annotations

from typing import Any

from emulator.devices.families import Handler, Reply, handles
from emulator.devices.gsme import Gsme
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.usecases import billing, reading, reading_device, reading_logs, reading_more
from gbcs.devices import DeviceType
from gbcs.frames import Message


class GpfMirror:
    """The GPF answering a gas read: its own identity and clock, the data of the GSME it
    mirrors."""

    __slots__ = ("_gpf", "_gsme", "eui", "meter")

    def __init__(self, gpf: Any, gsme: Any) -> None:
        self._gpf, self._gsme = gpf, gsme
        self.eui: bytes = gpf.eui
        self.meter = gsme.meter

    def family_state(self, family: str) -> dict[str, Any]:
        state: dict[str, Any] = self._gsme.family_state(family)
        return state

    def device_time(self, now: int) -> int:
        value: int = self._gpf.device_time(now)
        return value

    def next_alert_counter(self) -> int:
        # The answer is the GPF's message: a counter it originates is the GPF's own (the KDF
        # counter of a read answered for an Unknown Remote Party).
        value: int = self._gpf.next_alert_counter()
        return value


def mirrored(handler: Handler) -> Handler:
    """``handler`` (a GSME's read) answered by the GPF from the GSME it mirrors."""

    def answer(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
        gsme = None if device.gsme is None else ctx.peer(device.gsme)
        if not isinstance(gsme, Gsme):
            raise CommandError("the GPF has no GSME to mirror")
        gsme.wake(now)
        return handler(GpfMirror(device, gsme), command, now, ctx)

    answer.__doc__ = f"The GPF's {handler.__name__}, from its GSME's record."
    return answer


MIRRORED: dict[int, Handler] = {
    0x0078: reading.read_gas_profile,  # GCS17
    0x00A0: reading.read_gas_daily_consumption,  # GCS61
    0x0077: reading_more.read_gas_daily_log,  # GCS16a
    0x00BF: reading_more.read_gas_payment_mode,  # GCS21j
    0x00C3: billing.read_gas_mode_billing_log,  # GCS15b
    0x0076: billing.read_gas_billing_log,  # GCS15c
    0x0096: billing.read_gas_prepay_daily_log,  # GCS16b
    0x00C4: reading_logs.read_gas_debt_log,  # GCS15d
    0x00C5: reading_logs.read_gas_top_up_log,  # GCS15e
    0x0079: reading_device.read_gas_network_data,  # GCS18
    0x007B: reading_device.read_gas_configuration,  # GCS21a
    0x00B5: reading_device.read_gas_prepay_configuration,  # GCS21b
    0x009F: reading_device.read_gas_tariff,  # GCS21f
    0x00DA: reading_device.read_gas_billing_calendar,  # GCS21k
}
"""The GSME reads the GPF answers from its mirror, by message code."""

for _code, _handler in MIRRORED.items():
    handles(DeviceType.GPF, _code)(mirrored(_handler))

"""The CHF's Sub GHz alerts beside the channel scan (DBCH05 / DBCH08, in the configuration
family): each a DLMS alert with its own message code, MAC'd (non-critical, though 0x8Fxx).

DBCH09 (0x8F2A)
    The Sub GHz configuration changed: after a DBCH04 (SR 6.28) the hub runs, it reports the
    configuration it now holds (the structure DBCH04 wrote).
DBCH06 (0x8F20)
    :func:`duty_cycle_limited`: the hub reached its duty cycle limit and held back messages
    for a device (named).
DBCH07 (0x8F26)
    :func:`channel_changed`: the hub moved its Sub GHz network to another channel (the new
    channel as a 32-bit channel mask - page in the top 5 bits - and the reason, one byte).
DBCH10 (0x8F2C)
    :func:`message_discarded`: the hub discarded a message to keep to its duty cycle (the
    sender, the device, the message's CRA flag and originator counter).

The event functions stand for what the radio does (the emulator has no radio): each queues its
alert on the hub, which its next tick (the host's periodic tick) sends; the hub keeps in its
``sub_ghz`` family state what they changed (``channel``, ``channel_reason``, ``limited`` -
device time the duty cycle limit was reached, ``discarded`` - messages discarded).

GBCS addresses these alerts to the DCC's access control broker (MAC'd for it), as the hub's
CS14, and the DCC forwards them (:mod:`gateway.services.device_answers`).
"""

from __future__ import annotations

from typing import Any, Final

from emulator.clock import from_seconds
from emulator.devices.families import Alert, observes, writes_alerts
from emulator.errors import CommandError
from emulator.usecases.configuration import setting
from gbcs import content as c
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms

__all__ = [
    "CONFIGURATION",
    "FAMILY",
    "channel_changed",
    "duty_cycle_limited",
    "message_discarded",
]

FAMILY = "sub_ghz"
CONFIGURATION: Final = "set 1 0-0:94.44.10.0/2"
"""The Sub GHz configuration object DBCH04 writes (the configuration family keeps it)."""
DBCH04, DBCH06, DBCH07, DBCH09, DBCH10 = 0x010D, 0x0110, 0x0111, 0x0113, 0x0114
DUTY_CYCLE_LIMITED, CHANNEL_CHANGED, CONFIGURATION_CHANGED, MESSAGE_DISCARDED = (
    0x8F20,
    0x8F26,
    0x8F2A,
    0x8F2C,
)


def _hub(device: Any) -> None:
    if device.DEVICE_TYPE is not DeviceType.CHF:
        raise CommandError(
            f"Sub GHz alerts come from a communications hub, not a {device.DEVICE_TYPE}"
        )


def _queue(device: Any, code: int, message_code: int, detail: bytes) -> None:
    alert = Alert(
        code, message_code=message_code, critical=False, detail=detail, target=device.trust.acb
    )
    device.queued = [*(device.queued or []), alert]


@observes
def _configuration_changed(device: Any, kind: str, code: int, now: int) -> None:
    """DBCH09 after each DBCH04 the hub ran (a refused one is not observed)."""
    if kind != "command" or code != DBCH04 or device.DEVICE_TYPE is not DeviceType.CHF:
        return
    held = setting(device, CONFIGURATION)
    if held is not None:
        _queue(device, CONFIGURATION_CHANGED, DBCH09, held.to_bytes())


def duty_cycle_limited(device: Any, held_for: bytes, now: int) -> None:
    """The hub reached its Sub GHz duty cycle limit holding messages for ``held_for``:
    DBCH06, 0x8F20 naming that device."""
    _hub(device)
    if len(held_for) != 8:
        raise CommandError("a device is named by its 8-byte EUI")
    device.family_state(FAMILY)["limited"] = device.device_time(now)
    _queue(device, DUTY_CYCLE_LIMITED, DBCH06, held_for)


def channel_changed(device: Any, channel: int, reason: int) -> None:
    """The hub moved to ``channel`` (a 32-bit channel mask) for ``reason`` (one byte):
    DBCH07, 0x8F26."""
    _hub(device)
    if not 0 <= channel < 1 << 32:
        raise CommandError(f"channel mask 0x{channel:x} is not 32 bits")
    if not 0 <= reason <= 0xFF:
        raise CommandError(f"reason {reason} is not one byte")
    state = device.family_state(FAMILY)
    if state.get("channel") == channel:
        raise CommandError(f"the hub is on channel mask 0x{channel:08x} already")
    state["channel"] = channel
    state["channel_reason"] = reason
    _queue(device, CHANNEL_CHANGED, DBCH07, channel.to_bytes(4, "big") + bytes([reason]))


def message_discarded(device: Any, message: Message) -> None:
    """The hub discarded ``message`` to keep to its duty cycle: DBCH10, 0x8F2C naming the
    sender (the user an ACB-sent command is for), the device, the CRA flag and the
    originator counter (the user's, for an ACB-sent command)."""
    _hub(device)
    sender, counter = message.business_originator, message.originator_counter
    if len(message.extensions) >= 16:
        sender, counter = message.extensions[:8], int.from_bytes(message.extensions[8:16], "big")
    state = device.family_state(FAMILY)
    state["discarded"] = int(state.get("discarded", 0)) + 1
    detail = sender + message.business_target + bytes([message.cra]) + counter.to_bytes(8, "big")
    _queue(device, MESSAGE_DISCARDED, DBCH10, detail)


def _details(alert: Alert) -> dlms.Data:
    if alert.message_code == DBCH09:
        return dlms.decode_data(alert.detail)
    if alert.message_code == DBCH07:
        channel = dlms.BitString(32, alert.detail[:4])
        return dlms.structure(channel, dlms.octet_string(alert.detail[4:]))
    return dlms.octet_string(alert.detail)


def _content(device: Any, alert: Alert, counter: int, now: int) -> bytes:
    when = from_seconds(device.device_time(now))
    return c.DlmsAlert(counter, alert.code, when, _details(alert)).encode()


for _code in (DBCH06, DBCH07, DBCH09, DBCH10):
    writes_alerts(_code)(_content)

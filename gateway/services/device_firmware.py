"""What the SMI learns from a device's firmware answers: the version a CS06 activation (its
immediate response, or the 0x00CA alert of a future-dated one) says the device now runs.

The SMI records it (:meth:`gateway.smi.Smi.on_firmware_activated`); the ESME Variant is not
changed by it - correcting that is the supplier's SR8.4 (MP125), which the SMI's rules apply.
"""

from __future__ import annotations

from gbcs import content as gc
from gbcs.codes import CRA
from gbcs.errors import GbcsError
from gbcs.frames import Message

__all__ = ["activated_version"]

ACTIVATE_FIRMWARE = 0x0012
FUTURE_DATED_FIRMWARE_ALERT = 0x00CA


def activated_version(message: Message) -> str | None:
    """The firmware version (8 hex digits, as the SMI holds it) the device reports running
    after a successful activation; None when the message reports none."""
    try:
        if message.message_code == ACTIVATE_FIRMWARE and message.cra is CRA.RESPONSE:
            response = gc.decode_response(ACTIVATE_FIRMWARE, message.content)
            result = response if isinstance(response, gc.FirmwareActivated) else None
        elif message.message_code == FUTURE_DATED_FIRMWARE_ALERT and message.cra is CRA.ALERT:
            alert = gc.decode_alert(FUTURE_DATED_FIRMWARE_ALERT, message.content)
            fired = alert if isinstance(alert, gc.FutureDatedFirmwareAlert) else None
            result = fired.result if fired is not None and fired.executed else None
        else:
            return None
    except (GbcsError, ValueError):
        return None
    if result is None or not result.ok:
        return None
    return result.version.hex().upper()

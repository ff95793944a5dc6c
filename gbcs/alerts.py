"""GBCS alert codes (the 2-byte code an alert carries in its payload) and their names.

Alerts travel with message code 0x1000 (critical) or 0x1001 (non-critical), or with one of
the dedicated alert message codes in :mod:`gbcs.usecases` (e.g. 0x00CA future-dated
firmware activation). 0x80xx / 0x81xx codes are non-critical device alerts and 0x8Fxx
critical ones. The names follow GBCS (checked against the public Wireshark GBCS
dissector's table, GBCS v2.1); codes GBCS added later are not all here - an unknown code
still decodes, it is only named "unknown alert".
"""

from __future__ import annotations

from enum import IntEnum


class AlertCode(IntEnum):
    """The alert codes the emulated devices raise (and the gateway routes)."""

    CREDIT_ADDED_LOCALLY = 0x810E
    CLOCK_ADJUSTED_WITHIN_TOLERANCE = 0x8145
    DEVICE_JOINED_SMHAN = 0x8183
    SMART_METER_INTEGRITY_ISSUE_WARNING = 0x81A0
    SUPPLY_CONNECT_FAILURE = 0x81BD
    SUPPLY_DISCONNECT_FAILURE = 0x81C0
    UTRN_REJECTED_AS_LOCKED_OUT = 0x81C5
    CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE = 0x81C6
    BILLING_DATA_LOG_UPDATED = 0x8F0A
    CLOCK_NOT_ADJUSTED_OVER_10_SECONDS = 0x8F0C
    CREDIT_BELOW_DISABLEMENT_THRESHOLD = 0x8F0F
    CHF_DEVICE_LOG_CHANGED = 0x8F12
    FIRMWARE_VERIFICATION_FAILED_AT_POWER_ON = 0x8F1B
    FIRMWARE_VERIFICATION_FAILED = 0x8F1C
    INTEGRITY_CHECK_OF_COMMAND_FAILED = 0x8F1E
    SOURCE_HAS_NO_AUTHORITY = 0x8F30
    SUPPLY_ARMED = 0x8F32
    SUPPLY_OUTAGE_RESTORED = 0x8F35
    TRUSTED_SOURCE_AUTHENTICATION_FAILURE = 0x8F3D
    UNAUTHORISED_COMMUNICATION_ACCESS = 0x8F3E
    CHANGE_IN_EXECUTING_FIRMWARE_VERSION = 0x8F43
    CREDIT_WOULD_EXCEED_MAXIMUM_METER_BALANCE = 0x8F47
    DEVICE_JOINING_FAILED = 0x8F48
    DEVICE_JOINING_SUCCEEDED = 0x8F49
    DUPLICATE_UTRN_ENTERED = 0x8F51
    FAILED_AUTHENTICATION_OR_AUTHORISATION = 0x8F53
    SUPPLY_INTERRUPTED = 0x8F57
    UTRN_EXCEEDS_MAXIMUM_CREDIT = 0x8F5B
    UNUSUAL_NUMBERS_OF_MALFORMED_COMMANDS = 0x8F60
    UTRN_NOT_AUTHENTIC = 0x8F63
    UTRN_NOT_FOR_THIS_DEVICE = 0x8F64
    FUTURE_DATED_COMMAND_EXECUTED = 0x8F66
    FUTURE_DATED_COMMAND_NOT_EXECUTED = 0x8F67
    DEVICE_COMMISSIONED = 0x8F69
    UPDATE_SECURITY_CREDENTIALS = 0x8F70
    FIRMWARE_VERIFICATION_SUCCESSFUL = 0x8F72
    FAILURE_TO_DELIVER_REMOTE_PARTY_MESSAGE = 0x8F84
    COMMAND_NOT_SUPPORTED = 0x8F85


_NAMES: dict[int, str] = {
    0x8002: "Average RMS voltage above average RMS over-voltage threshold",
    0x8003: "Average RMS voltage above average RMS over-voltage threshold on phase 1",
    0x8004: "Average RMS voltage above average RMS over-voltage threshold on phase 2",
    0x8005: "Average RMS voltage above average RMS over-voltage threshold on phase 3",
    0x8006: "Average RMS voltage below average RMS under-voltage threshold",
    0x8007: "Average RMS voltage below average RMS under-voltage threshold on phase 1",
    0x8008: "Average RMS voltage below average RMS under-voltage threshold on phase 2",
    0x8009: "Average RMS voltage below average RMS under-voltage threshold on phase 3",
    0x8010: "Over current",
    0x8011: "Over current L1",
    0x8013: "Over current L3",
    0x8014: "Power factor threshold below",
    0x8015: "Power factor threshold OK",
    0x8016: "Over current L2",
    0x8020: "RMS voltage above extreme over-voltage threshold",
    0x8021: "RMS voltage above extreme over-voltage threshold on phase 1",
    0x8022: "RMS voltage above extreme over-voltage threshold on phase 2",
    0x8023: "RMS voltage above extreme over-voltage threshold on phase 3",
    0x8024: "RMS voltage above voltage swell threshold",
    0x8025: "RMS voltage above voltage swell threshold on phase 1",
    0x8026: "RMS voltage above voltage swell threshold on phase 2",
    0x8027: "RMS voltage above voltage swell threshold on phase 3",
    0x8028: "RMS voltage below extreme under-voltage threshold",
    0x8029: "RMS voltage below extreme under-voltage threshold on phase 1",
    0x802A: "RMS voltage below extreme under-voltage threshold on phase 2",
    0x802B: "RMS voltage below extreme under-voltage threshold on phase 3",
    0x802C: "RMS voltage below voltage sag threshold",
    0x802D: "RMS voltage below voltage sag threshold on phase 1",
    0x802E: "RMS voltage below voltage sag threshold on phase 2",
    0x802F: "RMS voltage below voltage sag threshold on phase 3",
    0x8071: "GPF device log changed",
    0x8085: "Average RMS voltage back below average RMS over-voltage threshold",
    0x8086: "Average RMS voltage back below average RMS over-voltage threshold on phase 1",
    0x8087: "Average RMS voltage back below average RMS over-voltage threshold on phase 2",
    0x8088: "Average RMS voltage back below average RMS over-voltage threshold on phase 3",
    0x8089: "Average RMS voltage back above average RMS under-voltage threshold",
    0x808A: "Average RMS voltage back above average RMS under-voltage threshold on phase 1",
    0x808B: "Average RMS voltage back above average RMS under-voltage threshold on phase 2",
    0x808C: "Average RMS voltage back above average RMS under-voltage threshold on phase 3",
    0x808D: "RMS voltage returned below extreme over-voltage threshold",
    0x808E: "RMS voltage returned below extreme over-voltage threshold on phase 1",
    0x808F: "RMS voltage returned below extreme over-voltage threshold on phase 2",
    0x8090: "RMS voltage returned below extreme over-voltage threshold on phase 3",
    0x8091: "RMS voltage returned below voltage swell threshold",
    0x8092: "RMS voltage returned below voltage swell threshold on phase 1",
    0x8093: "RMS voltage returned below voltage swell threshold on phase 2",
    0x8094: "RMS voltage returned below voltage swell threshold on phase 3",
    0x8095: "RMS voltage returned above extreme under-voltage threshold",
    0x8096: "RMS voltage returned above extreme under-voltage threshold on phase 1",
    0x8097: "RMS voltage returned above extreme under-voltage threshold on phase 2",
    0x8098: "RMS voltage returned above extreme under-voltage threshold on phase 3",
    0x8099: "RMS voltage returned above voltage sag threshold",
    0x809A: "RMS voltage returned above voltage sag threshold on phase 1",
    0x809B: "RMS voltage returned above voltage sag threshold on phase 2",
    0x809C: "RMS voltage returned above voltage sag threshold on phase 3",
    0x810D: "Combined credit below low credit threshold (prepayment mode)",
    0x810E: "Credit added locally",
    0x8119: "Emergency credit has become available (prepayment mode)",
    0x811A: "Failure in changing or maintaining HCALCS or ALCS state",
    0x8131: "Success in changing or maintaining HCALCS or ALCS state",
    0x8145: "Clock adjusted (within tolerance)",
    0x8154: "Immediate HAN interface command received and successfully actioned",
    0x8155: "Immediate HAN interface command received but not successfully actioned",
    0x8161: "User interface command input and successfully actioned",
    0x8162: "User interface command input but not successfully actioned",
    0x8168: "Supply disabled then armed - activate emergency credit triggered",
    0x8183: "Device joined SMHAN",
    0x8184: "Valve tested",
    0x819D: "GSME command not retrieved",
    0x819E: "Tap off message response or alert failure",
    0x81A0: "Smart meter integrity issue warning",
    0x81A1: "Battery cover closed",
    0x81A2: "CH connected to ESME",
    0x81A3: "CH disconnected from ESME",
    0x81A4: "Close tunnel command rejected",
    0x81A5: "Communication from local port (e.g. optical)",
    0x81A6: "Customer acknowledged message on HAN device",
    0x81A7: "Debt collection completed - time debt 1",
    0x81A8: "Debt collection completed - time debt 2",
    0x81A9: "Debt collection completed - payment debt",
    0x81AA: "Emergency credit exhausted",
    0x81AB: "Emergency credit activated",
    0x81AC: "Error: measurement fault",
    0x81AD: "Error: metrology firmware verification failure",
    0x81AE: "Error: non-volatile memory",
    0x81AF: "Error: program execution",
    0x81B0: "Error: program storage",
    0x81B1: "Error: RAM",
    0x81B2: "Error: unexpected hardware reset",
    0x81B3: "Error: watchdog",
    0x81B4: "Excess gas flow beyond meter capacity",
    0x81B5: "Flow sensor detects air in gas flow",
    0x81B6: "Flow sensor detects reverse flow of gas",
    0x81B7: "Incorrect phase sequencing",
    0x81B8: "Incorrect polarity",
    0x81B9: "Meter cover closed",
    0x81BA: "Request tunnel command rejected",
    0x81BB: "Reverse current",
    0x81BC: "Strong magnetic field removed",
    0x81BD: "Supply connect failure (valve or load switch)",
    0x81BE: "Supply disabled then locked - supply tamper state cause",
    0x81BF: "Supply disabled then armed - uncontrolled gas flow rate",
    0x81C0: "Supply disconnect failure (valve or load switch)",
    0x81C1: "Terminal cover closed",
    0x81C2: "Tilt tamper ended",
    0x81C3: "Tilt tamper",
    0x81C4: "UTRN manual entry suspended",
    0x81C5: "UTRN rejected as locked out",
    0x81C6: "Clock not adjusted (outside tolerance)",
    0x8F01: "Active power import above load limit threshold",
    0x8F0A: "Billing data log updated",
    0x8F0C: "Clock not adjusted (adjustment greater than 10 seconds)",
    0x8F0F: "Credit below disablement threshold (prepayment mode)",
    0x8F12: "CHF device log changed",
    0x8F1B: "Firmware verification failed at power on",
    0x8F1C: "Firmware verification failed",
    0x8F1D: "GSME power supply loss",
    0x8F1E: "Integrity check of content or format of command failed",
    0x8F1F: "Low battery capacity",
    0x8F20: "Limited duty cycle action taken",
    0x8F21: "Duty cycle fallen below normal-limited duty cycle threshold",
    0x8F22: "Critical duty cycle action taken",
    0x8F23: "Duty cycle fallen below limited-critical duty cycle threshold",
    0x8F24: "Regulated duty cycle action taken",
    0x8F25: "Duty cycle fallen below critical-regulated duty cycle threshold",
    0x8F26: "Sub GHz channel changed",
    0x8F27: "Sub GHz channel scan initiated",
    0x8F28: "Sub GHz channel scan request assessment outcome",
    0x8F29: "Three lost GSME searches failed",
    0x8F2A: "Sub GHz configuration changed",
    0x8F2B: "Sub GHz channel not changed due to frequency agility parameters",
    0x8F2C: "Message discarded due to duty cycle management",
    0x8F2D: "No more sub GHz device capacity",
    0x8F30: "Source does not have authority for command",
    0x8F32: "Supply armed",
    0x8F33: "Supply disabled then armed - load limit triggered",
    0x8F34: "Supply enabled after load limit restoration period",
    0x8F35: "Supply outage restored",
    0x8F36: "Supply outage restored - outage >= 3 minutes",
    0x8F37: "Supply outage restored on phase 1",
    0x8F38: "Supply outage restored on phase 1 - outage >= 3 minutes",
    0x8F39: "Supply outage restored on phase 2",
    0x8F3A: "Supply outage restored on phase 2 - outage >= 3 minutes",
    0x8F3B: "Supply outage restored on phase 3",
    0x8F3C: "Supply outage restored on phase 3 - outage >= 3 minutes",
    0x8F3D: "Trusted source authentication failure",
    0x8F3E: "Unauthorised communication access attempted",
    0x8F3F: "Unauthorised physical access - tamper detect",
    0x8F43: "Change in the executing firmware version",
    0x8F47: "Credit would cause meter balance to exceed maximum meter balance threshold",
    0x8F48: "Device joining failed",
    0x8F49: "Device joining succeeded",
    0x8F4A: "Device unjoining failed",
    0x8F4B: "Device unjoining succeeded",
    0x8F4C: "Device's own digital signing certificate replacement failed",
    0x8F4D: "Device's own digital signing certificate replacement succeeded",
    0x8F4E: "Device's own key agreement certificate replacement failed",
    0x8F4F: "Device's own key agreement certificate replacement succeeded",
    0x8F51: "Duplicate UTRN entered",
    0x8F52: "Event log cleared",
    0x8F53: "Failed authentication or authorisation not covered by other codes",
    0x8F57: "Supply interrupted",
    0x8F58: "Supply interrupted on phase 1",
    0x8F59: "Supply interrupted on phase 2",
    0x8F5A: "Supply interrupted on phase 3",
    0x8F5B: "UTRN exceeds maximum credit threshold",
    0x8F60: "Unusual numbers of malformed, out-of-order or unexpected commands received",
    0x8F63: "UTRN not authentic",
    0x8F64: "UTRN not for this device",
    0x8F66: "Future-dated command successfully actioned",
    0x8F67: "Future-dated command not successfully actioned",
    0x8F69: "Device commissioned",
    0x8F70: "Update security credentials",
    0x8F72: "Firmware verification successful",
    0x8F73: "Unauthorised physical access - battery cover removed",
    0x8F74: "Unauthorised physical access - meter cover removed",
    0x8F75: "Unauthorised physical access - strong magnetic field",
    0x8F76: "Unauthorised physical access - terminal cover removed",
    0x8F77: "Unauthorised physical access - second terminal cover removed",
    0x8F78: "Unauthorised physical access - other",
    0x8F82: "Remaining battery capacity reset",
    0x8F83: "Disablement of supply due to insufficient credit has been suspended",
    0x8F84: "Failure to deliver remote party message to ESME",
    0x8F85: "Command not supported by device",
}

ALERT_NAMES: dict[int, str] = dict(_NAMES)
"""Every alert code this module knows, with its GBCS name."""


def alert_name(code: int) -> str:
    """The GBCS name of an alert code, or ``"unknown alert 0xNNNN"``."""
    return ALERT_NAMES.get(code, f"unknown alert 0x{code:04X}")


def is_critical_alert(code: int) -> bool:
    """0x8Fxx alerts are critical (sent signed, with message code 0x1000)."""
    return code & 0xFF00 == 0x8F00

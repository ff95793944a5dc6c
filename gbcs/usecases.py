"""Every GBCS use case by message code: name, title, critical flag, payload kind, target
device types and whether the response carries an encrypted (sensitive) payload.

Sources and certainty. Codes, names and titles are GBCS's message-code table (as the
public Wireshark GBCS dissector lists it for GBCS v2.1, plus the later CS02b, DBCH, PECS and
HECS codes it also carries). The other columns are this project's reading of GBCS:

* ``verified=True`` rows were checked against real DCC reference test data (RTDS 4.5.0):
  the criticality (a critical command has a pre-command and a signature), the payload
  kind and the target device type are what those messages show.
* for the other rows the critical flag, payload kind and encrypted-response flag are from
  memory of GBCS 4.x and *may be wrong*; the ``encrypted_response`` flag in particular is
  set for the consumption, billing and profile reads that GBCS treats as sensitive, but
  only ECS17b and GCS13a were seen encrypted.

Use cases GBCS added after v2.1 that are not listed here are missing, not invented: an
unknown code gives ``use_case(code) is None`` and its content still decodes (by sniffing).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gbcs.devices import DeviceType


class PayloadKind(StrEnum):
    """How a use case's content is encoded."""

    DLMS = "dlms"
    GBZ = "gbz"
    ASN1 = "asn1"


@dataclass(frozen=True, slots=True)
class UseCase:
    """One row of the message-code table."""

    code: int
    name: str
    """GBCS name, e.g. ``"ECS17b"`` (``"CCS05/CCS04"`` where two share a code)."""
    title: str
    critical: bool
    """Critical commands are signed by the user (pre-command / signed pre-command); for an
    alert code: a critical alert (signed by the device)."""
    kind: PayloadKind | None
    """None for the generic alert codes, whose content is DLMS or GBZ by source device."""
    devices: tuple[DeviceType, ...]
    """Target device types (alerts: the devices that raise them)."""
    encrypted_response: bool = False
    """The response (or the alert) carries an encrypted payload (``31`` framing)."""
    alert: bool = False
    """The code names an alert, not a command."""
    verified: bool = False
    """Checked against real reference test data (see the module docstring)."""
    aliases: tuple[str, ...] = ()
    """Other spellings the DCC's reference data and DUIS templates use for this row
    (``"CS02bACBByACB"``, ``"FDRA-DLMS"``); ``by_name`` accepts them too."""

    @property
    def device(self) -> DeviceType:
        """The first (main) target device type."""
        return self.devices[0]

    @property
    def names(self) -> tuple[str, ...]:
        """Each GBCS name of the row (``"CCS05/CCS04"`` -> both)."""
        return tuple(self.name.split("/"))

    def __str__(self) -> str:
        return f"{self.name} (0x{self.code:04X}) {self.title}"


E, G, C, P = DeviceType.ESME, DeviceType.GSME, DeviceType.CHF, DeviceType.GPF
H, M = DeviceType.HCALCS, DeviceType.PPMID
"""The type 1 non-meters: the joins' responders (CS03a2 by the HCALCS and PPMID, CS03c by the
PPMID with the GSME), as the DCC's references send them."""
D, Z, A = PayloadKind.DLMS, PayloadKind.GBZ, PayloadKind.ASN1
_ANY = (E, G, C, P)
_GAS = (G, P)

# Flags in the table below: "c" critical, "e" encrypted response, "a" alert, "v" verified.
_TABLE: tuple[tuple[int, str, str, str, PayloadKind | None, tuple[DeviceType, ...]], ...] = (
    (0x0001, "CCS01", "Add Device to CHF device log", "v", D, (C,)),
    (0x0002, "CCS02", "Remove device from CHF device log", "v", D, (C,)),
    (0x0003, "CCS03", "Restore CHF Device Log", "", D, (C,)),
    (0x0004, "CCS05/CCS04", "Read CHF device log / Check HAN communications", "v", D, (C,)),
    (0x0007, "CS01a", "Apply Prepayment Top Up to an ESME", "v", D, (E,)),
    (0x0008, "CS02a", "Provide Security Credentials Details", "v", A, _ANY),
    (0x000A, "CS02c", "Issue Security Credentials", "cv", A, _ANY),
    (0x000B, "CS02d", "Update Device Certificates on Device", "c", A, _ANY),
    # GBCS gives CS02e a variant message category; the one DUIS SR that sends it (6.24.2)
    # is critical, so the supplier signs it.
    (0x000C, "CS02e", "Provide Device Certificates from Device", "c", A, _ANY),
    (0x000D, "CS03a1", "Method A Join (Meter)", "cv", A, (E, G)),
    (0x000E, "CS03b", "Method B Join", "v", A, (E, G)),
    (0x000F, "CS04ac", "Method A or C Unjoin", "cv", A, (E, G, H, M)),
    (0x0010, "CS04b", "Method B Unjoin", "", A, (E, G)),
    (0x0012, "CS06", "Activate Firmware", "cv", A, _ANY),
    (0x0013, "CS07", "Read Device Join Details", "", A, (E, G)),
    (0x0014, "CS10a", "Read ZigBee Device Event Log", "", Z, _GAS),
    (0x0015, "CS11", "Clear ZigBee Device Event Log", "v", Z, _GAS),
    (0x0018, "CS14", "Device Addition To / Removal From HAN Whitelist Alerts", "av", D, (C,)),
    (0x0019, "ECS01a", "Set Tariff and Price on ESME", "cv", D, (E,)),
    (0x001A, "ECS02", "Set ESME Payment Mode to Credit", "cv", D, (E,)),
    (0x001B, "ECS03", "Set ESME Payment Mode to Prepayment", "cv", D, (E,)),
    (0x001C, "ECS04a", "Adjust Meter Balance on the ESME", "c", D, (E,)),
    (0x001D, "ECS05", "Reset Tariff Block Counter Matrix", "cv", D, (E,)),
    (0x001E, "ECS07", "Manage Debt on the ESME", "c", D, (E,)),
    (0x001F, "ECS08", "Update Prepayment Configuration on ESME", "c", D, (E,)),
    (0x0020, "ECS09", "Activate Emergency Credit Remotely on ESME", "cv", D, (E,)),
    (0x0021, "ECS10", "Send Message to ESME", "v", D, (E,)),
    (0x0022, "ECS12", "Set Change of Tenancy date on ESME", "v", D, (E,)),
    (0x0023, "ECS14", "Disable Privacy PIN Protection on ESME", "", D, (E,)),
    (0x0024, "ECS15a", "Clear ESME Event Log", "c", D, (E,)),
    (0x0025, "ECS16", "Write Supplier Contact Details on ESME", "v", D, (E,)),
    (0x0026, "ECS17a", "Read ESME Energy Registers (Export Energy)", "e", D, (E,)),
    (0x0027, "ECS17b", "Read ESME Energy Registers (Import Energy)", "ev", D, (E,)),
    (0x0028, "ECS17c", "Read ESME Energy Registers (Power)", "ev", D, (E,)),
    (0x0029, "ECS17d", "Read ESME Energy Register (TOU)", "ev", D, (E,)),
    (0x002A, "ECS17e", "Read ESME Energy Register (TOU with Blocks)", "ev", D, (E,)),
    (0x002B, "ECS18a", "Read Maximum Demand Registers (export)", "ev", D, (E,)),
    (0x002C, "ECS18b", "Read Maximum Demand Registers (import)", "ev", D, (E,)),
    (0x002D, "ECS19", "Read ESME Prepayment Registers", "v", D, (E,)),
    (0x002E, "ECS20a", "Read ESME Billing Data Log (payment based debt payments)", "v", D, (E,)),
    (
        0x002F,
        "ECS20b",
        "Read ESME Billing Data Log (change of mode / tariff triggered)",
        "ev",
        D,
        (E,),
    ),
    (0x0030, "ECS20c", "Read ESME Billing Data Log (billing calendar triggered)", "ev", D, (E,)),
    (0x0033, "ECS21a", "Read Electricity Daily Read Log (exc export)", "ev", D, (E,)),
    (0x0034, "ECS21b", "Read Electricity (Prepayment) Daily Read Log", "ev", D, (E,)),
    (0x0035, "ECS21c", "Read Electricity Daily Read Log (export only)", "e", D, (E,)),
    (0x0036, "ECS22a", "Read Electricity Half Hour Profile Data (export)", "ev", D, (E,)),
    (0x0037, "ECS22b", "Read Electricity Half Hour Profile Data (active import)", "ev", D, (E,)),
    (0x0038, "ECS22c", "Read Electricity Half Hour Profile Data (reactive import)", "ev", D, (E,)),
    (0x0039, "ECS23", "Read Voltage Operational Data", "v", D, (E,)),
    (0x003A, "ECS24", "Read ESME Tariff Data", "v", D, (E,)),
    (0x003B, "ECS26a", "Read ESME Configuration Data Prepayment", "v", D, (E,)),
    (0x003C, "ECS26b", "Read ESME Configuration Voltage Data", "v", D, (E,)),
    (
        0x003D,
        "ECS26c",
        "Read ESME Configuration Data Device Information (randomisation)",
        "v",
        D,
        (E,),
    ),
    (
        0x003E,
        "ECS26d",
        "Read ESME Configuration Data Device Information (Billing Calendar)",
        "v",
        D,
        (E,),
    ),
    (
        0x003F,
        "ECS26e",
        "Read ESME Configuration Data Device Information (identity exc MPAN)",
        "",
        D,
        (E,),
    ),
    (
        0x0040,
        "ECS26f",
        "Read ESME Configuration Data (instantaneous power thresholds)",
        "v",
        D,
        (E,),
    ),
    (0x0042, "ECS27", "Read ESME Load Limit Data", "v", D, (E,)),
    (0x0043, "ECS28a", "Set Load Limit Configurations - General Settings", "c", D, (E,)),
    (0x0044, "ECS28b", "Set Load Limit Configuration Counter Reset", "v", D, (E,)),
    (0x0045, "ECS29a", "Set Voltage Configurations on ESME", "v", D, (E,)),
    (0x0046, "ECS30", "Set Billing Calendar on the ESME", "cv", D, (E,)),
    (0x0047, "ECS34", "Set Instantaneous Power Threshold Configuration", "v", D, (E,)),
    (0x0048, "ECS35a", "Read ESME Event Log", "v", D, (E,)),
    (0x0049, "ECS35b", "Read ESME Security Log", "v", D, (E,)),
    (0x004A, "ECS37", "Set Maximum Demand Configurable Time Period", "v", D, (E,)),
    (0x004B, "ECS38", "Update Randomised Offset Limit", "c", D, (E,)),  # GBCS: SME.C.C
    (0x004C, "ECS39a", "Set MPAN Value on the ESME", "v", D, (E,)),
    (0x004D, "ECS39b", "Set Export MPAN Value on the ESME", "v", D, (E,)),
    (0x004E, "ECS40", "Read MPAN Value on the ESME", "v", D, (E,)),
    (0x004F, "ECS42", "Remotely Close the Load Switch on the ESME", "cv", D, (E,)),
    (0x0050, "ECS43", "Remotely Open the Load Switch on the ESME", "cv", D, (E,)),
    (0x0051, "ECS44", "Arm Load Switch in ESME", "cv", D, (E,)),
    (0x0052, "ECS45", "Read Status of Load Switch in the ESME", "v", D, (E,)),
    (0x0053, "ECS46a", "Set HC ALCS or ALCS Labels in ESME", "cv", D, (E,)),
    (
        0x0054,
        "ECS46c",
        "Set HC ALCS and ALCS configuration in ESME (excluding labels)",
        "cv",
        D,
        (E,),
    ),
    (0x0055, "ECS47", "Set or Reset HC ALCS or ALCS State", "cv", D, (E,)),
    (0x0058, "ECS50", "Send CIN to ESME", "v", D, (E,)),
    (0x0059, "ECS52", "Read ESME/Comms Hub Firmware Version", "v", D, (E, C)),
    (0x005A, "ECS57", "Reset ESME Maximum Demand Registers", "v", D, (E,)),
    (0x005E, "ECS61c", "Read Boost Button Data from ESME", "v", D, (E,)),
    (0x005F, "ECS62", "Set ALCS and Boost Button Association", "v", D, (E,)),
    (0x0060, "ECS66", "Read ESME Daily Consumption Log", "ev", D, (E,)),
    (0x0061, "ECS68", "ESME Critical Sensitive Alert (Billing Data Log)", "ceav", D, (E,)),
    (0x0062, "ECS70", "Set Clock on ESME", "cv", D, (E,)),
    (0x0067, "ECS80", "Supply Outage Restore Alert from ESME", "av", D, (E,)),
    (0x0068, "ECS81", "Set Supply Tamper State on ESME", "c", D, (E,)),
    (0x0069, "ECS82", "Read Meter Balance for ESME", "v", D, (E,)),
    (0x006B, "GCS01a", "Set Tariff and Price on GSME", "cv", Z, _GAS),
    (0x006C, "GCS02", "Set GSME Payment Mode to Credit", "cv", Z, _GAS),
    (0x006D, "GCS03", "Set GSME Payment Mode to Prepayment", "cv", Z, _GAS),
    (0x006E, "GCS04", "Manage Debt on the GSME", "cv", Z, _GAS),
    (0x006F, "GCS05", "Update Prepayment Configurations on GSME", "cv", Z, _GAS),
    (0x0070, "GCS06", "Activate Emergency Credit Remotely on GSME", "cv", Z, _GAS),
    (0x0071, "GCS07", "Send Message to GSME", "v", Z, _GAS),
    (0x0072, "GCS09", "Set Change of Tenancy date on GPF", "v", Z, (P, G)),
    (0x0073, "GCS11", "Disable Privacy PIN Protection on GSME", "v", Z, _GAS),
    (0x0074, "GCS13a", "Read GSME Consumption Register", "ev", Z, _GAS),
    (0x0075, "GCS14", "Read GSME Prepayment Register(s)", "v", Z, _GAS),
    (0x0076, "GCS15c", "Read GSME Billing Data Log (billing calendar triggered)", "ev", Z, _GAS),
    (0x0077, "GCS16a", "Read GSME Daily Read log(s)", "ev", Z, _GAS),
    (0x0078, "GCS17", "Read GSME Profile Data Log", "ev", Z, _GAS),
    (0x0079, "GCS18", "Read Gas Network Data Log", "ev", Z, _GAS),
    (0x007B, "GCS21a", "Read Gas Configuration Data Device Information", "v", Z, _GAS),
    (0x007C, "GCS23", "Set CV and Conversion Factor Value(s) on the GSME", "cv", Z, _GAS),
    (
        0x007D,
        "GCS24",
        "Set Uncontrolled Gas Flow Rate and Supply Tamper State on the GSME",
        "cv",
        Z,
        _GAS,
    ),
    (0x007E, "GCS25", "Set Billing Calendar on the GSME", "cv", Z, _GAS),
    (0x007F, "GCS28", "Set Clock on GSME", "cv", A, (G,)),
    (0x0080, "GCS31", "Start Network Data Log on GSME", "v", Z, _GAS),
    (0x0081, "GCS32", "Remotely close the valve in the GSME", "cv", Z, (G,)),
    (0x0082, "GCS33", "Read GSME Valve Status", "v", Z, _GAS),
    (0x0083, "GCS36", "Send CIN to GSME", "v", Z, (G,)),
    (0x0084, "GCS38", "Read GSME Firmware Version", "v", Z, _GAS),
    (0x0085, "GCS39", "Arm Valve in GSME", "c", Z, (G,)),
    (0x0086, "GCS40a", "Adjust Prepayment Mode Meter Balance on the GSME", "c", Z, _GAS),
    (0x0087, "GCS41", "Set MPRN Value on the GSME", "v", Z, _GAS),
    (0x0088, "GCS44", "Write Contact Details on GSME", "v", Z, _GAS),
    (0x0089, "GCS46", "Read MPRN on the GSME", "v", Z, _GAS),
    (0x008B, "GCS53", "Push Billing Data Log as an Alert", "ea", Z, _GAS),
    (0x008C, "GCS59", "Restore GPF Device Log", "v", A, (P,)),
    (0x008D, "GCS60", "Read Meter Balance for GSME", "", Z, _GAS),
    (0x0090, "PCS02", "Activate Emergency Credit on GSME from PPMID", "", Z, (G,)),
    (0x0092, "ECS26i", "Read Configuration Data Device Information (CHF identity)", "v", D, (C,)),
    (0x0093, "ECS35c", "Read CHF Event Log", "v", D, (C,)),
    (0x0094, "ECS35d", "Read CHF Security Log", "", D, (C,)),
    (0x0096, "GCS16b", "Read GSME Daily Read log(s) (prepayment)", "ev", Z, _GAS),
    (0x0097, "CS01b", "Apply Prepayment Top Up to a GSME", "v", Z, (G,)),
    (0x009B, "PCS01", "Apply Prepayment Top Up to a GSME using PPMID", "", Z, (G,)),
    (
        0x009D,
        "GCS21d",
        "Read GSME Configuration Data Device Information (Billing Calendar)",
        "",
        Z,
        _GAS,
    ),
    (
        0x009E,
        "GCS21e",
        "Read GSME/GPF Configuration Data Device Information (identity)",
        "v",
        Z,
        _GAS,
    ),
    (0x009F, "GCS21f", "Read GSME Tariff Data", "v", Z, _GAS),
    (0x00A0, "GCS61", "Read gas Daily Consumption Log", "ev", Z, _GAS),
    (0x00A1, "CS10b", "Read ZigBee Device Security Log", "", Z, _GAS),
    (0x00A2, "ECS01b", "Set Price on ESME", "cv", D, (E,)),
    (0x00A3, "GCS01b", "Set Price on GSME", "cv", Z, _GAS),
    (0x00AB, "CS03a2", "Method A Join (non Meter)", "cv", A, (H, M)),
    (0x00AC, "ECS25a", "Set Alert Behaviours - ESME - Supplier", "", D, (E,)),
    (0x00AD, "GCS20", "Set Alert Behaviours - GSME", "", Z, _GAS),
    (0x00AE, "ECS29b", "Set Voltage Configurations on ESME - 3ph", "v", D, (E,)),
    (0x00AF, "CS03c", "Method C Join", "cv", A, (G, M)),
    (0x00B0, "ECS25b", "Set Alert Behaviours - ESME - Network Operator", "v", D, (E,)),
    (0x00B2, "GCS62", "Backup GPF Device Log", "", Z, (P,)),
    (0x00B3, "ECS04b", "Reset Meter Balance on the ESME", "cv", D, (E,)),
    (0x00B4, "GCS40b", "Reset Prepayment Mode Meter Balance on the GSME", "c", Z, _GAS),
    (0x00B5, "GCS21b", "Read GSME Configuration Data Prepayment", "v", Z, _GAS),
    (0x00B6, "GCS13c", "Read GSME Register (TOU)", "ev", Z, _GAS),
    (0x00B7, "ECS01c", "Set Tariff and Price on ESME secondary", "cv", D, (E,)),
    (0x00B8, "GCS13b", "Read GSME Block Counters", "e", Z, _GAS),
    (0x00B9, "ECS35e", "Read ESME Power Event Log", "", D, (E,)),
    (0x00BA, "ECS35f", "Read ALCS Event Log", "", D, (E,)),
    (0x00BB, "ECS61a", "Read HC ALCS and ALCS Data from ESME", "", D, (E,)),
    (0x00BC, "ECS23b", "Read Voltage Operational Data - 3 Phase", "v", D, (E,)),
    (0x00BD, "ECS24b", "Read ESME Tariff Data - second element", "v", D, (E,)),
    (
        0x00BE,
        "ECS26j",
        "Read ESME Configuration Data Device Information (Payment Mode)",
        "",
        D,
        (E,),
    ),
    (
        0x00BF,
        "GCS21j",
        "Read GSME Configuration Data Device Information (Payment Mode)",
        "v",
        Z,
        _GAS,
    ),
    (0x00C0, "GCS40c", "Adjust Credit Mode Meter Balance on the GSME", "cv", Z, _GAS),
    (0x00C1, "ECS15c", "Clear ALCS Event Log", "v", D, (E,)),
    (0x00C2, "GCS40d", "Reset Credit Mode Meter Balance on the GSME", "cv", Z, _GAS),
    (
        0x00C3,
        "GCS15b",
        "Read GSME Billing Data Log (change of mode / tariff triggered)",
        "ev",
        Z,
        _GAS,
    ),
    (0x00C4, "GCS15d", "Read GSME Billing Data Log (payment-based debt payments)", "ev", Z, _GAS),
    (0x00C5, "GCS15e", "Read GSME Billing Data Log (prepayment credits)", "ev", Z, _GAS),
    (0x00C6, "ECS26k", "Read ESME Configuration Voltage Data - 3 phase", "v", D, (E,)),
    (0x00C7, "ECS01d", "Set Price on ESME secondary", "c", D, (E,)),
    (0x00C9, "ECS20d", "Read ESME Billing Data Log (prepayment credits)", "v", D, (E,)),
    (0x00CA, "FDFA", "Future Dated Firmware Activation Alert", "av", A, _ANY),
    (0x00CB, "FDSC", "Future Dated Updated Security Credentials Alert", "av", A, _ANY),
    (0x00CC, "FDDLMS", "Future Dated Execution Of Instruction Alert (DLMS COSEM)", "av", D, (E,)),
    (0x00CD, "FDGBZ", "Future Dated Execution Of Instruction Alert (GBZ)", "av", Z, _GAS),
    (
        0x00CE,
        "FWRECEIPT",
        "Firmware Distribution Receipt Alert (ESME or Comms Hub)",
        "av",
        D,
        (E, C),
    ),
    (0x00CF, "FWRECEIPTGAS", "Firmware Distribution Receipt Alert (GSME)", "av", Z, (G,)),
    (0x00D1, "ECS29c", "Set Voltage Configurations on ESME without counter reset", "v", D, (E,)),
    (
        0x00D2,
        "ECS29d",
        "Set Voltage Configurations on polyphase ESME without counter reset",
        "",
        D,
        (E,),
    ),
    (0x00D3, "ECS29e", "Reset RMS Voltage Counters on ESME", "v", D, (E,)),
    (0x00D4, "ECS29f", "Reset RMS Voltage Counters on polyphase ESME", "v", D, (E,)),
    (0x00D5, "RPMFAIL", "Failure to Deliver Remote Party Message to ESME Alert", "a", D, (E,)),
    (0x00D7, "ECS30a", "Set Billing Calendar on the ESME - all periodicities", "cv", D, (E,)),
    (0x00D8, "GCS25a", "Set Billing Calendar on the GSME - all periodicities", "cv", Z, _GAS),
    (
        0x00D9,
        "ECS26l",
        "Read ESME Configuration Data (Billing Calendar - all periodicities)",
        "v",
        D,
        (E,),
    ),
    (
        0x00DA,
        "GCS21k",
        "Read GSME Configuration Data (Billing Calendar - all periodicities)",
        "v",
        Z,
        _GAS,
    ),
    (0x00DB, "ECS48", "Configure daily resetting of Tariff Block Counter Matrix", "cv", D, (E,)),
    (0x00DE, "ECS08a", "Update Prepayment Configuration on ESME", "cv", D, (E,)),
    (0x00EA, "ECS25a1", "Set Event Behaviours - ESME to HAN Device - Supplier", "v", D, (E,)),
    (0x00EB, "ECS25a2", "Set Event Behaviours - ESME audible alarm - Supplier", "v", D, (E,)),
    (0x00EC, "ECS25a3", "Set Event Behaviours - ESME logging - Supplier", "", D, (E,)),
    (0x00ED, "ECS25b3", "Set Event Behaviours - ESME logging - Network Operator", "v", D, (E,)),
    (
        0x00EE,
        "ECS25r1",
        "Read non-critical event and alert behaviours - ESME - Supplier",
        "",
        D,
        (E,),
    ),
    (
        0x00EF,
        "ECS25r2",
        "Read non-critical event and alert behaviours - ESME - Network Operator",
        "",
        D,
        (E,),
    ),
    (0x00F0, "MIIW-ESME", "Meter Integrity Issue Warning Alert - ESME", "av", D, (E,)),
    (
        0x00F1,
        "GCS20r",
        "Read non-critical event and alert behaviours - GSME - Supplier",
        "",
        Z,
        _GAS,
    ),
    (0x00F2, "MIIW-GSME", "Meter Integrity Issue Warning Alert - GSME", "av", Z, (G,)),
    (
        0x00F9,
        "ECS26m",
        "Read ESME Configuration Data (identity, type and supply tamper state)",
        "",
        D,
        (E,),
    ),
    (
        0x00FA,
        "ECS26n",
        "Read CHF Configuration Data Device Information (CH identity and type)",
        "v",
        D,
        (C,),
    ),
    (
        0x00FB,
        "GCS21m",
        "Read GSME Configuration Data (identity, type, supply tamper / depletion state)",
        "v",
        Z,
        _GAS,
    ),
    (
        0x00FC,
        "GCS24a",
        "Set Uncontrolled Gas Flow Rate at greater resolution and Supply Tamper State",
        "cv",
        Z,
        _GAS,
    ),
    (0x00FD, "ECS35g", "Read Auxiliary Controller Event Log", "v", D, (E,)),
    (0x00FE, "CCS07", "Read CHF device log (security details)", "v", D, (C,)),
    (0x0100, "CS02b-rootBySupplier", "Update Security Credentials - rootBySupplier", "c", A, _ANY),
    (
        0x0101,
        "CS02b-rootByWanProvider",
        "Update Security Credentials - rootByWanProvider",
        "c",
        A,
        _ANY,
    ),
    (
        0x0102,
        "CS02b-supplierBySupplier",
        "Update Security Credentials - supplierBySupplier",
        "cv",
        A,
        _ANY,
    ),
    (
        0x0103,
        "CS02b-networkOperatorByNetworkOperator",
        "Update Security Credentials - networkOperatorByNetworkOperator",
        "cv",
        A,
        _ANY,
    ),
    (
        0x0104,
        "CS02b-accessControlBrokerByACB",
        "Update Security Credentials - accessControlBrokerByACB",
        "v",
        A,
        _ANY,
    ),
    (
        0x0105,
        "CS02b-wanProviderByWanProvider",
        "Update Security Credentials - wanProviderByWanProvider",
        "cv",
        A,
        _ANY,
    ),
    (
        0x0106,
        "CS02b-transCoSByTransCoS",
        "Update Security Credentials - transCoSByTransCoS",
        "cv",
        A,
        _ANY,
    ),
    (
        0x0107,
        "CS02b-supplierByTransCoS",
        "Update Security Credentials - supplierByTransCoS",
        "c",
        A,
        _ANY,
    ),
    (
        0x0108,
        "CS02b-anyExceptAbnormalRootByRecovery",
        "Update Security Credentials - anyExceptAbnormalRootByRecovery",
        "c",
        A,
        _ANY,
    ),
    (
        0x0109,
        "CS02b-anyByContingency",
        "Update Security Credentials - anyByContingency",
        "cv",
        A,
        _ANY,
    ),
    (0x010A, "DBCH01", "Read CHF Sub GHz Channel", "", D, (C,)),
    (0x010B, "DBCH02", "Read CHF Sub GHz Channel Log", "v", D, (C,)),
    (0x010C, "DBCH03", "Read CHF Sub GHz Configuration", "v", D, (C,)),
    (0x010D, "DBCH04", "Set CHF Sub GHz Configuration", "v", D, (C,)),
    (0x010E, "DBCH05", "Request CHF Sub GHz Channel Scan", "", D, (C,)),
    (0x010F, "CCS06", "Read CHF device log and check HAN communications", "v", D, (C,)),
    (0x0110, "DBCH06", "Limited Duty Cycle Action Taken Sub GHz Alert", "av", D, (C,)),
    (0x0111, "DBCH07", "Sub GHz Channel Changed Sub GHz Alert", "av", D, (C,)),
    (
        0x0112,
        "DBCH08",
        "Sub GHz Channel Scan Request Assessment Outcome Sub GHz Alert",
        "av",
        D,
        (C,),
    ),
    (0x0113, "DBCH09", "Sub GHz Configuration Changed Sub GHz Alert", "av", D, (C,)),
    (
        0x0114,
        "DBCH10",
        "Message Discarded Due to Duty Cycle Management Sub GHz Alert",
        "av",
        D,
        (C,),
    ),
    (0x0115, "DBCH11", "No More Sub GHz Device Capacity Sub GHz Alert", "a", D, (C,)),
    (0x0116, "PECS01", "Apply Prepayment Top Up to an ESME using PPMID", "", D, (E,)),
    (0x0117, "PECS02", "Activate Emergency Credit on ESME from PPMID", "", D, (E,)),
    (0x0118, "PECS03", "Request to Enable ESME Supply from PPMID", "", D, (E,)),
    (
        0x0119,
        "HECS01",
        "Request Control of a HAN Connected Auxiliary Load Control Switch from HCALCS",
        "",
        D,
        (E,),
    ),
    (
        0x011B,
        "CS02f",
        "Provide Security Credential Details (ESME and SAPC)",
        "v",
        A,
        (E,),
    ),
    # ECS46d and ECS47a: GBCS 4 codes not in the dissector's list (GBCS's message codes).
    (0x011A, "ECS46d", "Set Auxiliary Controller Calendar", "c", D, (E,)),
    (0x011C, "ECS61d", "Read Auxiliary Controller Configuration Data", "v", D, (E,)),
    (0x011D, "ECS61e", "Read Auxiliary Controller Operational Data", "v", D, (E,)),
    (0x011E, "ECS47a", "Set Auxiliary Controller State", "c", D, (E,)),
    (0x011F, "ECS47e", "Limit APC Level", "cv", D, (E,)),
    (0x0120, "ECS100", "Command not supported by Device Alert", "cav", D, (E,)),
    (0x0122, "ECS102", "Limit APC Level ended or cancelled Alert", "cav", D, (E,)),
    (
        0x0124,
        "FDSC-LC",
        "Future Dated Updated Load Controller Security Credentials Alert",
        "cav",
        A,
        (E,),
    ),
    (
        0x0125,
        "CS02g-loadControllerByLoadController",
        "Update Load Controller Security Credentials - loadControllerByLoadController",
        "cv",
        A,
        (E,),
    ),
    (
        0x0126,
        "CS02g-loadControllerBySupplier",
        "Update Load Controller Security Credentials - loadControllerBySupplier",
        "cv",
        A,
        (E,),
    ),
    (0x0128, "CCS08", "Firmware Transfer Alert", "cav", A, (C,)),
    (
        0x0129,
        "CS08",
        "Read PPMID/HCALCS Firmware Version",
        "v",
        A,
        (DeviceType.PPMID, DeviceType.HCALCS),
    ),
    (0x012B, "CS09", "PPMID Firmware Activation Alert", "cav", A, (DeviceType.PPMID,)),
    (0x1000, "ALERT-CRITICAL", "Generic Critical Alert", "cav", None, _ANY),
    (0x1001, "ALERT-NON-CRITICAL", "Generic Non Critical Alert", "av", None, _ANY),
)
# The alert-only rows above have no GBCS use-case name; their names (FDFA, MIIW-ESME, ...)
# are this project's short labels.

# The names the DCC's reference test data (RTDS) gives these rows in its folder and file
# names, where they differ from the table's: the CS02b/CS02g credential-update variants are
# spelt in short, and the standalone alerts carry the DCC's alert names.
_ALIASES: dict[int, tuple[str, ...]] = {
    0x0102: ("CS02bSupplierBySupplier",),
    0x0103: ("CS02bNOByNO",),
    0x0104: ("CS02bACBByACB",),
    0x0105: ("CS02bWPByWP",),
    0x0106: ("CS02bTransCoSByTransCoS",),
    0x0109: ("CS02bAnyByContingency",),
    0x0125: ("CS02gLoadControllerByLoadController",),
    0x0126: ("CS02gLoadControllerBySupplier",),
    0x00CE: ("FDRA-DLMS",),
    0x00CF: ("FDRA-ZigBee",),
    0x00F0: ("MIIWA-DLMS",),
    0x00F2: ("MIIWA-ZigBee",),
    0x1000: ("GCA-DLMS", "GCA-ZigBee"),
    0x1001: ("GNCA-DLMS", "GNCA-ZigBee"),
}

USE_CASES: dict[int, UseCase] = {
    code: UseCase(
        code=code,
        name=name,
        title=title,
        critical="c" in flags,
        kind=kind,
        devices=devices,
        encrypted_response="e" in flags,
        alert="a" in flags,
        verified="v" in flags,
        aliases=_ALIASES.get(code, ()),
    )
    for code, name, title, flags, kind, devices in _TABLE
}
"""Every known use case, by message code."""

_BY_NAME: dict[str, UseCase] = {
    n.lower(): uc for uc in USE_CASES.values() for n in (uc.name, *uc.names, *uc.aliases)
}

GENERIC_CRITICAL_ALERT = 0x1000
GENERIC_NON_CRITICAL_ALERT = 0x1001


def use_case(code: int) -> UseCase | None:
    """The use case with this message code, or None."""
    return USE_CASES.get(code)


def by_name(name: str) -> UseCase:
    """The use case named ``name`` (case-insensitive: ``"ECS17b"``, ``"ecs17b"``;
    ``"CCS04"`` and ``"CCS05"`` both give 0x0004). KeyError naming the value if unknown."""
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        raise KeyError(f"unknown GBCS use case name: {name!r}") from None

"""Errors of the gateway, each carrying the DUIS response code it turns into.

:data:`RESPONSE_CODES` is THE one table of the project mapping a rule failure (its key) to a
DUIS ``ResponseCode`` that the DUIS 5.4 schema allows, with the sentence the user reads.
``docs/response-codes.md`` lists the same table (a test keeps the two in step, and another
checks every code against the schema's ``ResponseCode`` enumeration).

The DUIS specification that gives each code its official meaning is not available to this
project: the mapping below is this project's choice, made within the codes the schema allows
(generic ``E<n>`` codes for rules common to every SR, the SR's own ``E<SR digits><nn>`` codes
for rules of that SR).

Raise ``ServiceError("rule_key", field=value, ...)``: the sentence template of the rule is
filled with the keyword values (8-byte ``bytes`` values print as DUIS EUIs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class ResponseCodeEntry:
    """One row of the table: the DUIS response code and the sentence template."""

    code: str
    template: str


def _row(code: str, template: str) -> ResponseCodeEntry:
    return ResponseCodeEntry(code, template)


RESPONSE_CODES: Final[dict[str, ResponseCodeEntry]] = {
    # --- common to every request (RequestID, users, roles) ------------------------------------
    "unknown_user": _row("E3", "{sender} is not a registered DCC User."),
    "role_not_eligible": _row(
        "E4",
        "DCC User {sender} (roles {roles}) is not eligible for SR {sr}: "
        "it needs one of {eligible}.",
    ),
    "sender_is_acb": _row(
        "E3",
        "{sender} is the DCC's Access Control Broker, which signs commands to devices on the "
        "DCC's behalf: it is not a DCC User and sends no service requests. Put a registered "
        "DCC User's EUI in the RequestID (some of the DCC's request templates carry the ACB's).",
    ),
    "sr_open_to_no_user": _row(
        "E4",
        "SR {sr} ({name}) is open to no DCC User role: the DUIS request matrix gives it no "
        "eligible role, so it is refused from every user (not a misconfiguration of {sender}).",
    ),
    "originator_not_sender": _row(
        "E5", "the RequestID's originator {originator} is not the sending DCC User {sender}."
    ),
    "wrong_target": _row(
        "E11",
        "a non-device request must be addressed to the ACB 90-B3-D5-1F-30-00-00-02, not {target}.",
    ),
    "request_id_replayed": _row(
        "E21",
        "RequestID counter {counter} of {originator} is not greater than its last accepted "
        "counter {last}: a replayed or out-of-order request is refused.",
    ),
    "counter_out_of_range": _row(
        "E31", "RequestID counter {counter} is outside 0..18446744073709551615."
    ),
    "unknown_device": _row("E19", "device {device} is not in the Smart Metering Inventory."),
    "not_responsible_supplier": _row(
        "E17", "DCC User {sender} is not the Responsible Supplier of device {device}."
    ),
    "invalid_value": _row("E20", "{field} {value!r} is invalid: {reason}."),
    "illegal_transition": _row(
        "E30", "device {device} is {status}: it cannot {event} in that status."
    ),
    # --- 8.2 Read Inventory --------------------------------------------------------------------
    "read_no_match": _row(
        "E080201", "no device in the Smart Metering Inventory matches {criterion}."
    ),
    "read_too_many": _row(
        "E080202",
        "{count} devices match {criterion}, more than the {limit} one response may carry: "
        "query by DeviceID or MPxN instead.",
    ),
    # --- 8.3 Decommission Device ---------------------------------------------------------------
    "decommission_unknown_device": _row(
        "E080301", "device {device} is not in the Smart Metering Inventory."
    ),
    "decommission_bad_status": _row(
        "E080302",
        "device {device} is {status}: only an installed device (Whitelisted, "
        "InstalledNotCommissioned, Commissioned, Suspended, Recovery, Recovered) can be "
        "decommissioned; a Pending one is deleted with SR8.4 DeleteDevice.",
    ),
    # --- 8.4 Update Inventory ------------------------------------------------------------------
    "update_unknown_device": _row(
        "E080405", "device {device} is not in the Smart Metering Inventory."
    ),
    "update_not_installing_supplier": _row(
        "E080406",
        "only the installing supplier {installer} may update or delete Pending device {device}, "
        "not {sender}.",
    ),
    "update_status_not_supplier": _row(
        "E080406",
        "only the installing supplier {installer} or the Responsible Supplier of device {device} "
        "may change its status, not {sender}.",
    ),
    "update_not_pending": _row(
        "E080407",
        "device {device} is {status}: its {what} can only be changed while it is Pending "
        "(after Pending only the ESME Variant may be corrected).",
    ),
    "update_identity_locked": _row(
        "E080408",
        "the {field} of device {device} can never change after Pending (it is {status}).",
    ),
    "variant_not_responsible_supplier": _row(
        "E080409",
        "only the Responsible Supplier of device {device} may correct its ESME Variant, "
        "not {sender}.",
    ),
    "variant_bad_status": _row(
        "E080410",
        "the ESME Variant of device {device} can be corrected only when it is Whitelisted, "
        "InstalledNotCommissioned or Commissioned, not {status}.",
    ),
    "variant_not_smets2_esme": _row(
        "E080411", "device {device} is a {kind}: only a SMETS2 ESME has an ESME Variant."
    ),
    "mpxn_unknown": _row(
        "E080412", "meter point {mpxn} is not registered (no registration data for it)."
    ),
    "mpxn_mismatch": _row(
        "E080413", "meter point {mpxn} cannot be linked to device {device}: {reason}."
    ),
    "mpxn_not_responsible_supplier": _row(
        "E080414",
        "DCC User {sender} is not the registered supplier of meter point {mpxn} "
        "(that is {supplier}).",
    ),
    "update_status_refused": _row(
        "E080415", "device {device} is {status}: it cannot be set to {new_status} ({reason})."
    ),
    # --- 8.5 Service Opt-out -------------------------------------------------------------------
    "opt_out_refused": _row(
        "E080501",
        "SR8.5 Service Opt-out is available to no DCC User (withdrawn status is obsolete).",
    ),
    # --- 8.6 Service Opt In --------------------------------------------------------------------
    "opt_in_refused": _row(
        "E080601", "SR8.6 Service Opt In is available to no DCC User (no role is eligible)."
    ),
    # --- 11.1 / 11.4 firmware distribution (gateway.firmware) ----------------------------------
    "firmware_not_on_cpl": _row(
        "E110101",
        "no device model on the Central Products List has firmware version {version}: "
        "the image cannot be distributed.",
    ),
    "firmware_hash_mismatch": _row(
        "E110102",
        "the image's SHA-256 {hash} is not the hash the Central Products List holds for "
        "firmware version {version} (of {models}).",
    ),
    "firmware_unknown_model": _row(
        "E110103",
        "firmware version {version} is for {models}, a device model the Smart Metering "
        "Inventory holds no device of.",
    ),
    "firmware_no_device": _row(
        "E110105", "no device of the DeviceIDList can take the image: {reasons}."
    ),
    "firmware_ppmid_not_on_cpl": _row(
        "E110401",
        "no PPMID model on the Central Products List has firmware version {version}: "
        "the image cannot be distributed.",
    ),
    "firmware_ppmid_hash_mismatch": _row(
        "E110402",
        "the image's SHA-256 {hash} is not the hash the Central Products List holds for "
        "firmware version {version} (of {models}).",
    ),
    "firmware_ppmid_unknown_model": _row(
        "E110403",
        "firmware version {version} is for {models}, a PPMID model the Smart Metering "
        "Inventory holds no device of.",
    ),
    "firmware_ppmid_no_device": _row(
        "E110405", "no device of the DeviceIDList can take the image: {reasons}."
    ),
    # --- 12.1 Request WAN Matrix ----------------------------------------------------------------
    "wan_matrix_unknown_uprn": _row(
        "E120101", "UPRN {uprn} is not the address of any registered meter point."
    ),
    "wan_matrix_bad_postcode": _row(
        "E120102", "PostCode {postcode!r} is not a UK postcode ({reason})."
    ),
    # --- 8.7 / 8.12 joins and device logs (the SMI side of the device SRs) --------------------
    "join_unknown_device": _row(
        "E080702", "OtherDeviceID {device} is not in the Smart Metering Inventory."
    ),
    "join_incompatible": _row("E080721", "a {device} cannot be joined with a {other}: {reason}."),
    "restore_unknown_gpf": _row(
        "E081202", "OldGPFID {device} is not a GPF in the Smart Metering Inventory."
    ),
    "restore_unknown_chf": _row(
        "E081202", "OldCHFID {device} is not a CHF in the Smart Metering Inventory."
    ),
    "restore_empty_chf_log": _row(
        "E081204",
        "the Smart Metering Inventory has no device in the device log of CHF {device}: "
        "nothing to restore.",
    ),
    "restore_empty_log": _row(
        "E081204",
        "the Smart Metering Inventory holds no device log of GPF {device}: nothing to restore.",
    ),
    # --- 8.11 Update HAN Device Log (the SMI side, driven by the device SR) --------------------
    "whitelist_unknown_device": _row(
        "E081101", "device {device} is not in the Smart Metering Inventory: pre-notify it first."
    ),
    "whitelist_bad_status": _row(
        "E081102", "device {device} is {status}: it cannot be added to a device log."
    ),
    "remove_not_in_log": _row(
        "E081107",
        "device {device} is not in communications hub {chf}'s device log in the Smart Metering "
        "Inventory: there is nothing to remove.",
    ),
    "whitelist_unknown_chf": _row(
        "E081104", "communications hub {chf} is not a CHF in the Smart Metering Inventory."
    ),
    "whitelist_mpxn_unknown": _row(
        "E081105", "meter point {mpxn} is not registered (no registration data for it)."
    ),
    "whitelist_mpxn_mismatch": _row(
        "E081106", "meter point {mpxn} cannot be linked to device {device}: {reason}."
    ),
    # --- 8.13 Return Local Command Response ---------------------------------------------------
    "local_unknown_request": _row(
        "E081301", "OriginalRequestID {request_id} is no request of this DCC User."
    ),
    "local_not_pending": _row(
        "E081302",
        "OriginalRequestID {request_id} is {state}: only a command returned for local delivery "
        "(CommandVariant 2 or 6) and not answered yet takes a response.",
    ),
    "local_response_mismatch": _row(
        "E081303", "the DeviceGBCSResponse does not answer {request_id}: {reason}."
    ),
    # --- 5.1-5.3 DCC schedules ---------------------------------------------------------------
    "schedule_not_schedulable": _row(
        "E050101",
        "SR {srv} cannot be DCC-scheduled: the DCC schedules {allowed}.",
    ),
    "schedule_body_mismatch": _row(
        "E050102",
        "the schedule of SR {srv} must carry {expected}, not {found}.",
    ),
    "schedule_recurrence": _row(
        "E050103",
        "the schedule's recurrence is impossible: {reason}.",
    ),
    "schedule_unknown_device": _row(
        "E050105",
        "device {device} is not in the Smart Metering Inventory.",
    ),
    "schedule_wrong_device": _row(
        "E050107",
        "SR {srv} cannot be scheduled for device {device}, a {device_type}: "
        "it goes to {device_types}.",
    ),
    "schedule_not_eligible": _row(
        "E050108",
        "DCC User {sender} (roles {roles}) may not schedule SR {srv}: it needs one of {eligible}.",
    ),
    "schedule_read_unknown": _row(
        "E050201",
        "DCC User {sender} has no DSP schedule {what}.",
    ),
    "schedule_read_not_owner": _row(
        "E050202",
        "DSP schedule {schedule_id} belongs to another DCC User, not {sender}.",
    ),
    "schedule_delete_unknown": _row(
        "E050301",
        "DCC User {sender} has no DSP schedule {what}: there is nothing to delete.",
    ),
    "schedule_delete_not_owner": _row(
        "E050302",
        "DSP schedule {schedule_id} belongs to another DCC User, not {sender}: "
        "only its owner may delete it.",
    ),
    # --- 8.14 Communications Hub Status Update -------------------------------------------------
    "hub_update_unknown": _row(
        "E081401", "device {device} is not a CHF in the Smart Metering Inventory."
    ),
    "hub_update_not_supplier": _row(
        "E081402",
        "DCC User {sender} is neither the installing nor a responsible supplier of hub {device}.",
    ),
    "hub_update_bad_status": _row(
        "E081405", "device {device} is {status}: SR {srv} cannot move it from that status."
    ),
    # --- 12.2 Device Pre-Notification ----------------------------------------------------------
    "prenotify_duplicate": _row(
        "E120201", "device {device} is already in the Smart Metering Inventory."
    ),
    "prenotify_esme_variant": _row("E120203", "ESME Variant of device {device}: {reason}."),
    "prenotify_gpf": _row("E120204", "AssociatedGPFDeviceID of device {device}: {reason}."),
    "prenotify_invalid": _row("E120207", "{field} of device {device} is invalid: {reason}."),
    # --- the DUIS front door (gateway-duis: gateway/duis/) ----------------------------------------
    "duis_body_too_large": _row(
        "E40", "the request body ({size} bytes or more) is larger than the {limit}-byte limit."
    ),
    "duis_not_well_formed": _row("E40", "the request is not well-formed XML: {reason}."),
    "duis_doctype": _row(
        "E40", "the request has a DOCTYPE declaration: DTDs and entities are refused."
    ),
    "duis_wrong_namespace": _row(
        "E41",
        "the root element is {found}: a DUIS request is a Request element in the namespace "
        "http://www.dccinterface.co.uk/ServiceUserGateway.",
    ),
    "duis_schema_version": _row(
        "E41", "schemaVersion {version} is not supported: this gateway takes DUIS 5.x requests."
    ),
    "duis_schema_invalid": _row(
        "E42", "the request does not validate against the DUIS schema: {reason}."
    ),
    "duis_invalid_element": _row("E42", "{element} is invalid: {reason}."),
    "duis_unknown_sr": _row(
        "E43", "ServiceReferenceVariant {srv} is not a DUIS 5.x service request."
    ),
    "duis_body_mismatch": _row("E43", "the body of SR {srv} must be {expected}, not {found}."),
    "duis_cv_not_allowed": _row(
        "E12", "CommandVariant {cv} is not allowed for SR {srv}: it takes CommandVariant {allowed}."
    ),
    "duis_wrong_endpoint": _row(
        "E13", "CommandVariant {cv} requests must be POSTed to {expected}, not {endpoint}."
    ),
    "duis_unsigned": _row(
        "E44",
        "the request is {detail}: requests must carry an XML signature made with the sender's "
        "registered key (a gateway started with --allow-unsigned accepts them).",
    ),
    "duis_unknown_certificate": _row(
        "E45",
        "no DCC User has a registered certificate with issuer {issuer} and serial number {serial}.",
    ),
    "duis_certificate_replaced": _row(
        "E45",
        "the certificate that signed this request is no longer the one registered to {sender}: "
        "it was replaced or removed while the request was under way.",
    ),
    "duis_certificate_not_originator": _row(
        "E45",
        "the signing certificate (issuer {issuer}, serial number {serial}) is registered to "
        "{owner}, not to the RequestID's originator {originator}.",
    ),
    "duis_bad_signature": _row(
        "E46",
        "the XML signature does not verify against the registered certificate of {originator}: "
        "{reason}.",
    ),
    "duis_device_sr_unavailable": _row(
        "E47",
        "SR {srv} is a device service request, and this gateway has no devices behind it "
        "(smetsim gateway serves only non-device requests, CommandVariant 8): smetsim sandbox "
        "serves device service requests, with emulated devices.",
    ),
    "duis_sr_not_supported": _row("E47", "SR {srv} is not supported by this gateway."),
    "duis_internal_error": _row(
        "E1000", "the gateway failed while processing SR {srv} ({error}); see its log."
    ),
    # --- device SRs (e2e: gateway/services/device.py) -------------------------------------------
    "device_cv_not_supported": _row(
        "E12", "CommandVariant {cv} is not served for SR {srv} by this gateway: use {supported}."
    ),
    "device_wrong_type": _row(
        "E48", "SR {srv} cannot be sent to device {device}, a {kind}: it is for a {types}."
    ),
    "device_status_not_eligible": _row(
        "E30", "device {device} is {status}: SR {srv} needs a device that is {allowed}."
    ),
    "device_no_hub": _row(
        "E49",
        "device {device} is in no communications hub's device log in the Smart Metering "
        "Inventory (SR8.11 adds it), so no command can reach it.",
    ),
    "device_no_key": _row(
        "E1001",
        "device {device} has no key agreement certificate known to the DCC, so no command "
        "can be MACed for it.",
    ),
    "hub_unreachable": _row(
        "E1001", "communications hub {hub} of device {device} is unreachable: {reason}."
    ),
    "use_case_unavailable": _row(
        "E47", "SR {srv} needs GBCS use case {use_case}, which this gateway cannot build yet."
    ),
    "precommand_malformed": _row(
        "E50", "the SignedPreCommand's GBCSPayload is not a GBCS message: {reason}."
    ),
    "precommand_unknown": _row("E51", "signed pre-command for RequestID {request_id}: {detail}."),
    "precommand_mismatch": _row(
        "E52",
        "the signed pre-command is not the pre-command issued for RequestID {request_id}: "
        "{reason}.",
    ),
    "precommand_bad_signature": _row(
        "E53",
        "the GBCS signature of the signed pre-command does not verify against the "
        "digital-signing certificate of {originator}: {reason}.",
    ),
}


def format_value(value: object) -> str:
    """How a value appears in a sentence: 8-byte EUIs in DUIS form, other values as ``str``."""
    if isinstance(value, bytes) and len(value) == 8:
        return "-".join(f"{b:02X}" for b in value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class GatewayError(Exception):
    """Base of every error of the gateway package."""


class ServiceError(GatewayError):
    """A request broke a rule: the DUIS response ``code`` and a human ``sentence``.

    Raised with no state changed (the service's transaction rolls back).
    """

    code: str
    sentence: str
    rule: str

    def __init__(self, rule: str, **fields: object) -> None:
        entry = RESPONSE_CODES[rule]
        shown = {
            k: (v if isinstance(v, int | float) else format_value(v)) for k, v in fields.items()
        }
        self.rule = rule
        self.code = entry.code
        self.sentence = entry.template.format(**shown)
        self.fields = fields
        super().__init__(f"{self.code}: {self.sentence}")


class IllegalTransitionError(GatewayError):
    """A local error of the SMI status table: ``event`` is not allowed in ``status``.

    The service turns it into the :class:`ServiceError` of the SR that attempted it.
    """

    def __init__(self, device: bytes, status: str, event: str) -> None:
        self.device = device
        self.status = status
        self.event = event
        super().__init__(f"device {format_value(device)} is {status}: {event} is not allowed")


class StorageError(GatewayError):
    """The state store cannot be opened or migrated (a local error, not the user's)."""


class AdminError(GatewayError):
    """A bad registration value from the admin API, a config file or the CLI.

    Not a DUIS error: the admin API answers it with HTTP 400 and this message, which names the
    bad value. Nothing was changed.
    """

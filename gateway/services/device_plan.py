"""The plan of a device SR's command: every rule that needs the inventory, then the GBCS
content and its parties.

:func:`plan` checks, in the storage thread, that the sender's role may send the SR, the
device is in the SMI in a status that allows it, behind a reachable communications hub, and
that the sender serves it (:func:`gateway.services.device_rules.check_serves`, or the rules of
a DCC-signed credentials update, :mod:`gateway.services.device_credentials`); it then builds
the content with the SR's codec (given the target ESME's variant as the SMI holds it: a
twin-element or polyphase meter gets its own command) and chooses the command's business
originator and counter:

- the user and its RequestID counter (as in the DCC's reference data);
- the ACB with its own counter for the use cases the ACB originates (CCS01/CCS02 ...), the
  user and its counter going in the other-information; signed by the ACB too when GBCS marks
  the use case critical (CS03a2, CS03c, CS04ac by SR8.7.2 / 8.8.2, as the DCC's references);
- a DCC party with its own counter for a command the DCC signs itself (:attr:`Plan.signer`:
  the ACB for SR6.21, the transitional CoS party for SR6.23).

Raises :class:`~gateway.errors.ServiceError` with nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.errors import ServiceError
from gateway.inventory import Inventory
from gateway.model import DeviceRecord
from gateway.services import device_credentials, device_han
from gateway.services.device_reports import next_acb_counter
from gateway.services.device_rules import IN_SERVICE, STATUSES, GatewayKeys, check_serves
from gateway.services.device_types import DeviceCall
from gateway.smi import Smi
from gateway.srv.catalogue import CATALOGUE
from gateway.srv.configuration import CommissionDevice
from gateway.srv.han import UpdateHanDeviceLog
from gateway.srv.reading import ReadRequest, RequestCin
from gateway.srv.spec import Codec, Command
from gateway.storage import Storage, Transaction
from gateway.users import UserRole, roles_text
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.errors import EncodeError
from gbcs.usecases import UseCase, by_name
from gbcs.wan import Wan

__all__ = ["Plan", "Planner"]


@dataclass(frozen=True, slots=True)
class Plan:
    use_case: UseCase
    device: DeviceRecord
    hub: bytes
    reply_to: bytes
    """The GBCS business originator: the user, the ACB (CCS01/CCS02), or the DCC party that
    signs (:attr:`signer`)."""
    counter: int
    content: bytes
    extensions: bytes
    details: dict[str, Any]
    signer: bytes | None = None
    """The DCC party that signs the command itself (SR6.21, SR6.23; the ACB for a critical use
    case it originates); None otherwise."""
    device_pattern: bool = False
    """A future-dated request whose command carries its execution date-time (sent now, not
    held by the DCC)."""

    @property
    def key(self) -> tuple[bytes, bytes, int]:
        return (self.device.device_id, self.reply_to, self.counter)


@dataclass(frozen=True, slots=True)
class Planner:
    """The device service's planning, with what it needs of the service."""

    storage: Storage
    smi: Smi
    keys: GatewayKeys
    wan: Wan
    acb: bytes

    def plan(
        self, tx: Transaction, call: DeviceCall, roles: frozenset[UserRole], now: datetime
    ) -> Plan:
        request = call.request
        srv = call.service_reference_variant
        sender = call.sender
        spec = CATALOGUE[ServiceReferenceVariant(srv)]
        if spec.codec is None:
            raise ServiceError("duis_sr_not_supported", srv=srv)
        eligible = spec.row.roles
        if not roles & eligible:
            raise ServiceError(
                "role_not_eligible",
                sender=sender,
                roles=roles_text(roles),
                sr=srv,
                eligible=roles_text(eligible),
            )
        inv = Inventory(tx)
        target = call.request_id.target
        record = inv.get(target)
        if record is None:
            raise ServiceError("unknown_device", device=target)
        request = device_han.resolve_request(tx, inv, self.keys, record, request)
        if request is not call.request:  # completed from the SMI (most requests are not)
            call = replace(call, request=request)
        # The ESME's variant as the SMI holds it decides where the body does not (SR6.27's
        # ECS29f and SR4.10's ECS23b for a polyphase meter), and so does the sender's role
        # (SR6.2.10's ECS25r2 for the network operator).
        name = spec.use_case(
            record.device_type,
            request,
            target,
            esme_variant=record.esme_variant if record.device_type is DeviceType.ESME else None,
            roles=roles,
        )
        allowed = STATUSES.get(srv, IN_SERVICE)
        if record.status not in allowed:
            raise ServiceError(
                "device_status_not_eligible",
                device=target,
                status=record.status,
                srv=srv,
                allowed=", ".join(sorted(s.value for s in allowed)),
            )
        hub = inv.hub_of(record)
        if hub is None:
            raise ServiceError("device_no_hub", device=target)
        served = record
        if isinstance(request, UpdateHanDeviceLog):
            subject = inv.get(request.device_id)
            if subject is None:
                raise ServiceError("whitelist_unknown_device", device=request.device_id)
            served = subject
        # A read for an Unknown Remote Party is answered encrypted for the key the user gives:
        # it exists for the parties the device does not know, so the responsible-supplier
        # test does not apply (the user's role was checked at the front door).
        urp = _urp(request)
        if not urp and not device_credentials.check_request(tx, inv, sender, record, request):
            check_serves(tx, inv, roles, sender, served, spec.row.roles)
        if not self.wan.reachable(hub):
            raise ServiceError(
                "hub_unreachable",
                hub=hub,
                device=target,
                reason="its WAN link is down; the command was not sent",
            )
        uc = by_name(name)
        return self._content(tx, call, spec.codec, record, uc, hub, now)

    def _content(
        self,
        tx: Transaction,
        call: DeviceCall,
        codec: Codec,
        record: DeviceRecord,
        uc: UseCase,
        hub: bytes,
        now: datetime,
    ) -> Plan:
        request = call.request
        device = record.device_id
        counter = call.request_id.counter
        reply_to = call.sender
        extensions = b""
        details: dict[str, Any] = {}
        if isinstance(request, UpdateHanDeviceLog):
            details = device_han.device_log_details(self.storage, self.smi, request, hub)
        details.update(device_han.lifecycle_details(request, record))
        request = device_credentials.device_pattern(request, record, call.execution)
        device_pattern = request is not call.request
        details.update(device_credentials.credentials_details(request))
        signer = device_credentials.dcc_signer(request, self.acb)
        if signer is not None:
            # The DCC signs as its own party, which counts its own commands.
            counter = next_acb_counter(tx, signer, now)
            reply_to = signer
        elif uc.name in codec.acb_use_cases or _urp(request):
            # The ACB sends it with its own counter; the user and its RequestID counter go in
            # the other-information (the supplementary remote party) - and, for a read for an
            # Unknown Remote Party, the key agreement certificate the answer is encrypted for.
            extensions = reply_to + counter.to_bytes(8, "big")
            if isinstance(request, ReadRequest) and request.urp_certificate is not None:
                extensions += request.urp_certificate
                request = replace(request, requester=reply_to)
            counter = next_acb_counter(tx, self.acb, now)
            reply_to = self.acb
            if uc.critical:
                # GBCS marks it critical (the PPMID and HCALCS joins and unjoins of SR8.7.2 /
                # 8.8.2): the device takes it only signed, so the ACB signs what it originates.
                signer = self.acb
        command = Command(
            request,
            uc,
            counter,
            reply_to,
            device,
            now,
            call.execution,
            esme_variant=record.esme_variant if record.device_type is DeviceType.ESME else None,
        )
        try:
            content = codec.build(command)
        except (EncodeError, ValueError, OverflowError) as exc:
            raise ServiceError(
                "invalid_value", field=uc.name, value=type(request).__name__, reason=str(exc)
            ) from None
        if isinstance(request, CommissionDevice):
            details["commission"] = device.hex()
        if isinstance(request, RequestCin):
            # The DCC gives the user the number the command sends the meter (DUIS
            # CINMessage): the one the codec made, read back from the command.
            details["cin"] = _cin(uc, content)
        return Plan(
            use_case=uc,
            device=record,
            hub=hub,
            reply_to=reply_to,
            counter=counter,
            content=content,
            extensions=extensions,
            details=details,
            signer=signer,
            device_pattern=device_pattern,
        )


def _urp(request: object) -> bool:
    """A read for an Unknown Remote Party (SR4.14, 4.17 with KAPublicSecurityCredentials)."""
    return isinstance(request, ReadRequest) and request.urp_certificate is not None


def _cin(uc: UseCase, content: bytes) -> str:
    """The Customer Identification Number an ECS50 / GCS36 command carries."""
    command = gc.decode_command(uc.code, content)
    if not isinstance(command, gc.SendCinToEsme | gc.SendCinToGsme):  # pragma: no cover
        raise TypeError(f"{uc.name} does not send a CIN")
    return command.cin.decode("ascii")

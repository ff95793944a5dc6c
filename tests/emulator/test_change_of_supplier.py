"""CS02b as the DCC sends it on its own account: supplierByTransCoS (SR6.23, signed by the
transitional CoS party) moves a device to the new supplier; a handover of a DCC controlled
device (SR6.21, signed by the ACB, which holds the network operator's cell) moves that role.
Afterwards the device takes the new party's commands and refuses the old one's; a command
from a party that does not hold the authorising cell changes nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from cryptography.hazmat.primitives.serialization import Encoding

from emulator.fleet import Fleet
from emulator.supply import SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import ACB, NETWORK_OPERATOR, SUPPLIER, TRANSITIONAL_COS, KeyPurpose
from gbcs.eui import parse_eui
from gbcs.keystore import Keystore, generate_test_pki
from tests.emulator.support import CHF, ESME, GPF, GSME, SEED, HeadEnd

NEW = parse_eui("90-B3-D5-1F-3E-00-00-01")


def _setup(*, dcc_controlled: bool = False) -> tuple[Fleet, HeadEnd, Keystore]:
    pki = generate_test_pki(SEED, devices=[ESME, GSME, CHF, GPF, NEW])
    fleet = Fleet(SEED, pki, faults=False)  # signed frames vary: no random radio drops
    fleet.add_sandbox_devices()
    head = HeadEnd(fleet, pki)
    if dcc_controlled:  # a GPF whose network operator's cell holds the DCC (the ACB)
        gpf = fleet.device(GPF, head.now)
        gpf.trust = dataclasses.replace(gpf.trust, network_operator=ACB)
    return fleet, head, pki


def _der(pki: Keystore, eui: bytes, purpose: KeyPurpose) -> bytes:
    cert = pki.certificate(eui, purpose)
    assert cert is not None
    return cert.public_bytes(Encoding.DER)


def _update(
    head: HeadEnd, pki: Keystore, code: int, authorising: int, role: int, new: bytes
) -> c.UpdateSecurityCredentials:
    root = pki.root_certificate
    assert root is not None
    own = authorising == role
    return c.UpdateSecurityCredentials(
        message_code=code,
        counter=head.next_counter(),
        authorising=c.Cell(authorising, c.DS_USAGE),
        certificates=(
            (c.Cell(role, c.DS_USAGE), _der(pki, new, KeyPurpose.DS)),
            (c.Cell(role, c.KA_USAGE), _der(pki, new, KeyPurpose.KA)),
        ),
        path=(root.public_bytes(Encoding.DER),),
        floor=0 if own else None,
        role_floors=() if own else ((role, 0, ()),),
    )


def _cos(head: HeadEnd, pki: Keystore) -> c.UpdateSecurityCredentials:
    return _update(head, pki, 0x0107, 5, 2, NEW)


def test_the_transitional_cos_party_moves_the_supplier_role() -> None:
    fleet, head, pki = _setup()
    answer = head.send(head.command(ESME, _cos(head, pki), originator=TRANSITIONAL_COS))
    assert answer.response is not None
    assert answer.response.business_target == TRANSITIONAL_COS
    response = c.decode_response(0x0107, answer.response.content)
    assert isinstance(response, c.CredentialsUpdated)
    assert response.ok
    assert [(r.old_subject, r.new_subject) for r in response.results] == [(SUPPLIER, NEW)] * 2
    assert response.floors == ((2, 0, ()),)
    device = fleet.device(ESME, head.now)
    assert device.trust.supplier == NEW
    assert device.trust.transitional_cos == TRANSITIONAL_COS

    disable = head.send(head.command(ESME, c.SupplyDisable(head.next_counter()), originator=NEW))
    assert disable.response is not None
    assert c.Outcome.decode(disable.response.content).ok
    assert fleet.device(ESME, head.now).meter.supply is SupplyState.DISABLED  # type: ignore[attr-defined]

    refused = head.send(head.command(ESME, c.SupplyEnable(head.next_counter())))
    assert refused.response is None
    assert refused.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    assert refused.alerts[0].business_target == NEW
    assert fleet.device(ESME, head.now).meter.supply is SupplyState.DISABLED  # type: ignore[attr-defined]


def test_the_old_supplier_cannot_send_the_cos_command_itself() -> None:
    fleet, head, pki = _setup()
    answer = head.send(head.command(ESME, _cos(head, pki), originator=SUPPLIER))
    assert answer.response is not None
    response = c.decode_response(0x0107, answer.response.content)
    assert isinstance(response, c.CredentialsUpdated)
    assert not response.ok
    assert all(r.new_subject == r.old_subject == SUPPLIER for r in response.results)
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    assert fleet.device(ESME, head.now).trust.supplier == SUPPLIER


def test_the_acb_hands_over_the_network_operator_cell_of_a_dcc_controlled_gpf() -> None:
    fleet, head, pki = _setup(dcc_controlled=True)
    handover = _update(head, pki, 0x0103, 3, 3, NETWORK_OPERATOR)
    answer = head.send(head.command(GPF, handover, originator=ACB), via=GPF)
    assert answer.response is not None
    response = c.decode_response(0x0103, answer.response.content)
    assert isinstance(response, c.CredentialsUpdated)
    assert response.ok
    assert [(r.old_subject, r.new_subject) for r in response.results] == [
        (ACB, NETWORK_OPERATOR)
    ] * 2
    assert fleet.device(GPF, head.now).trust.network_operator == NETWORK_OPERATOR


def test_the_acb_cannot_hand_over_a_cell_it_does_not_hold() -> None:
    fleet, head, pki = _setup()
    handover = _update(head, pki, 0x0103, 3, 3, NETWORK_OPERATOR)
    answer = head.send(head.command(GPF, handover, originator=ACB), via=GPF)
    assert answer.response is not None
    assert not c.decode_response(0x0103, answer.response.content).ok
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    assert fleet.device(GPF, head.now).trust.network_operator == NETWORK_OPERATOR


def test_a_future_dated_change_of_supplier_runs_when_the_meter_clock_passes_it() -> None:
    fleet, head, pki = _setup()
    when = head.now + timedelta(hours=2)
    cos = dataclasses.replace(_cos(head, pki), execute_at=when)
    answer = head.send(head.command(ESME, cos, originator=TRANSITIONAL_COS))
    assert answer.response is not None
    acknowledged = c.decode_response(0x0107, answer.response.content)
    assert isinstance(acknowledged, c.CredentialsUpdated)
    assert acknowledged.accepted
    assert not acknowledged.results
    assert fleet.device(ESME, head.now).trust.supplier == SUPPLIER  # not yet

    assert head.advance(timedelta(hours=1)).alerts == []
    assert fleet.device(ESME, head.now).trust.supplier == SUPPLIER

    due = head.advance(timedelta(hours=1, minutes=1))
    (alert,) = [a for a in due.alerts if a.message_code == 0x00CB]
    assert alert.business_target == NEW  # to the supplier it trusts now
    executed = c.FutureDatedCredentialsAlert.decode(alert.content)
    assert executed.executed
    assert executed.when == when
    assert executed.command_counter == cos.counter
    assert executed.result.ok
    assert [(r.old_subject, r.new_subject) for r in executed.result.results] == [
        (SUPPLIER, NEW)
    ] * 2
    assert fleet.device(ESME, head.now).trust.supplier == NEW


def test_a_future_dated_change_the_meter_refuses_is_answered_at_once() -> None:
    fleet, head, pki = _setup()
    cos = dataclasses.replace(_cos(head, pki), execute_at=head.now + timedelta(hours=2))
    answer = head.send(head.command(ESME, cos, originator=SUPPLIER))  # not the CoS party
    assert answer.response is not None
    refused = c.decode_response(0x0107, answer.response.content)
    assert isinstance(refused, c.CredentialsUpdated)
    assert not refused.ok
    assert "scheduled" not in fleet.device(ESME, head.now).family_state("security")

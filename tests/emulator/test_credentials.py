"""CS02b on the emulated devices: the supplier hands its role to another supplier with that
supplier's certificates from the test PKI; afterwards the device takes the new supplier's
commands and refuses the old one's; a certificate the device must not take changes nothing."""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding

from emulator.devices.esme import Esme
from emulator.fleet import Fleet
from emulator.supply import SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER, KeyPurpose
from gbcs.eui import parse_eui
from gbcs.keystore import Keystore, generate_test_pki
from tests.emulator.support import CHF, ESME, GPF, GSME, SEED, HeadEnd

NEW = parse_eui("90-B3-D5-1F-3E-00-00-01")


def _setup() -> tuple[Fleet, HeadEnd, Keystore]:
    pki = generate_test_pki(SEED, devices=[ESME, GSME, CHF, GPF, NEW])
    fleet = Fleet(SEED, pki, faults=False)  # signed frames vary: no random radio drops
    fleet.add_sandbox_devices()
    return fleet, HeadEnd(fleet, pki), pki


def _esme(fleet: Fleet, head: HeadEnd) -> Esme:
    device = fleet.device(ESME, head.now)
    assert isinstance(device, Esme)
    return device


def _der(pki: Keystore, eui: bytes, purpose: KeyPurpose) -> bytes:
    cert = pki.certificate(eui, purpose)
    assert cert is not None
    return cert.public_bytes(Encoding.DER)


def _handover(
    head: HeadEnd, pki: Keystore, *, ds: bytes | None = None, floor: int = 7
) -> c.UpdateSecurityCredentials:
    root = pki.root_certificate
    assert root is not None
    counter = head.next_counter()
    return c.UpdateSecurityCredentials(
        message_code=0x0102,
        counter=counter,
        authorising=c.Cell(2, c.DS_USAGE),
        certificates=(
            (c.Cell(2, c.DS_USAGE), ds or _der(pki, NEW, KeyPurpose.DS)),
            (c.Cell(2, c.KA_USAGE), _der(pki, NEW, KeyPurpose.KA)),
        ),
        path=(root.public_bytes(Encoding.DER),),
        floor=floor,
    )


def test_the_supplier_role_moves_and_the_old_supplier_is_refused() -> None:
    fleet, head, pki = _setup()
    ok = head.send(head.command(ESME, c.SupplyDisable(head.next_counter())))
    assert ok.response is not None
    assert c.Outcome.decode(ok.response.content).ok  # the old supplier still rules

    answer = head.send(head.command(ESME, _handover(head, pki)))
    assert answer.response is not None
    response = c.decode_response(0x0102, answer.response.content)
    assert isinstance(response, c.CredentialsUpdated)
    assert response.ok
    assert [(r.old_subject, r.new_subject) for r in response.results] == [(SUPPLIER, NEW)] * 2
    assert response.floors == ((2, 7, ()),)
    device = fleet.device(ESME, head.now)
    assert device.trust.supplier == NEW
    assert device.counters is not None
    assert device.counters[NEW] == 7

    enable = head.send(head.command(ESME, c.SupplyEnable(head.next_counter()), originator=NEW))
    assert enable.response is not None
    assert c.Outcome.decode(enable.response.content).ok
    assert _esme(fleet, head).meter.supply is SupplyState.ENABLED

    refused = head.send(head.command(ESME, c.SupplyDisable(head.next_counter())))
    assert refused.response is None
    assert refused.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    assert refused.alerts[0].business_target == NEW  # alerts go to the supplier it trusts now
    assert _esme(fleet, head).meter.supply is SupplyState.ENABLED


def test_a_certificate_the_pki_did_not_publish_changes_nothing() -> None:
    fleet, head, pki = _setup()
    other = generate_test_pki(b"someone else", devices=[NEW])
    answer = head.send(head.command(ESME, _handover(head, pki, ds=_der(other, NEW, KeyPurpose.DS))))
    assert answer.response is not None
    response = c.decode_response(0x0102, answer.response.content)
    assert isinstance(response, c.CredentialsUpdated)
    assert not response.ok
    assert all(r.outcome is c.CellOutcome.FAILED for r in response.results)
    assert all(r.new_subject == r.old_subject == SUPPLIER for r in response.results)
    assert fleet.device(ESME, head.now).trust.supplier == SUPPLIER


def test_a_ka_certificate_in_the_ds_cell_changes_nothing() -> None:
    fleet, head, pki = _setup()
    wrong = _handover(head, pki, ds=_der(pki, NEW, KeyPurpose.KA))
    answer = head.send(head.command(ESME, wrong))
    assert answer.response is not None
    assert not c.decode_response(0x0102, answer.response.content).ok
    assert fleet.device(ESME, head.now).trust.supplier == SUPPLIER


def test_only_the_supplier_may_replace_the_supplier() -> None:
    fleet, head, pki = _setup()
    answer = head.send(head.command(ESME, _handover(head, pki), originator=NETWORK_OPERATOR))
    assert answer.response is not None
    assert not c.decode_response(0x0102, answer.response.content).ok
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    assert fleet.device(ESME, head.now).trust.supplier == SUPPLIER


def test_the_new_trust_survives_a_restart() -> None:
    fleet, head, pki = _setup()
    head.send(head.command(ESME, _handover(head, pki)))
    saved = fleet.device(ESME, head.now).to_json()
    assert saved["trust"]["supplier"] == NEW.hex()
    assert saved["extra"]["security"]["cells"]["2/ds"]["subject"] == NEW.hex()

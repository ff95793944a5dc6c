"""CS02c on the emulated devices: a new key pair and a PKCS #10 request for it, in the shape
of the DCC's reference response; only the supplier may ask."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from emulator.fleet import Fleet
from emulator.usecases.security import FAMILY
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import NETWORK_OPERATOR
from gbcs.frames import Message
from tests.emulator.support import ESME, GSME, HeadEnd


def _csr(answer_content: bytes) -> x509.CertificateSigningRequest:
    response = c.decode_response(0x000A, answer_content)
    assert isinstance(response, c.CertificationRequest)
    return x509.load_der_x509_csr(response.der)


def test_the_device_answers_a_request_for_a_new_key(fleet: Fleet, head: HeadEnd) -> None:
    for target, usage in ((ESME, c.DS_USAGE), (GSME, c.KA_USAGE)):
        answer = head.send(
            head.command(target, c.IssueSecurityCredentials(usage), counter=head.next_counter())
        )
        assert answer.response is not None
        assert answer.response.signature is not None  # CS02c is critical: the answer signed
        csr = _csr(answer.response.content)
        assert csr.is_signature_valid
        key_usage = csr.extensions.get_extension_for_class(x509.KeyUsage).value
        assert key_usage.digital_signature == (usage == c.DS_USAGE)
        assert key_usage.key_agreement == (usage == c.KA_USAGE)
        names = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        other = names.get_values_for_type(x509.OtherName)[0]
        assert other.value.endswith(target)  # the hardware module name carries the device
        pending = fleet.device(target, head.now).family_state(FAMILY)["pending"]
        key = ec.derive_private_key(
            int(pending["ds" if usage == c.DS_USAGE else "ka"], 16), ec.SECP256R1()
        )
        public = csr.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        assert key.public_key().public_numbers() == public.public_numbers()


def test_the_request_has_the_reference_shape(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    ref = Message.from_bytes(
        bytes.fromhex(
            (conformance / "gbcs/6.17_CS02c/CS02c_6.17_SUCCESS_RESPONSE_GBCS.HEX")
            .read_text()
            .strip()
        )
    )
    theirs = x509.load_der_x509_csr(ref.content)
    answer = head.send(
        head.command(ESME, c.IssueSecurityCredentials(c.DS_USAGE), counter=head.next_counter())
    )
    assert answer.response is not None
    ours = _csr(answer.response.content)
    assert ours.subject == theirs.subject
    assert [e.oid for e in ours.extensions] == [e.oid for e in theirs.extensions]
    assert [e.critical for e in ours.extensions] == [e.critical for e in theirs.extensions]
    assert ours.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ) == theirs.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_only_the_supplier_may_ask(fleet: Fleet, head: HeadEnd) -> None:
    answer = head.send(
        head.command(
            ESME,
            c.IssueSecurityCredentials(c.DS_USAGE),
            counter=head.next_counter(),
            originator=NETWORK_OPERATOR,
        )
    )
    assert answer.response is not None
    refused = c.decode_response(0x000A, answer.response.content)
    assert isinstance(refused, c.CredentialsRefused)
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    assert "pending" not in fleet.device(ESME, head.now).family_state(FAMILY)

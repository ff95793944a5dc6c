from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gbcs.builders import Builder
from gbcs.codes import ACB, CRA, SUPPLIER
from gbcs.errors import DecodeError, EncodeError, KeyNotFound
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.verify import Check, Verification, Verifier
from tests.gbcs.pki import DEVICE, OTHER_DEVICE, device_side, gateway_side
from tests.gbcs.vectors import MACED_MESSAGES, read_message

DATE_TIME = bytes.fromhex("07DF0101FF000000008000FF")


@pytest.fixture(scope="module")
def gateway() -> Builder:
    return Builder(gateway_side())


@pytest.fixture(scope="module")
def device() -> Builder:
    return Builder(device_side())


def roundtrip(message: Message) -> Message:
    decoded = Message.from_bytes(message.to_bytes())
    assert decoded == message
    assert decoded.to_bytes() == message.to_bytes()
    return decoded


def test_critical_command_is_signed_and_maced_and_the_device_verifies_it(
    gateway: Builder,
) -> None:
    command = gateway.command(
        originator=SUPPLIER,
        target=DEVICE,
        counter=1_700_000_000_000,
        message_code=0x004F,
        content=bytes.fromhex("D9200003E800010300"),
        critical=True,
    )
    assert command.signature is not None
    assert command.mac is not None
    assert command.cra is CRA.COMMAND
    decoded = roundtrip(command)
    assert Verifier(device_side()).verify(decoded) == Verification(Check.VALID, Check.VALID)
    assert Verifier(gateway_side()).verify(decoded) == Verification(Check.VALID, Check.VALID)
    # Another device cannot check the MAC (it is not a party), only the signature.
    other = Verifier(device_side(OTHER_DEVICE)).verify(decoded)
    assert other == Verification(Check.UNKNOWN, Check.VALID)


def test_non_critical_command(gateway: Builder) -> None:
    command = gateway.command(
        originator=SUPPLIER,
        target=DEVICE,
        counter=5,
        message_code=0x0027,
        content=b"\xd9\x20",
        critical=False,
        date_time=DATE_TIME,
        extensions=bytes(16),
    )
    assert command.signature is None
    assert not command.signature_omitted
    assert command.to_bytes()[0] == 0xDD
    assert Verifier(device_side()).verify(roundtrip(command)) == Verification(
        Check.VALID, Check.ABSENT
    )


def test_precommand_then_sign_then_mac_is_a_critical_command(gateway: Builder) -> None:
    pre = gateway.precommand(
        originator=SUPPLIER, target=DEVICE, counter=9, message_code=0x004F, content=b"\xd9"
    )
    assert pre.signature_omitted
    assert pre.mac is None
    assert pre.to_bytes()[0] == 0xDF
    assert roundtrip(pre).signature_omitted
    signed = gateway.sign(pre, SUPPLIER)  # what the user does with the CV4 pre-command
    command = gateway.mac_as_acb(signed)
    assert command.signed_bytes() == pre.signed_bytes()
    assert Verifier(device_side()).verify(roundtrip(command)) == Verification(
        Check.VALID, Check.VALID
    )


def test_responses(gateway: Builder, device: Builder) -> None:
    command = gateway.command(
        originator=SUPPLIER,
        target=DEVICE,
        counter=77,
        message_code=0x004F,
        content=b"\xd9",
        critical=True,
    )
    critical = device.response(command, b"\xda\x20", critical=True)
    assert critical.mac is None
    assert critical.signature is not None
    assert (critical.cra, critical.originator_counter) == (CRA.RESPONSE, 77)
    assert (critical.business_originator, critical.business_target) == (DEVICE, SUPPLIER)
    assert critical.to_bytes()[0] == 0xDF
    assert Verifier(gateway_side()).verify(roundtrip(critical)) == Verification(
        Check.ABSENT, Check.VALID
    )
    plain = device.response(command, b"\xda\x21", critical=False, date_time=DATE_TIME)
    assert plain.signature is None
    assert Verifier(gateway_side()).verify(roundtrip(plain)) == Verification(
        Check.VALID, Check.ABSENT
    )
    with pytest.raises(EncodeError, match="answers a command"):
        device.response(plain, b"", critical=False)


def test_encrypted_response_only_the_target_can_read(gateway: Builder, device: Builder) -> None:
    command = gateway.command(
        originator=SUPPLIER,
        target=DEVICE,
        counter=1000,
        message_code=0x0027,
        content=b"\xd9",
        critical=False,
    )
    response = device.response(command, b"register values", critical=False, encrypt=True)
    assert response.content[:5] == bytes.fromhex("3100000000")
    assert b"register values" not in response.to_bytes()
    assert gateway.decrypt_content(roundtrip(response)) == b"register values"
    assert device.decrypt_content(response) == b"register values"
    tampered = dataclasses.replace(response, content=response.content[:-1] + b"\x00")
    with pytest.raises(DecodeError):
        gateway.decrypt_content(tampered)
    with pytest.raises(KeyNotFound):
        Builder(device_side(OTHER_DEVICE)).decrypt_content(response)


def test_nested_payload_encryption(gateway: Builder, device: Builder) -> None:
    framed = device.encrypt_payload(device=DEVICE, target=SUPPLIER, counter=42, plaintext=b"x" * 20)
    alert = device.alert(
        device=DEVICE,
        target=SUPPLIER,
        counter=42,
        message_code=0x1001,
        content=b"\x0f" + framed,
        critical=False,
    )
    assert gateway.decrypt_payload(alert, alert.content[1:]) == b"x" * 20


def test_alerts(device: Builder) -> None:
    critical = device.alert(
        device=DEVICE,
        target=SUPPLIER,
        counter=3,
        message_code=0x1000,
        content=b"\x0f\x00",
        critical=True,
    )
    assert critical.cra is CRA.ALERT
    assert critical.mac is None
    assert Verifier(gateway_side()).verify(roundtrip(critical)) == Verification(
        Check.ABSENT, Check.VALID
    )
    plain = device.alert(
        device=DEVICE,
        target=ACB,
        counter=4,
        message_code=0x1001,
        content=b"\x0f\x01",
        critical=False,
    )
    assert Verifier(gateway_side()).verify(roundtrip(plain)) == Verification(
        Check.VALID, Check.ABSENT
    )


def test_missing_keys_and_bad_arguments(device: Builder) -> None:
    with pytest.raises(KeyNotFound, match="DS private"):
        device.command(
            originator=SUPPLIER,
            target=DEVICE,
            counter=1,
            message_code=1,
            content=b"",
            critical=True,
        )
    with pytest.raises(EncodeError, match="target"):
        device.precommand(
            originator=SUPPLIER, target=b"short", counter=1, message_code=1, content=b""
        )
    response = Message(
        cra=CRA.RESPONSE,
        originator_counter=1,
        business_originator=DEVICE,
        business_target=SUPPLIER,
        date_time=None,
        message_code=1,
        extensions=b"",
        content=b"",
        signature=None,
    )
    with pytest.raises(EncodeError, match="ACB"):
        device.mac_as_acb(response)


@pytest.mark.parametrize("name", MACED_MESSAGES)
def test_builder_reproduces_every_conformance_mac(conformance: Path, name: str) -> None:
    data = read_message(conformance, name)
    message = Message.from_bytes(data)
    builder = Builder(Keystore.load(conformance / "keystore"))
    assert builder.mac(message.without_mac()).to_bytes() == data
    if message.cra is CRA.COMMAND:
        assert builder.mac_as_acb(message.without_mac()).to_bytes() == data

"""Pins the public names of the gbcs envelope/crypto/keys API (docs/gbcs-api.md): renaming or
removing one breaks the packages coding against it, so it must be a deliberate change here."""

from __future__ import annotations

import importlib
import inspect

import pytest

CONTRACT: dict[str, set[str]] = {
    "gbcs.errors": {"GbcsError", "DecodeError", "EncodeError", "KeyNotFound"},
    "gbcs.eui": {"parse_eui", "eui_hex", "eui_duis"},
    "gbcs.codes": {
        "CRA",
        "RemotePartyRole",
        "KeyPurpose",
        "ACB",
        "SUPPLIER",
        "SUPPLIER_2",
        "NETWORK_OPERATOR",
        "DCC_ACCESS_CONTROL",
    },
    "gbcs.frames": {"Message", "GbtReassembler", "reassemble_gbt", "GbtBlock", "gbt_blocks"},
    "gbcs.crypto": {
        "sign",
        "verify_signature",
        "SharedSecretCache",
        "other_info",
        "derive_key",
        "gmac",
        "encrypt_payload",
        "decrypt_payload",
    },
    "gbcs.keystore": {
        "KeyLookup",
        "Keystore",
        "KeystoreError",
        "derive_device_key",
        "generate_test_pki",
    },
    "gbcs.verify": {"Check", "Verification", "Verifier"},
    "gbcs.builders": {"Builder"},
    "gbcs.explain": {"explain", "Explanation"},
}

METHODS: dict[tuple[str, str], set[str]] = {
    ("gbcs.frames", "Message"): {
        "to_bytes",
        "from_bytes",
        "general_signing_apdu",
        "signed_bytes",
        "transaction_id",
    },
    ("gbcs.keystore", "Keystore"): {
        "load",
        "save",
        "certificate",
        "add",
        "euis",
        "public_key",
        "private_key",
    },
    ("gbcs.verify", "Verifier"): {"verify"},
    ("gbcs.builders", "Builder"): {
        "command",
        "precommand",
        "sign",
        "mac_as_acb",
        "response",
        "alert",
        "decrypt_content",
    },
    ("gbcs.crypto", "SharedSecretCache"): {"z"},
}


@pytest.mark.parametrize("module", sorted(CONTRACT))
def test_module_exports(module: str) -> None:
    imported = importlib.import_module(module)
    missing = {name for name in CONTRACT[module] if not hasattr(imported, name)}
    assert not missing


@pytest.mark.parametrize(("module", "cls"), sorted(METHODS))
def test_class_members(module: str, cls: str) -> None:
    obj = getattr(importlib.import_module(module), cls)
    assert METHODS[(module, cls)] <= set(dir(obj))


def test_message_fields_in_order() -> None:
    from gbcs.frames import Message

    parameters = list(inspect.signature(Message).parameters)
    assert parameters == [
        "cra",
        "originator_counter",
        "business_originator",
        "business_target",
        "date_time",
        "message_code",
        "extensions",
        "content",
        "signature",
        "signature_omitted",
        "mac",
    ]


def test_builder_keywords() -> None:
    from gbcs.builders import Builder

    command = inspect.signature(Builder.command).parameters
    assert {"originator", "target", "counter", "message_code", "content", "critical"} <= set(
        command
    )
    response = inspect.signature(Builder.response).parameters
    assert {"command", "content", "critical", "encrypt"} <= set(response)
    alert = inspect.signature(Builder.alert).parameters
    assert {"device", "target", "counter", "message_code", "content", "critical"} <= set(alert)

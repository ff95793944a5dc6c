"""Helpers of the DUIS tests: the test PKI, signers, request documents and schema checks."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.duis.signature import XmlSigner
from gateway.duis.xml import SR_NS
from gbcs.codes import ACB, KeyPurpose
from gbcs.keystore import Keystore, generate_test_pki

SEED = b"smetsim gateway-duis tests"
SCHEMA_DIR = ("duis", "schema")


@functools.cache
def pki() -> Keystore:
    """The test PKI of these tests (deterministic keys; generated once per session)."""
    return generate_test_pki(SEED)


@functools.cache
def signer_for(eui: bytes) -> XmlSigner:
    """The XML signer of a DCC test organisation (its DS key and certificate)."""
    pki_ = pki()
    certificate = pki_.certificate(eui, KeyPurpose.DS)
    assert certificate is not None
    return XmlSigner(pki_.private_key(eui, KeyPurpose.DS), certificate)


def gateway_signer() -> XmlSigner:
    """What the gateway signs responses with: the ACB's DS key (as the DCC's real responses)."""
    return signer_for(ACB)


@functools.cache
def _xmlschema(folder: str) -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(Path(folder) / "DUIS Schema V5.4.xsd"))


def xmlschema_errors(document: bytes, conformance: Path) -> list[str]:
    """Every complaint of the ``xmlschema`` package about ``document`` (DUIS 5.4 schema)."""
    schema = _xmlschema(str(conformance.joinpath(*SCHEMA_DIR)))
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    return [str(error.reason or error) for error in schema.iter_errors(root)]


def assert_valid_response(document: bytes, conformance: Path) -> None:
    """Fail unless ``document`` is an ``sr:Response`` valid against the DUIS 5.4 schema."""
    errors = xmlschema_errors(document, conformance)
    assert not errors, f"response invalid against the DUIS 5.4 schema: {errors[:3]}"
    root = etree.fromstring(document)
    assert root.tag == f"{{{SR_NS}}}Response"


def eui_text(eui: bytes) -> str:
    return eui.hex("-").upper()


def request_document(
    *,
    originator: bytes,
    counter: int,
    srv: str,
    body: str,
    cv: int = 8,
    sr: str | None = None,
    target: bytes = ACB,
    schema_version: str = "5.4",
) -> bytes:
    """An unsigned DUIS request (written as the conformance templates are)."""
    reference = sr if sr is not None else srv
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sr:Request xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
        f'xmlns:sr="{SR_NS}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'schemaVersion="{schema_version}">\n'
        "  <sr:Header>\n"
        f"    <sr:RequestID>{eui_text(originator)}:{eui_text(target)}:{counter}</sr:RequestID>\n"
        f"    <sr:CommandVariant>{cv}</sr:CommandVariant>\n"
        f"    <sr:ServiceReference>{reference}</sr:ServiceReference>\n"
        f"    <sr:ServiceReferenceVariant>{srv}</sr:ServiceReferenceVariant>\n"
        "  </sr:Header>\n"
        f"  <sr:Body>{body}</sr:Body>\n"
        "</sr:Request>\n"
    ).encode()


def prenotification_body(
    device: bytes, *, device_type: str = "ESME", variant: str | None = "A"
) -> str:
    esme = f"<sr:ESMEVariant>{variant}</sr:ESMEVariant>" if variant else ""
    return (
        "<sr:DevicePrenotification>"
        f"<sr:DeviceID>{eui_text(device)}</sr:DeviceID>"
        "<sr:DeviceManufacturer>AB01</sr:DeviceManufacturer>"
        "<sr:DeviceModel>010A030B</sr:DeviceModel>"
        f"<sr:DeviceType>{device_type}</sr:DeviceType>"
        "<sr:SMETSCHTSVersion>SMETS V1.58</sr:SMETSCHTSVersion>"
        "<sr:FirmwareVersion>0002012F</sr:FirmwareVersion>"
        f"{esme}"
        "</sr:DevicePrenotification>"
    )


def read_inventory_body(device: bytes) -> str:
    return f"<sr:ReadInventory><sr:DeviceID>{eui_text(device)}</sr:DeviceID></sr:ReadInventory>"


# --- a running gateway ------------------------------------------------------------------------

_PKI_DIRS: dict[str, Path] = {}


def state_with_pki(state: Path) -> Path:
    """A fresh state folder holding the tests' PKI (saved once, copied: no key generation)."""
    import shutil
    import tempfile

    if "dir" not in _PKI_DIRS:
        saved = Path(tempfile.mkdtemp(prefix="smetsim-test-pki-")) / "pki"
        pki().save(saved)
        _PKI_DIRS["dir"] = saved
    state.mkdir(parents=True, exist_ok=True)
    shutil.copytree(_PKI_DIRS["dir"], state / "pki")
    return state

"""Security credential SRs: 6.15.1 Update Security Credentials (KRP), 6.15.2 (Device), 6.17
Issue Security Credentials, 6.21 Request Handover of DCC Controlled Device, 6.23 Update
Security Credentials (CoS) and 6.24.2 Retrieve Device Security Credentials (Device).

6.17, 6.15.2 and 6.24.2 are the device's own credentials: CS02c makes a key pair and answers
a certification request, CS02d installs the certificate the PKI issued for it (the gateway
checks it is a device certificate on P-256 for one key usage, naming the target device),
CS02e answers the certificate the device holds. All three are critical: the supplier signs.

6.15.1 replaces a remote party's certificates on the device (CS02b supplierBySupplier or
networkOperatorByNetworkOperator, CS02g loadControllerBySupplier): the party signs the
command itself (CV4 / CV5). The certificates travel in the command as the user sent them;
the gateway checks each is an X.509 certificate on P-256 with the key usage of its slot and
the remote party role of the SR (its OU), naming an entity (x500UniqueIdentifier).

6.21 and 6.23 are not critical in DUIS, yet their GBCS use cases are: the DCC signs the
command as its own party (:attr:`UpdateCredentials.signer`: the ACB for a handover, the
transitional CoS party for a change of supplier). The device service
(:mod:`gateway.services.device_credentials`) checks who may ask for them, signs them, and
moves the SMI's responsible supplier when the device confirms a supplier replacement. A
future-dated 6.21 is held by the DCC and sent at its execution date-time (the DSP pattern); a
future-dated 6.23 too when it is for a CHF or GPF, while a meter's carries the date-time
(:attr:`UpdateCredentials.execute_at`, the Device pattern).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree

from gateway.schedule import is_cancellation
from gateway.srv.example import Example, Home, Values
from gateway.srv.fields import Fields, children, invalid, read_int
from gateway.srv.firmware import GBCS_CANCEL_AT
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.usecases import by_name

__all__ = [
    "CredentialCertificate",
    "IssueCredentials",
    "RetrieveDeviceCredentials",
    "UpdateCredentials",
    "UpdateDeviceCredentials",
    "build_update",
    "read_change_of_supplier",
    "read_handover",
]

ROLES = {
    "Root": 0,
    "Recovery": 1,
    "Supplier": 2,
    "NetworkOperator": 3,
    "ACB": 4,
    "TransCoS": 5,
    "LoadController": 8,
}
"""DUIS RemotePartyRole -> GBCS RemotePartyRole."""

_BY_ROLE = {
    "Supplier": ("CS02b-supplierBySupplier", 2),
    "NetworkOperator": ("CS02b-networkOperatorByNetworkOperator", 3),
    "LoadController": ("CS02g-loadControllerBySupplier", 2),
}
"""6.15.1: the replaced role -> (use case, role of the authorising party)."""

_FLOOR_MAX = 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True, slots=True)
class CredentialCertificate:
    """One replacement certificate and its trust anchor cell."""

    cell: gc.Cell
    der: bytes
    subject: bytes
    """The entity the certificate names (its x500UniqueIdentifier)."""


@dataclass(frozen=True, slots=True)
class UpdateCredentials:
    """A CS02b / CS02g request: whose cells, authorised by whom, with which floors."""

    use_case: str
    role: int
    authorising_role: int
    certificates: tuple[CredentialCertificate, ...]
    path: tuple[bytes, ...]
    apply_time_checks: bool
    floor: int | None
    top_up_floor: int | None
    import_mpxn: str | None = None
    """6.23 only: the MPxN the new supplier takes the device for."""
    signer: str | None = None
    """Who signs the command: None, the user (CV4 / CV5); ``"acb"`` (6.21) or
    ``"transitional_cos"`` (6.23), the DCC as that party of its own."""
    execute_at: datetime | None = None
    """A future-dated 6.15.1, or 6.23 to a meter (the Device pattern): when the device
    applies it (:data:`~gateway.srv.firmware.GBCS_CANCEL_AT`: cancel the pending one)."""

    @property
    def subject(self) -> bytes:
        """The entity the replacement certificates name (all name the same)."""
        return self.certificates[0].subject


@dataclass(frozen=True, slots=True)
class IssueCredentials:
    """SR6.17 ``IssueSecurityCredentials``: CS02c for a DS or a KA key."""

    usage: bytes


def _certificate(name: str, text: str | None) -> x509.Certificate:
    raw = "".join((text or "").split())
    try:
        der = base64.b64decode(raw, validate=True)
        return x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        raise invalid(name, "it is not a base64 DER X.509 certificate") from None


def _checked(name: str, cert: x509.Certificate, role: int, usage: bytes) -> bytes:
    """The entity of a replacement certificate, after the checks GBCS puts on one."""
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise invalid(name, "its key is not on the P-256 curve GBCS uses")
    try:
        usages = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise invalid(name, "it has no key usage") from None
    wanted = usages.digital_signature if usage == gc.DS_USAGE else usages.key_agreement
    if not wanted:
        purpose = "digital signing" if usage == gc.DS_USAGE else "key agreement"
        raise invalid(name, f"it is not a {purpose} certificate (key usage)")
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    unit = units[0].value if units else None
    text = unit.decode("ascii", "replace") if isinstance(unit, bytes) else unit
    if text is not None and text != f"{role:02d}":
        raise invalid(name, f"it is for remote party role {text}, not {role:02d}")
    ids = cert.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER)
    value = ids[0].value if ids else b""
    raw = value if isinstance(value, bytes) else str(value).encode()
    if len(raw) != 9:
        raise invalid(name, "its subject names no entity (x500UniqueIdentifier of 8 octets)")
    return raw[1:]


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def _replacements(element: etree._Element, role: int) -> tuple[CredentialCertificate, ...]:
    f = Fields(
        element,
        ("DigitalSigningCertificate", "KeyAgreementCertificate", "KeyAgreementTopUpCertificate"),
    )
    found = []
    for name, usage, top_up in (
        ("DigitalSigningCertificate", gc.DS_USAGE, False),
        ("KeyAgreementCertificate", gc.KA_USAGE, False),
        ("KeyAgreementTopUpCertificate", gc.KA_USAGE, True),
    ):
        if name not in f.elements:
            if name == "DigitalSigningCertificate":
                raise invalid(f.owner, f"{name} is missing")
            continue
        cert = _certificate(name, f.text(name))
        subject = _checked(name, cert, role, usage)
        found.append(CredentialCertificate(gc.Cell(role, usage, top_up), _der(cert), subject))
    if len({c.subject for c in found}) != 1:
        raise invalid(f.owner, "the replacement certificates name different entities")
    return tuple(found)


def _path(element: etree._Element) -> tuple[bytes, ...]:
    certs = children(element, "Certificate")
    if not 1 <= len(certs) <= 3:
        raise invalid("CertificationPathCertificates", "it holds 1 to 3 Certificate")
    return tuple(_der(_certificate("Certificate", c.text)) for c in certs)


def _flag(f: Fields, name: str) -> bool:
    text = f.text(name)
    if text not in ("true", "false", "1", "0"):
        raise invalid(name, f"{text!r} is not a boolean")
    return text in ("true", "1")


def _floor(f: Fields, name: str) -> int | None:
    if name not in f.elements:
        return None
    return read_int(name, f.text(name), 0, _FLOOR_MAX)


_KRP = (
    "RemotePartyRole",
    "RemotePartyFloorSeqNumber",
    "RemotePartyPrepaymentTopUpFloorSeqNumber",
    "ReplacementCertificates",
    "CertificationPathCertificates",
    "ApplyTimeBasedCPVChecks",
)


def _role(f: Fields, allowed: tuple[str, ...]) -> str:
    role = f.text("RemotePartyRole") or ""
    if role not in allowed:
        raise invalid(
            "RemotePartyRole", f"{role!r}: this SR replaces {' or '.join(allowed)} credentials"
        )
    return role


def read_krp(body: etree._Element) -> UpdateCredentials:
    """SR6.15.1 ``UpdateSecurityCredentialsKRP``. Its ``ExecutionDateTime`` (future-dated,
    the Device pattern) reaches the build as :attr:`Command.execution`."""
    f = Fields(body, ("ExecutionDateTime", *_KRP), dated=True)
    role_name = _role(f, tuple(_BY_ROLE))
    use_case, authorising = _BY_ROLE[role_name]
    role = ROLES[role_name]
    replacements = f.elements.get("ReplacementCertificates")
    path = f.elements.get("CertificationPathCertificates")
    if replacements is None or path is None:
        raise invalid(
            f.owner, "ReplacementCertificates and CertificationPathCertificates are needed"
        )
    wrapper = Fields(replacements, ("SupplierOrNetworkOperatorCertificates",))
    inner = wrapper.elements.get("SupplierOrNetworkOperatorCertificates")
    if inner is None:
        raise invalid("ReplacementCertificates", "SupplierOrNetworkOperatorCertificates is missing")
    return UpdateCredentials(
        use_case=use_case,
        role=role,
        authorising_role=authorising,
        certificates=_replacements(inner, role),
        path=_path(path),
        apply_time_checks=_flag(f, "ApplyTimeBasedCPVChecks"),
        floor=_floor(f, "RemotePartyFloorSeqNumber"),
        top_up_floor=_floor(f, "RemotePartyPrepaymentTopUpFloorSeqNumber"),
    )


def read_handover(body: etree._Element) -> UpdateCredentials:
    """SR6.21 ``RequestHandoverOfDCCControlledDevice``: the DCC (as the ACB) replaces the
    supplier's or the network operator's credentials on a DCC controlled device."""
    f = Fields(body, _KRP)
    role_name = _role(f, ("Supplier", "NetworkOperator"))
    use_case, authorising = _BY_ROLE[role_name]
    role = ROLES[role_name]
    path = f.elements.get("CertificationPathCertificates")
    replacements = f.elements.get("ReplacementCertificates")
    if path is None or replacements is None:
        raise invalid(
            f.owner, "ReplacementCertificates and CertificationPathCertificates are needed"
        )
    return UpdateCredentials(
        use_case=use_case,
        role=role,
        authorising_role=authorising,
        certificates=_replacements(replacements, role),
        path=_path(path),
        apply_time_checks=_flag(f, "ApplyTimeBasedCPVChecks"),
        floor=_floor(f, "RemotePartyFloorSeqNumber"),
        top_up_floor=_floor(f, "RemotePartyPrepaymentTopUpFloorSeqNumber"),
        signer="acb",
    )


def read_change_of_supplier(body: etree._Element) -> UpdateCredentials:
    """SR6.23 ``UpdateSecurityCredentialsCoS``: the DCC's transitional CoS party replaces
    the supplier's credentials with the new supplier's (CS02b supplierByTransCoS)."""
    f = Fields(
        body,
        (
            "SupplierFloorSeqNumber",
            "SupplierPrepaymentTopUpFloorSeqNumber",
            "SupplierReplacementCertificates",
            "CertificationPathCertificates",
            "ApplyTimeBasedCPVChecks",
            "ImportMPxN",
        ),
    )
    replacements = f.elements.get("SupplierReplacementCertificates")
    path = f.elements.get("CertificationPathCertificates")
    if replacements is None or path is None:
        raise invalid(
            f.owner, "SupplierReplacementCertificates and CertificationPathCertificates are needed"
        )
    mpxn = f.text("ImportMPxN") or ""
    if not 1 <= len(mpxn) <= 13 or not mpxn.isalnum():
        raise invalid("ImportMPxN", f"{mpxn!r} is not an MPAN or MPRN")
    return UpdateCredentials(
        use_case="CS02b-supplierByTransCoS",
        role=ROLES["Supplier"],
        authorising_role=ROLES["TransCoS"],
        certificates=_replacements(replacements, ROLES["Supplier"]),
        path=_path(path),
        apply_time_checks=_flag(f, "ApplyTimeBasedCPVChecks"),
        floor=read_int("SupplierFloorSeqNumber", f.text("SupplierFloorSeqNumber"), 0, _FLOOR_MAX),
        top_up_floor=_floor(f, "SupplierPrepaymentTopUpFloorSeqNumber"),
        import_mpxn=mpxn,
        signer="transitional_cos",
    )


def build_update(cmd: Command) -> bytes:
    """The CS02b / CS02g command: the replaced party's floor and prepayment top-up floor go
    in ``[4]`` and ``[5]`` when it authorises its own replacement, in its role's ``[6]`` entry
    when another party does (GBCS: the transitional CoS party setting the supplier's)."""
    r: UpdateCredentials = cmd.request
    own = r.role == r.authorising_role
    floor = r.floor if own else None
    top_up: gc.Pairs = () if r.top_up_floor is None else ((0, r.top_up_floor),)
    role_floors: tuple[gc.Floor, ...] = ()
    if not own and r.floor is not None:
        role_floors, top_up = ((r.role, r.floor, top_up),), ()
    execute_at = r.execute_at
    if execute_at is None and r.signer is None and cmd.execution is not None:
        # 6.15.1 (the Device pattern; a future-dated 6.21 / 6.23 is held by the DCC unless
        # execute_at says otherwise). DUIS's 3000-12-31 cancels the pending update: GBCS
        # says it with 9999-12-31.
        execute_at = GBCS_CANCEL_AT if is_cancellation(cmd.execution) else cmd.execution
    content = gc.UpdateSecurityCredentials(
        message_code=by_name(cmd.use_case.name).code,
        counter=cmd.counter,
        authorising=gc.Cell(r.authorising_role, gc.DS_USAGE),
        certificates=tuple((c.cell, c.der) for c in r.certificates),
        path=r.path,
        skip_time_checks=not r.apply_time_checks,
        floor=floor,
        top_up_floors=top_up,
        role_floors=role_floors,
        execute_at=execute_at,
    )
    return content.encode()


def _read_issue(body: etree._Element) -> IssueCredentials:
    kind = Fields(body, ("CredentialType",)).text("CredentialType")
    usages = {"Digital Signature": gc.DS_USAGE, "Key Agreement": gc.KA_USAGE}
    if kind not in usages:
        raise invalid("CredentialType", f"{kind!r} is not Digital Signature or Key Agreement")
    return IssueCredentials(usages[kind])


def _build_issue(cmd: Command) -> bytes:
    r: IssueCredentials = cmd.request
    return gc.IssueSecurityCredentials(r.usage).encode()


# ---------------------------------------------------------------------------- examples


def _krp_example(v: Values) -> str:
    """The party's own replacement certificates (the user gives them) and one path CA."""
    replacements = v.elements(
        "DigitalSigningCertificate", "KeyAgreementCertificate", "KeyAgreementTopUpCertificate"
    )
    return (
        v.elements(
            "ExecutionDateTime",
            "RemotePartyRole",
            "RemotePartyFloorSeqNumber",
            "RemotePartyPrepaymentTopUpFloorSeqNumber",
        )
        + "<sr:ReplacementCertificates><sr:SupplierOrNetworkOperatorCertificates>"
        + replacements
        + "</sr:SupplierOrNetworkOperatorCertificates></sr:ReplacementCertificates>"
        + f"<sr:CertificationPathCertificates>{v.element('Certificate')}"
        + "</sr:CertificationPathCertificates>"
        + v.element("ApplyTimeBasedCPVChecks")
    )


_KRP_EXAMPLE = Example(
    {
        "ExecutionDateTime": None,
        "RemotePartyRole": "Supplier",
        "RemotePartyFloorSeqNumber": None,
        "RemotePartyPrepaymentTopUpFloorSeqNumber": None,
        "DigitalSigningCertificate": Home.REQUIRED,
        "KeyAgreementCertificate": None,
        "KeyAgreementTopUpCertificate": None,
        "Certificate": Home.REQUIRED,
        "ApplyTimeBasedCPVChecks": "true",
    },
    _krp_example,
    certificates=frozenset(
        {
            "DigitalSigningCertificate",
            "KeyAgreementCertificate",
            "KeyAgreementTopUpCertificate",
            "Certificate",
        }
    ),
)


serves(
    "6.15.1",
    Codec(
        read=read_krp,
        build=build_update,
        builds=frozenset(name for name, _ in _BY_ROLE.values()),
        choose=lambda r, names: r.use_case,
        example=_KRP_EXAMPLE,
        future_dated=True,
    ),
)
serves(
    "6.17",
    Codec(
        read=_read_issue,
        build=_build_issue,
        builds=frozenset({"CS02c"}),
        example=Example({"CredentialType": "Digital Signature"}),
    ),
)


def _handover_example(v: Values) -> str:
    """The certificates of the party taking the role over (the user gives them)."""
    return (
        v.elements(
            "RemotePartyRole",
            "RemotePartyFloorSeqNumber",
            "RemotePartyPrepaymentTopUpFloorSeqNumber",
        )
        + "<sr:ReplacementCertificates>"
        + v.elements("DigitalSigningCertificate", "KeyAgreementCertificate")
        + "</sr:ReplacementCertificates>"
        + f"<sr:CertificationPathCertificates>{v.element('Certificate')}"
        + "</sr:CertificationPathCertificates>"
        + v.element("ApplyTimeBasedCPVChecks")
    )


def _cos_example(v: Values) -> str:
    """The new supplier's own certificates (the user gives them) for the home's meter point."""
    return (
        v.elements("SupplierFloorSeqNumber", "SupplierPrepaymentTopUpFloorSeqNumber")
        + "<sr:SupplierReplacementCertificates>"
        + v.elements(
            "DigitalSigningCertificate", "KeyAgreementCertificate", "KeyAgreementTopUpCertificate"
        )
        + "</sr:SupplierReplacementCertificates>"
        + f"<sr:CertificationPathCertificates>{v.element('Certificate')}"
        + "</sr:CertificationPathCertificates>"
        + v.elements("ApplyTimeBasedCPVChecks", "ImportMPxN")
    )


_CERTIFICATE_FIELDS = frozenset(
    {
        "DigitalSigningCertificate",
        "KeyAgreementCertificate",
        "KeyAgreementTopUpCertificate",
        "Certificate",
    }
)


serves(
    "6.21",
    Codec(
        read=read_handover,
        build=build_update,
        builds=frozenset({"CS02b-supplierBySupplier", "CS02b-networkOperatorByNetworkOperator"}),
        choose=lambda r, names: r.use_case,
        example=Example(
            {
                "RemotePartyRole": "Supplier",
                "RemotePartyFloorSeqNumber": "0",
                "RemotePartyPrepaymentTopUpFloorSeqNumber": None,
                "DigitalSigningCertificate": Home.REQUIRED,
                "KeyAgreementCertificate": Home.REQUIRED,
                "Certificate": Home.REQUIRED,
                "ApplyTimeBasedCPVChecks": "true",
            },
            _handover_example,
            certificates=_CERTIFICATE_FIELDS,
        ),
    ),
)
serves(
    "6.23",
    Codec(
        read=read_change_of_supplier,
        build=build_update,
        builds=frozenset({"CS02b-supplierByTransCoS"}),
        example=Example(
            {
                "SupplierFloorSeqNumber": "0",
                "SupplierPrepaymentTopUpFloorSeqNumber": None,
                "DigitalSigningCertificate": Home.REQUIRED,
                "KeyAgreementCertificate": Home.REQUIRED,
                "KeyAgreementTopUpCertificate": None,
                "Certificate": Home.REQUIRED,
                "ApplyTimeBasedCPVChecks": "true",
                "ImportMPxN": Home.IMPORT_MPAN,
            },
            _cos_example,
            certificates=_CERTIFICATE_FIELDS,
        ),
    ),
)


# ------------------------------------------------------- 6.15.2 and 6.24.2: the device's own


@dataclass(frozen=True, slots=True)
class UpdateDeviceCredentials:
    """SR6.15.2 ``UpdateSecurityCredentialsDevice``: the certificate the PKI issued for a key
    the device made (CS02c), to install with CS02d."""

    der: bytes
    usage: bytes
    subject: bytes
    """The device the certificate names (:func:`gbcs.content.device_identity`)."""


@dataclass(frozen=True, slots=True)
class RetrieveDeviceCredentials:
    """SR6.24.2 ``RetrieveDeviceSecurityCredentialsDevice``: CS02e for the DS or KA
    certificate."""

    usage: bytes


def _read_device_certificate(body: etree._Element) -> UpdateDeviceCredentials:
    f = Fields(body, ("DeviceCertificate",))
    if "DeviceCertificate" not in f.elements:
        raise invalid(f.owner, "DeviceCertificate is missing")
    cert = _certificate("DeviceCertificate", f.text("DeviceCertificate"))
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise invalid("DeviceCertificate", "its key is not on the P-256 curve GBCS uses")
    try:
        usages = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise invalid("DeviceCertificate", "it has no key usage") from None
    if usages.digital_signature == usages.key_agreement:
        raise invalid(
            "DeviceCertificate", "it is for digital signing or key agreement (one, by key usage)"
        )
    usage = gc.DS_USAGE if usages.digital_signature else gc.KA_USAGE
    if cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
        raise invalid("DeviceCertificate", "it names a remote party role (OU): not a device's")
    subject = gc.device_identity(cert)
    if subject is None:
        raise invalid(
            "DeviceCertificate",
            "it names no device (a hardwareModuleName subjectAltName with the device's EUI)",
        )
    return UpdateDeviceCredentials(_der(cert), usage, subject)


def _build_device_certificate(cmd: Command) -> bytes:
    r: UpdateDeviceCredentials = cmd.request
    if r.subject != cmd.device:
        # The DUIS side refuses it first (gateway.services.device_credentials); a codec
        # called directly must not build a command for another device either.
        raise ValueError(f"the certificate names {r.subject.hex()}, not the target device")
    return gc.UpdateDeviceCertificate(r.der).encode()


def _read_retrieve(body: etree._Element) -> RetrieveDeviceCredentials:
    return RetrieveDeviceCredentials(_read_issue(body).usage)


def _build_retrieve(cmd: Command) -> bytes:
    r: RetrieveDeviceCredentials = cmd.request
    return gc.ProvideDeviceCertificate(r.usage).encode()


serves(
    "6.15.2",
    Codec(
        read=_read_device_certificate,
        build=_build_device_certificate,
        builds=frozenset({"CS02d"}),
        example=Example(
            {"DeviceCertificate": Home.REQUIRED},
            certificates=frozenset({"DeviceCertificate"}),
        ),
    ),
)
serves(
    "6.24.2",
    Codec(
        read=_read_retrieve,
        build=_build_retrieve,
        builds=frozenset({"CS02e"}),
        example=Example({"CredentialType": "Digital Signature"}),
    ),
)

"""XML signatures of DUIS documents, with signxml.

The DUIS profile (``docs/gateway.md``): enveloped signature over the whole document (``Reference
URI=""``), exclusive C14N of ``SignedInfo``, ``ecdsa-sha256``, SHA-256 digest, and a
``KeyInfo`` holding only ``X509Data/X509IssuerSerial``. The verifier never trusts a
certificate carried in the message: it is given the pinned certificate registered for the
sender, found by issuer and serial (:class:`CertificateIndex`).

Performance: certificates are parsed once (when registered) and kept with their public keys;
the signxml signer and its configuration are built once per key. What remains per document is
signxml's own work (canonicalisation, a few re-parses) and one ECDSA operation.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import (  # type: ignore[attr-defined]
    SignatureConfiguration,
    XMLSigner,
    XMLVerifier,
)
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.exceptions import InvalidInput, SignXMLException

from gateway.duis import fastsig
from gateway.duis.envelope import DuisRequest
from gateway.duis.xml import DS_NS, ds
from gateway.errors import ServiceError

logger = logging.getLogger(__name__)

_SIGNATURE_METHODS: Final = frozenset({SignatureMethod.ECDSA_SHA256})
_DIGESTS: Final = frozenset({DigestAlgorithm.SHA256})
SignatureEngine = Literal["fast", "signxml"]
"""``fast``: the DUIS-profile fast path (:mod:`gateway.duis.fastsig`), signxml for anything
else; ``signxml``: signxml for everything."""

_XML_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def issuer_text(certificate: x509.Certificate) -> str:
    """The ``X509IssuerName`` of ``certificate`` as RFC 4514 text (``CN=Z1,OU=07``)."""
    return certificate.issuer.rfc4514_string()


@functools.lru_cache(maxsize=4096)
def normalise_issuer(text: str) -> str:
    """A canonical spelling of an issuer name, so that ``CN=U1, OU=07`` and ``CN=U1,OU=07``
    (and attribute-type case) compare equal. Unparseable text is kept, stripped."""
    compact = re.sub(r"\s*([,=+])\s*", r"\1", text.strip())
    compact = re.sub(
        r"(^|[,+])([A-Za-z][A-Za-z0-9-]*)=",
        lambda m: m.group(1) + m.group(2).upper() + "=",
        compact,
    )
    try:
        return x509.Name.from_rfc4514_string(compact).rfc4514_string()
    except ValueError:
        return compact


@dataclass(frozen=True, slots=True)
class RegisteredCertificate:
    """A certificate registered for a DCC User, parsed once."""

    owner: bytes
    certificate: x509.Certificate
    pem: str | None = None
    """The PEM text as registered (the user's record holds the same text): a worker process
    confirms, in the transaction that applies a request, that it is still the user's."""

    @property
    def issuer(self) -> str:
        return issuer_text(self.certificate)

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


def load_certificate(pem: str | bytes) -> x509.Certificate:
    """Parse a PEM certificate holding an ECDSA P-256 key; :class:`ValueError` otherwise."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise ValueError(f"not a PEM X.509 certificate: {exc}") from None
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("the certificate's key is not an ECDSA P-256 key")
    return certificate


class CertificateIndex:
    """Registered certificates by (issuer, serial number), each with the user owning it."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, int], RegisteredCertificate] = {}

    def clear(self) -> None:
        self._by_key.clear()

    def add(
        self, owner: bytes, certificate: x509.Certificate, pem: str | None = None
    ) -> RegisteredCertificate:
        """Register ``certificate`` (registered as ``pem``) for ``owner``, replacing what had
        that issuer and serial."""
        entry = RegisteredCertificate(owner=owner, certificate=certificate, pem=pem)
        self._by_key[(normalise_issuer(issuer_text(certificate)), certificate.serial_number)] = (
            entry
        )
        return entry

    def replace(self, entries: Iterable[RegisteredCertificate]) -> None:
        """Hold exactly ``entries`` from now on (swapped in one step: a reader never sees a
        half-built index)."""
        self._by_key = {
            (normalise_issuer(issuer_text(e.certificate)), e.certificate.serial_number): e
            for e in entries
        }

    def remove_owner(self, owner: bytes) -> None:
        """Forget every certificate of ``owner`` (before registering its new one)."""
        entries = self._by_key  # the index may be swapped (replace) by the storage thread
        for key in [k for k, v in entries.items() if v.owner == owner]:
            entries.pop(key, None)

    def find(self, issuer: str, serial: int) -> RegisteredCertificate | None:
        return self._by_key.get((normalise_issuer(issuer), serial))

    def __len__(self) -> int:
        return len(self._by_key)


class _DuisXmlSigner(XMLSigner):
    """signxml's signer; the documents it copies are fresh root elements this gateway built,
    so a deep copy replaces signxml's serialise-and-parse round trip (same tree, cheaper)."""

    def get_root(self, data: Any) -> Any:
        if isinstance(data, etree._Element) and data.getparent() is None:
            return copy.deepcopy(data)
        return super().get_root(data)  # type: ignore[no-untyped-call]


class _DuisXmlVerifier(XMLVerifier):
    """signxml's verifier, minus one full re-parse: the document given is a root element this
    gateway has just parsed (safely) and owns, and signxml does not change it, so it is used as
    it is instead of being serialised and parsed again. Everything else - the copy the
    enveloped transform works on, the algorithm checks, canonicalisation, digest and ECDSA
    verification, the XMLDSig schema check of the Signature element - is signxml's."""

    def get_root(self, data: Any) -> Any:
        if isinstance(data, etree._Element) and data.getparent() is None:
            return data
        return super().get_root(data)  # type: ignore[no-untyped-call]


class XmlSigner:
    """Signs DUIS documents with one key and its certificate (a user's, or the gateway's)."""

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate,
        *,
        engine: SignatureEngine = "fast",
    ) -> None:
        public = certificate.public_key()
        if (
            not isinstance(public, ec.EllipticCurvePublicKey)
            or private_key.public_key().public_numbers() != public.public_numbers()
        ):
            raise ValueError("the private key does not belong to the certificate")
        self._key = private_key
        self.certificate = certificate
        self.issuer = issuer_text(certificate)
        self.serial = certificate.serial_number
        self._signer = _DuisXmlSigner(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=SignatureMethod.ECDSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        self._signer.namespaces = {"ds": DS_NS}
        self.engine: SignatureEngine = engine

    def _key_info(self) -> etree._Element:
        key_info = etree.Element(ds("KeyInfo"), nsmap={"ds": DS_NS})
        x509_data = etree.SubElement(key_info, ds("X509Data"))
        issuer_serial = etree.SubElement(x509_data, ds("X509IssuerSerial"))
        etree.SubElement(issuer_serial, ds("X509IssuerName")).text = self.issuer
        etree.SubElement(issuer_serial, ds("X509SerialNumber")).text = str(self.serial)
        return key_info

    def sign(self, root: etree._Element) -> etree._Element:
        """A signed copy of ``root``; a ``ds:Signature`` already there (e.g. the templates'
        placeholder) is replaced. ``root`` itself is not changed."""
        for old in root.findall(ds("Signature")):
            root = _without(root, old)
        if self.engine == "fast" and root.getparent() is None:
            return fastsig.sign(root, self._key, self.issuer, self.serial)
        signed: etree._Element = self._signer.sign(root, key=self._key, key_info=self._key_info())
        return signed

    def sign_to_bytes(self, root: etree._Element, *, consume: bool = False) -> bytes:
        """:meth:`sign`, serialised as UTF-8 with an XML declaration. With ``consume`` the
        caller gives ``root`` away (e.g. a response just built): it may be signed in place."""
        fresh = root.getparent() is None and root.find(ds("Signature")) is None
        if self.engine == "fast" and fresh:
            # The signature is written from a template: ``root`` itself is left as it was.
            serialised = fastsig.sign_serialised(root, self._key, self.issuer, self.serial)
            if serialised is not None:
                return _XML_DECLARATION + serialised
        if consume and self.engine == "fast" and fresh:
            signed = fastsig.sign(root, self._key, self.issuer, self.serial, in_place=True)
            return _XML_DECLARATION + etree.tostring(signed, encoding="UTF-8")
        return _XML_DECLARATION + etree.tostring(self.sign(root), encoding="UTF-8")

    def sign_plain(self, document: bytes, c14n: bytes) -> bytes | None:
        """Sign a response root given as its serialisation and exclusive C14N (see
        :func:`gateway.duis.build.plain_response_bytes`: the root declares ``ds``, holds no
        signature); ``None`` with the signxml engine (the caller then signs the tree)."""
        if self.engine != "fast":
            return None
        return _XML_DECLARATION + fastsig.sign_prepared(
            document, c14n, self._key, self.issuer, self.serial, root_declares_ds=True
        )

    def sign_bytes(self, document: bytes) -> bytes:
        """Sign a serialised document (e.g. a DUIS template); the input is the user's own."""
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        return self.sign_to_bytes(etree.fromstring(document, parser))


def _without(root: etree._Element, child: etree._Element) -> etree._Element:
    copy = etree.fromstring(etree.tostring(root))
    for element in copy.findall(ds("Signature")):
        copy.remove(element)
    return copy


class XmlSignatureVerifier:
    """Verifies a DUIS signature against a given, pinned certificate."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        engine: SignatureEngine = "fast",
    ) -> None:
        self._clock = clock
        self.engine: SignatureEngine = engine
        self._parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        self._verifier = _DuisXmlVerifier()
        self._config = _config(None)

    def verify(self, root: etree._Element, certificate: x509.Certificate) -> None:
        """Raise :class:`InvalidSignatureError` unless ``root`` carries one valid enveloped
        signature, in the DUIS profile, made with the key of ``certificate``."""
        key = _public_key_or_none(certificate) if self.engine == "fast" else None
        if key is not None:
            # The fast path first: a signature in the profile has the one ds:Signature child
            # and the Reference URI="" the checks below look for, so they could not refuse it.
            now = self._clock() if self._clock is not None else datetime.now(UTC)
            try:
                fastsig.verify(root, certificate, key, now)
                return
            except fastsig.NotInProfileError:
                pass  # signxml judges whatever is outside the DUIS profile
            except fastsig.FastSignatureError as exc:
                raise InvalidSignatureError(str(exc)) from None
        signature = root.find(ds("Signature"))
        if signature is None:
            raise InvalidSignatureError("the document has no ds:Signature element")
        reference = signature.find(f"{ds('SignedInfo')}/{ds('Reference')}")
        if reference is None or reference.get("URI") != "":
            raise InvalidSignatureError('the signature must have one Reference with URI=""')
        if self.engine == "fast":
            _public_key(certificate)  # not an ECDSA key: refused as before
        config = self._config if self._clock is None else _config(self._clock())
        try:
            self._verifier.verify(
                root, x509_cert=certificate, expect_config=config, parser=self._parser
            )
        except (SignXMLException, InvalidInput, ValueError, etree.LxmlError) as exc:
            # etree.DocumentInvalid: the Signature element fails the XMLDSig schema.
            raise InvalidSignatureError(_first_line(exc)) from None


_KEYS: dict[int, tuple[x509.Certificate, ec.EllipticCurvePublicKey | None]] = {}
"""The public key of each certificate verified with (``None``: not an ECDSA key), by
``id(certificate)``: cheaper than an ``lru_cache`` keyed by the certificate, which hashes its
DER on every call. The certificate is held, so its id is not reused while its entry lives."""


def _public_key_or_none(certificate: x509.Certificate) -> ec.EllipticCurvePublicKey | None:
    entry = _KEYS.get(id(certificate))
    if entry is None or entry[0] is not certificate:
        key = certificate.public_key()
        if len(_KEYS) >= 1024:
            _KEYS.clear()
        entry = (certificate, key if isinstance(key, ec.EllipticCurvePublicKey) else None)
        _KEYS[id(certificate)] = entry
    return entry[1]


def _public_key(certificate: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = _public_key_or_none(certificate)
    if key is None:
        raise InvalidSignatureError("the certificate's key is not an ECDSA key")
    return key


def _config(when: datetime | None) -> SignatureConfiguration:
    return SignatureConfiguration(
        require_x509=True,
        location="./",
        expect_references=1,
        signature_methods=_SIGNATURE_METHODS,
        digest_algorithms=_DIGESTS,
        # XMLDSig: with no canonicalisation transform listed, a reference is canonicalised with
        # inclusive C14N 1.0 (what the DCC's own signed responses rely on).
        default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0,
        verification_time=when,  # None: now
        ignore_ambiguous_key_info=False,
    )


class InvalidSignatureError(Exception):
    """The signature does not verify; the message says why."""


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def certificate_owner_hint(certificate: x509.Certificate) -> bytes | None:
    """The EUI a SMKI organisation certificate names in its subject (``x500UniqueIdentifier``),
    or ``None``. Used to default a certificate's owner when none is given."""
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER):
        value = attribute.value
        raw = value if isinstance(value, bytes) else None
        if raw is not None and len(raw) >= 8:
            return bytes(raw[-8:])
    return None


class RequestAuthenticator:
    """Decides who sent a request: verifies its signature against the registered certificate
    of the RequestID's originator, or - with ``allow_unsigned`` - accepts an unsigned or
    placeholder-signed request as coming from its originator."""

    def __init__(
        self,
        certificates: CertificateIndex,
        *,
        allow_unsigned: bool = False,
        clock: Callable[[], datetime] | None = None,
        engine: SignatureEngine = "fast",
    ) -> None:
        self.certificates = certificates
        self.allow_unsigned = allow_unsigned
        self._verifier = XmlSignatureVerifier(clock=clock, engine=engine)

    def authenticate(self, request: DuisRequest) -> bytes:
        """The sending user's EUI; :class:`ServiceError` when the request may not be trusted."""
        return self.identify(request)[0]

    def identify(self, request: DuisRequest) -> tuple[bytes, RegisteredCertificate | None]:
        """:meth:`authenticate`, with the registered certificate that verified the signature
        (``None`` for a request accepted unsigned)."""
        originator = request.header.request_id.originator
        if request.signature is None or request.is_placeholder_signed:
            detail = "unsigned" if request.signature is None else "placeholder-signed"
            if self.allow_unsigned:
                logger.debug(
                    "accepting %s request %s from %s (--allow-unsigned)",
                    detail,
                    request.header.service_reference_variant.value,
                    originator.hex("-").upper(),
                )
                return originator, None
            raise ServiceError("duis_unsigned", detail=detail)
        key = request.key_reference()
        if key is None:
            raise ServiceError(
                "duis_bad_signature",
                originator=originator,
                reason="its KeyInfo must hold X509Data/X509IssuerSerial (issuer name and serial)",
            )
        registered = self.certificates.find(key.issuer, key.serial)
        if registered is None:
            raise ServiceError("duis_unknown_certificate", issuer=key.issuer, serial=key.serial)
        if registered.owner != originator:
            raise ServiceError(
                "duis_certificate_not_originator",
                issuer=key.issuer,
                serial=key.serial,
                owner=registered.owner,
                originator=originator,
            )
        try:
            self._verifier.verify(request.root, registered.certificate)
        except InvalidSignatureError as exc:
            raise ServiceError(
                "duis_bad_signature", originator=originator, reason=str(exc)
            ) from None
        return originator, registered

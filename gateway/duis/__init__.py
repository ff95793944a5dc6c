"""DUIS: the XML the DCC User Gateway speaks - parse, validate, build, sign and verify.

- :mod:`gateway.duis.xml`: safe parsing (no entities, DTDs or network; DOCTYPE refused; size cap).
- :mod:`gateway.duis.envelope`: the request envelope as typed values (:class:`DuisRequest`).
- :mod:`gateway.duis.catalogue`: service reference variants, command variants, endpoints.
- :mod:`gateway.duis.schema`: validation against the real DUIS 5.x schema, loaded at run time.
- :mod:`gateway.duis.signature`: XML signatures in the DUIS profile (signxml), the client-side
  signer and the pinned-certificate verifier.
- :mod:`gateway.duis.build`: responses that validate against the DUIS 5.4 schema.
- :mod:`gateway.duis.nondevice`: the non-device SR bodies to and from the service model.
- :mod:`gateway.duis.router`: the front door pipeline and the handler registry.
"""

from __future__ import annotations

from gateway.duis.catalogue import CommandVariant, Endpoint, ServiceReferenceVariant
from gateway.duis.envelope import (
    DuisRequest,
    KeyReference,
    RequestHeader,
    format_request_id,
    parse_request,
    parse_request_id,
)
from gateway.duis.router import FrontDoor, Handler, Outcome, Reply, RequestContext, Router
from gateway.duis.schema import DuisSchema, SchemaLoadError
from gateway.duis.signature import (
    CertificateIndex,
    InvalidSignatureError,
    RequestAuthenticator,
    XmlSignatureVerifier,
    XmlSigner,
)
from gateway.duis.xml import DS_NS, RA_NS, SR_NS, parse_document

__all__ = [
    "DS_NS",
    "RA_NS",
    "SR_NS",
    "CertificateIndex",
    "CommandVariant",
    "DuisRequest",
    "DuisSchema",
    "Endpoint",
    "FrontDoor",
    "Handler",
    "InvalidSignatureError",
    "KeyReference",
    "Outcome",
    "Reply",
    "RequestAuthenticator",
    "RequestContext",
    "RequestHeader",
    "Router",
    "SchemaLoadError",
    "ServiceReferenceVariant",
    "XmlSignatureVerifier",
    "XmlSigner",
    "format_request_id",
    "parse_document",
    "parse_request",
    "parse_request_id",
]

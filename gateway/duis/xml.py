"""Safe XML parsing for the DUIS front door.

Every byte a user sends goes through :func:`parse_document`: entity resolution, DTD loading
and network access are off, a DOCTYPE is refused, ``huge_tree`` is off and the body size is
capped. Comments and processing instructions are dropped while parsing, so that a text value
cannot be split by a comment that the (comment-free) exclusive canonicalisation of the XML
signature does not cover.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from lxml import etree

from gateway.errors import ServiceError

SR_NS: Final = "http://www.dccinterface.co.uk/ServiceUserGateway"
"""Namespace of DUIS requests and responses (prefix ``sr``)."""
DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
"""Namespace of XML signatures (prefix ``ds``)."""
RA_NS: Final = "http://www.dccinterface.co.uk/ResponseAndAlert"
"""Namespace of the MMC response-and-alert types (prefix ``ra``)."""
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"

DEFAULT_MAX_BODY_BYTES: Final = 2 * 1024 * 1024
"""The default cap on a request body (DUIS requests are a few kB; firmware SRs are larger)."""

_local = threading.local()


def _parser() -> etree.XMLParser:
    """One safe parser per thread (an lxml parser must not be shared between threads)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            strip_cdata=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def sr(name: str) -> str:
    """The Clark name of a DUIS element: ``sr("Header")`` -> ``{...ServiceUserGateway}Header``."""
    return f"{{{SR_NS}}}{name}"


def ds(name: str) -> str:
    """The Clark name of an XML-signature element."""
    return f"{{{DS_NS}}}{name}"


def is_element(node: etree._Element) -> bool:
    """False for comments, processing instructions and entities (whose tag is not a string)."""
    tag: Any = node.tag
    return isinstance(tag, str)


def local_name(element: etree._Element) -> str:
    """The tag of ``element`` without its namespace."""
    tag: Any = element.tag
    if isinstance(tag, str):  # "{namespace}local" or "local": no QName object needed
        return tag[tag.find("}") + 1 :]
    return etree.QName(element).localname


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def parse_document(body: bytes, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> etree._Element:
    """Parse ``body`` safely and return its root element.

    Raises :class:`ServiceError` (``duis_body_too_large``, ``duis_not_well_formed``,
    ``duis_doctype``) for anything that is not one well-formed XML document without a DOCTYPE.
    """
    if len(body) > max_bytes:
        raise ServiceError("duis_body_too_large", size=len(body), limit=max_bytes)
    if b"<!DOCTYPE" in body:
        raise ServiceError("duis_doctype")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise ServiceError("duis_not_well_formed", reason=_first_line(exc)) from None
    except ValueError as exc:  # e.g. an unknown encoding named in the XML declaration
        raise ServiceError("duis_not_well_formed", reason=_first_line(exc)) from None
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        # A DOCTYPE in another encoding (e.g. UTF-16) escapes the byte check above.
        raise ServiceError("duis_doctype")
    return root

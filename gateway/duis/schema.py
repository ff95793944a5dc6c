"""Validation against the real DUIS schema, loaded at run time from a directory.

The project cannot ship the DUIS schema (an SEC artefact), so ``smetsim gateway --duis-schema
DIR`` points at a folder holding ``DUIS Schema V5.x.xsd`` with the MMC and XMLDSig schemas it
imports. Validation runs in libxml2 (lxml) - tens of microseconds a request - and only files
inside that folder are ever opened: no network, no external DTD.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.errors import GatewayError, ServiceError

_XS = "http://www.w3.org/2001/XMLSchema"
_NAME = re.compile(r"DUIS Schema V(\d+)\.(\d+)\.xsd")


class SchemaLoadError(GatewayError):
    """The schema folder is missing, incomplete or does not compile (a local error)."""


_REFUSED = "<refused-outside-the-schema-folder/>"


class _FolderResolver(etree.Resolver):
    """Resolves imports to files inside one folder; anything else to a stub document that is
    not a schema (so the compile fails, naming it) - never the network or another folder."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self._folder = folder.resolve()

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        this: Any = self  # lxml-stubs lack resolve_filename
        if not system_url:
            return this.resolve_string(_REFUSED, context)
        path = _as_local_path(system_url)
        if path is not None:
            try:
                path = path.resolve()
            except OSError:
                return this.resolve_string(_REFUSED, context)
            if path.parent == self._folder and path.is_file():
                return this.resolve_filename(str(path), context)
        return this.resolve_string(_REFUSED, context)


def _as_local_path(url: str) -> Path | None:
    if url.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(url).path))
    if "://" in url:
        return None
    return Path(url)


def find_schema_file(folder: Path) -> Path:
    """The newest ``DUIS Schema V5.x.xsd`` in ``folder``; :class:`SchemaLoadError` if none."""
    if not folder.is_dir():
        raise SchemaLoadError(f"DUIS schema folder {str(folder)!r} does not exist")
    found: list[tuple[tuple[int, int], Path]] = []
    for path in folder.iterdir():
        match = _NAME.fullmatch(path.name)
        if match and match.group(1) == "5":
            found.append(((int(match.group(1)), int(match.group(2))), path))
    if not found:
        raise SchemaLoadError(
            f"DUIS schema folder {str(folder)!r} holds no 'DUIS Schema V5.x.xsd' file"
        )
    return max(found)[1]


class DuisSchema:
    """A compiled DUIS 5.x schema; :meth:`validate` raises ``duis_schema_invalid``."""

    def __init__(self, schema: etree.XMLSchema, path: Path) -> None:
        self._schema = schema
        self.path = path

    @classmethod
    def load(cls, folder: Path) -> DuisSchema:
        """Compile the schema found in ``folder`` (see :func:`find_schema_file`)."""
        path = find_schema_file(folder)
        parser = etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=True)
        parser.resolvers.add(_FolderResolver(path.parent))
        try:
            document = etree.parse(str(path), parser)
            for imported in document.getroot().iter(f"{{{_XS}}}import", f"{{{_XS}}}include"):
                location = imported.get("schemaLocation")
                if location and "://" not in location:
                    imported.set("schemaLocation", (path.parent / location).resolve().as_uri())
            schema = etree.XMLSchema(document)
        except (etree.XMLSyntaxError, etree.XMLSchemaParseError, OSError) as exc:
            raise SchemaLoadError(f"cannot load the DUIS schema {str(path)!r}: {exc}") from None
        return cls(schema, path)

    def errors(self, root: etree._Element) -> list[str]:
        """The schema's complaints about ``root`` (empty when valid)."""
        if self._schema.validate(root):
            return []
        log: Any = self._schema.error_log
        return [f"line {e.line}: {e.message}" for e in log]

    def validate(self, root: etree._Element) -> None:
        """Raise :class:`ServiceError` ``duis_schema_invalid`` with the first complaint."""
        if self._schema.validate(root):
            return
        log: Any = self._schema.error_log
        first = next(iter(log), None)
        reason = f"line {first.line}: {first.message}" if first is not None else "invalid"
        raise ServiceError("duis_schema_invalid", reason=reason)

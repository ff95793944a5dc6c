"""The one table of rule -> DUIS response code: schema-allowed codes, sentences, the doc."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import RESPONSE_CODES, ServiceError, format_value

ROOT = Path(__file__).resolve().parents[2]
XS = "{http://www.w3.org/2001/XMLSchema}"


def _schema_response_codes(conformance: Path) -> set[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    tree = etree.parse(str(conformance / "duis" / "schema" / "DUIS Schema V5.4.xsd"), parser)
    (simple,) = [
        node
        for node in tree.getroot().iter(f"{XS}simpleType")
        if node.get("name") == "ResponseCode"
    ]
    return {str(e.get("value")) for e in simple.iter(f"{XS}enumeration")}


def test_every_code_is_allowed_by_the_duis_schema(conformance: Path) -> None:
    allowed = _schema_response_codes(conformance)
    assert "E080405" in allowed  # the parse found the real enumeration
    bad = {rule: e.code for rule, e in RESPONSE_CODES.items() if e.code not in allowed}
    assert bad == {}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("rule", sorted(RESPONSE_CODES))
def test_every_sentence_formats_and_names_its_values(rule: str) -> None:
    names = _fields(RESPONSE_CODES[rule].template)
    values = {name: f"<{name}>" for name in names}
    error = ServiceError(rule, **values)
    assert error.code == RESPONSE_CODES[rule].code
    assert error.rule == rule
    for name in names:
        assert f"<{name}>" in error.sentence
    assert error.sentence.endswith(".")
    assert str(error).startswith(f"{error.code}: ")


def test_euis_print_in_duis_form() -> None:
    error = ServiceError("unknown_user", sender=bytes.fromhex("90b3d51f30010000"))
    assert error.sentence == "90-B3-D5-1F-30-01-00-00 is not a registered DCC User."
    assert format_value(b"\x01\x02") == "0102"


def test_documented_table_lists_every_rule_with_its_code() -> None:
    doc = (ROOT / "docs" / "response-codes.md").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*`?([EIW][0-9]+)`?\s*\|", doc, re.M)
    }
    missing = {rule: e.code for rule, e in RESPONSE_CODES.items() if rows.get(rule) != e.code}
    assert missing == {}

"""The payload package imports its codecs lazily: the first bytes it tells kinds apart by are
the codecs' own, and the lazily re-exported names are the codecs' classes."""

from __future__ import annotations

import pytest

import gbcs.payloads as payloads
from gbcs.payloads import asn1, dlms, gbz


def test_the_kind_bytes_are_the_codecs_constants() -> None:
    assert {
        dlms.TAG_ACCESS_REQUEST,
        dlms.TAG_ACCESS_RESPONSE,
        dlms.TAG_DATA_NOTIFICATION,
    } == payloads._DLMS_TAGS
    assert payloads._GBZ_PROFILE_ID == gbz.PROFILE_ID


def test_lazy_names_are_the_codec_classes() -> None:
    assert payloads.AccessResponse is dlms.AccessResponse
    assert payloads.GbzAlert is gbz.GbzAlert
    assert payloads.Der is asn1.Der
    with pytest.raises(AttributeError, match="Nothing"):
        payloads.Nothing  # type: ignore[attr-defined]  # noqa: B018

"""Read answers as values: the plaintexts the emulated meters write read back exactly, and
``smetsim decode`` shows a read's answer as labelled values with units and times."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbcs.errors import DecodeError
from gbcs.explain import explain
from gbcs.keystore import Keystore
from gbcs.payloads import read_values as rv


def test_each_plaintext_reads_back() -> None:
    pairs = [(473_299_200, 95), (473_301_000, 0), (473_302_800, 4_000_000_000)]
    assert rv.read_pairs_plaintext(rv.pairs_plaintext(pairs)) == pairs
    tou = [5, 0, 7]
    primary, secondary = rv.read_tou_plaintext(rv.tou_plaintext(tou, [1, 2, 3, 4]))
    assert primary == tou + [0] * 45
    assert secondary == [1, 2, 3, 4]
    assert rv.read_samples_plaintext(rv.samples_plaintext(1000, [1, 2, 0xFF_FFFF])) == (
        1000,
        [1, 2, 0xFF_FFFF],
    )
    daily = [(86_400, 10, [1] * 48), (172_800, 58, [2] * 48)]
    assert rv.read_daily_plaintext(rv.daily_plaintext(daily)) == daily


def test_a_plaintext_of_another_shape_is_refused() -> None:
    with pytest.raises(DecodeError):
        rv.read_pairs_plaintext(rv.daily_plaintext([(0, 1, [0] * 48)]))
    with pytest.raises(DecodeError):
        rv.read_pairs_plaintext(rv.pairs_plaintext([(1, 2)])[:-1])


def test_labels_name_the_times_and_units() -> None:
    plaintext = rv.pairs_plaintext([(473_299_200, 95)])
    assert rv.labelled(0x0037, b"", [plaintext]) == ["2014-12-31T00:00:00Z  95 Wh"]
    assert rv.labelled(0x0060, b"", [plaintext]) == ["day to 2014-12-31T00:00:00Z  95 Wh"]
    samples = rv.samples_plaintext(473_299_200, [1500])
    assert rv.labelled(0x0078, b"", [samples]) == ["2014-12-31T00:00:00Z  1.5 m3"]
    assert rv.labelled(0x0037, b"", [b"\x00"]) == []  # not the shape: no values, no error


def test_decode_shows_the_dcc_profile_answer_as_half_hours(conformance: Path) -> None:
    folder = conformance / "gbcs/4.8.1_ECS22b"
    data = bytes.fromhex((folder / "ECS22b_4.8.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX").read_text())
    found = explain(data, Keystore.load(conformance / "keystore"))
    # The command asked for 2014-12-31T00:00Z to 2015-01-01T00:00Z: 49 half-hour ends.
    assert len(found.values) == 49
    assert found.values[0].startswith("2014-12-31T00:00:00Z ")
    assert found.values[-1].startswith("2015-01-01T00:00:00Z ")
    assert all(v.endswith(" Wh") for v in found.values)
    assert "values" in found.render("x")
    assert found.as_json("x")["values"] == list(found.values)

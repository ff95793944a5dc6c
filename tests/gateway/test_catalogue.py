"""The service-request catalogue: every DUIS 5.4 variant, true to the DCC's matrix, and the
page and command that show it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.errors import ServiceError
from gateway.srv.catalogue import CATALOGUE, Entry, entry
from gateway.srv.reading import ReadImportRegisters
from gateway.srv.registry import CODECS
from gbcs.devices import DeviceType
from gbcs.usecases import by_name
from smetsim.commands._root import app
from smetsim.commands.catalogue import catalogue_markdown

ROOT = Path(__file__).resolve().parents[2]
_PATTERNS = {"No": "none", "DSP": "DSP", "Device": "Device", "DSP & Device": "DSP & Device"}


def test_every_variant_of_the_schema_has_a_row() -> None:
    assert len(CATALOGUE) == 129
    assert set(CATALOGUE) == set(ServiceReferenceVariant)


def test_rows_hold_the_dcc_request_matrix(conformance: Path) -> None:
    matrix = json.loads((conformance / "reference/duis-request-matrix.json").read_text())
    assert len(matrix) == len(CATALOGUE)
    for fact in matrix:
        row = CATALOGUE[ServiceReferenceVariant(fact["Service Reference Variant"])].row
        where = row.srv.value
        assert row.name == " ".join(
            fact["Service Request Name"].split()[: len(row.name.split())]
        ), where
        assert row.critical == (fact["Critical"] == "Yes"), where
        assert row.on_demand == (fact["On Demand"] == "Yes"), where
        assert row.dcc_scheduled == (fact["DCC Scheduled"] == "Yes"), where
        assert row.non_device == (fact["Non-Device Request"] == "Yes"), where
        assert row.future_dated.value == _PATTERNS[fact["Future Dated Response Pattern"]], where
        assert {r.value for r in row.roles} == set(fact["Eligible User Roles"]), where


def test_device_rows_name_use_cases_and_non_device_rows_none() -> None:
    for e in CATALOGUE.values():
        if e.row.non_device:
            assert not e.row.use_cases, e.srv
        elif e.srv is not ServiceReferenceVariant.SR_8_5:
            assert e.row.use_cases, e.srv


def test_a_codec_builds_only_use_cases_gbcs_knows_and_its_row_names() -> None:
    for variant, codec in CODECS.items():
        names = set(CATALOGUE[variant].row.use_case_names)
        assert codec.builds <= names, variant
        for name in codec.builds:
            assert by_name(name).name.split("/")[0] == name.split("/")[0]


def test_the_use_case_of_a_request_by_device_type() -> None:
    e = entry("4.1.1")
    assert e.use_case(DeviceType.GSME, ReadImportRegisters(), b"\x00" * 8) == "GCS13a"
    with pytest.raises(ServiceError) as wrong:
        e.use_case(DeviceType.CHF, ReadImportRegisters(), b"\x00" * 8)
    assert wrong.value.code == "E48"


def test_an_unbuilt_use_case_is_e47_naming_it() -> None:
    # 4.10 with a codec that builds the ESME's ECS23 only: the GSME's GCS18 is not built.
    served = entry("4.10")
    assert served.codec is not None
    esme_only = dataclasses.replace(served.codec, builds=frozenset({"ECS23"}))
    e = Entry(served.row, esme_only, None)
    assert e.use_case(DeviceType.ESME, object(), b"\x00" * 8) == "ECS23"
    with pytest.raises(ServiceError) as missing:
        e.use_case(DeviceType.GSME, object(), b"\x00" * 8)
    assert missing.value.code == "E47"
    assert "GCS18" in str(missing.value)


def test_the_page_is_the_catalogue() -> None:
    page = (ROOT / "docs/service-requests.md").read_text()
    assert page == catalogue_markdown(), (
        "docs/service-requests.md is stale: run `smetsim catalogue --markdown > "
        "docs/service-requests.md`"
    )


def test_catalogue_json_lists_every_variant() -> None:
    result = CliRunner().invoke(app, ["catalogue", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 129
    for row in rows:
        assert {"srv", "name", "served", "use_cases", "critical", "non_device"} <= set(row)
        assert isinstance(row["served"], bool)
        assert isinstance(row["use_cases"], list)
    served = {r["srv"] for r in rows if r["served"]}
    assert {"4.1.1", "7.2", "8.2", "12.2"} <= served
    assert "4.8.1" in {r["srv"] for r in rows}


def test_catalogue_table_counts_the_served() -> None:
    result = CliRunner().invoke(app, ["catalogue"])
    assert result.exit_code == 0, result.output
    assert "of 129 variants served" in result.output


def test_critical_srs_take_a_pre_command_and_the_others_do_not() -> None:
    # The schema's comments once gave 7.12/7.13 and 7.14/7.15 each other's variants; the
    # DCC's templates (7.14 sent with CV1) and its matrix agree with this.
    for e in CATALOGUE.values():
        if e.row.non_device or e.srv is ServiceReferenceVariant.SR_8_5:
            continue
        takes_precommand = 4 in {int(cv) for cv in e.row.command_variants}
        assert e.row.critical == takes_precommand, e.srv

"""SR8.13 Return Local Command Response: the device's answer to a locally delivered command
filed as the response to that command; everything else refused with nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import frame_log
from gateway.duis.envelope import parse_request
from gateway.duis.xml import parse_document
from gateway.errors import ServiceError
from gateway.model import NON_DEVICE_ACB, RequestId
from gateway.services.device_types import rid_text
from gateway.srv.han import LocalCommandResponse, read_local_response
from gateway.srv.reading import ReadImportRegisters
from gbcs.codes import SUPPLIER
from tests.gateway.test_device_service import ESME, Harness, hexfile
from tests.gateway.test_device_service import harness as harness  # the fixture

ORIGINAL = RequestId(SUPPLIER, ESME, 1000)


def _rid(counter: int) -> RequestId:
    return RequestId(SUPPLIER, NON_DEVICE_ACB, counter)


async def test_the_answer_of_a_local_command_is_filed_as_its_response(
    harness: Harness, conformance: Path
) -> None:
    service = harness.service
    accepted = await harness.submit(ReadImportRegisters(), "4.1.1", 1000, ESME, cv=2)
    assert accepted.local_command is not None
    assert service.request_state(ORIGINAL) == "local"
    answer = hexfile(conformance, "4.1.1_ECS17b", "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")
    done = await service.return_local_response(
        SUPPLIER, _rid(1001), LocalCommandResponse(ORIGINAL, answer)
    )
    assert done.code == "I0"
    (report,) = harness.reports
    assert (report.request_id, report.payload, report.code) == (ORIGINAL, answer, "I0")
    assert service.request_state(ORIGINAL) == "answered"
    # the frame log: the command returned for local delivery, then the answer
    with service.storage.transaction() as tx:
        frames = frame_log.frames_of(tx, rid_text(ORIGINAL))
    assert frames is not None
    assert [(f.direction, f.frame) for f in frames] == [
        ("down", accepted.local_command),
        ("up", answer),
    ]
    # once only
    with pytest.raises(ServiceError) as refused:
        await service.return_local_response(
            SUPPLIER, _rid(1002), LocalCommandResponse(ORIGINAL, answer)
        )
    assert refused.value.rule == "local_not_pending"


async def test_what_does_not_answer_the_local_command_is_refused(
    harness: Harness, conformance: Path
) -> None:
    service = harness.service
    await harness.submit(ReadImportRegisters(), "4.1.1", 1000, ESME, cv=2)
    other = hexfile(conformance, "8.11_CCS01", "CCS01_8.11_SUCCESS_RESPONSE_GBCS.HEX")
    answer = hexfile(conformance, "4.1.1_ECS17b", "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")
    cases = [
        (LocalCommandResponse(ORIGINAL, other), "local_response_mismatch"),
        (LocalCommandResponse(ORIGINAL, b"\x00\x01"), "local_response_mismatch"),
        (LocalCommandResponse(RequestId(SUPPLIER, ESME, 999), answer), "local_unknown_request"),
    ]
    for counter, (request, rule) in enumerate(cases, start=2000):
        with pytest.raises(ServiceError) as refused:
            await service.return_local_response(SUPPLIER, _rid(counter), request)
        assert refused.value.rule == rule
        assert refused.value.sentence
    assert harness.reports == []
    assert service.request_state(ORIGINAL) == "local"


def test_the_dcc_template_reads(conformance: Path) -> None:
    name = "8.13_RETURN_LOCAL_COMMAND_RESPONSE_CS06_REQUEST_DUIS.XML"
    xml = (conformance / "duis/templates" / name).read_bytes()
    request = read_local_response(parse_request(parse_document(xml)))
    assert request.original == ORIGINAL
    assert request.payload[:1] == b"\xdf"  # a GBCS general-signing message

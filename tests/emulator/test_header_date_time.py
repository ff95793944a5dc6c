"""The emulated devices' responses carry a GBCS header date-time exactly where the DCC's
reference responses (RTDS) do.

Every reference RESPONSE whose use case the emulated device's firmware lists is checked: the
reference command is rebuilt under the emulated devices' keys (as
:mod:`tests.emulator.test_conformance` does) and sent to a fresh sandbox fleet; the
response's ``date_time`` must be present exactly when the reference's is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from emulator.fleet import Fleet
from gbcs import content as c
from gbcs.codes import CRA, SUPPLIER
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.payloads.dlms import CosemDateTime
from gbcs.usecases import use_case
from tests.emulator.support import CHF, ESME, SEED, T0, HeadEnd, pki_for, sandbox_fleet

NOW = datetime(2015, 1, 1, 0, 0, tzinfo=UTC)  # the references' own date
_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
_SUFFIX = "_RESPONSE_GBCS.HEX"


def _pairs() -> list[tuple[str, str]]:
    gbcs = _ROOT / "gbcs"
    if not gbcs.is_dir():
        return []
    return [
        (p.parent.name, p.name.removesuffix(_SUFFIX))
        for p in sorted(gbcs.glob(f"*/*{_SUFFIX}"))
        if (p.parent / f"{p.name.removesuffix(_SUFFIX)}_COMMAND_GBCS.HEX").is_file()
    ]


def _hex(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


@pytest.fixture(scope="module")
def reference_keys() -> Keystore:
    if not (_ROOT / "keystore").exists():
        pytest.skip("no conformance data")
    return Keystore.load(_ROOT / "keystore")


@pytest.mark.parametrize(("folder", "stem"), _pairs())
def test_the_response_has_a_date_time_where_the_reference_has(
    reference_keys: Keystore, folder: str, stem: str
) -> None:
    base = _ROOT / "gbcs" / folder
    real_command = Message.from_bytes(_hex(base / f"{stem}_COMMAND_GBCS.HEX"))
    real_response = Message.from_bytes(_hex(base / f"{stem}_RESPONSE_GBCS.HEX"))
    uc = use_case(real_command.message_code)
    if uc is None:
        pytest.skip(f"{real_command.message_code:#06x} is not a use case the emulator knows")

    fleet = Fleet(SEED, reference_keys, faults=False)
    if "TWIN" in stem:  # the twin-element reference meter: a variant B ESME
        fleet.add(ESME, "calder-cx3", hub=CHF)
        fleet.add(CHF, "tellurian-ch2-chf")
    else:
        fleet.add_sandbox_devices()
    if real_command.business_target not in fleet:
        pytest.skip("the reference's target is not an emulated device")
    head = HeadEnd(fleet, reference_keys, NOW)
    if frozenset(uc.names).isdisjoint(fleet.device(real_command.business_target, NOW).supported):
        pytest.skip(f"the emulated device's firmware does not list {uc.name}")
    ours = head.builder.command(
        originator=real_command.business_originator,
        target=real_command.business_target,
        counter=real_command.originator_counter,
        message_code=real_command.message_code,
        content=real_command.content,
        critical=uc.critical,
        date_time=real_command.date_time,
        extensions=real_command.extensions,
    )
    frames = fleet.handle(real_command.business_target, ours.to_bytes(), head.now)
    responses = [m for m in map(Message.from_bytes, frames) if m.cra is CRA.RESPONSE]
    if not responses:
        pytest.skip(f"the emulated device does not answer {uc.name}")
    (response,) = responses
    assert (response.date_time is None) == (real_response.date_time is None), (
        f"{uc.name}: reference date-time "
        f"{None if real_response.date_time is None else real_response.date_time.hex()}, "
        f"ours {None if response.date_time is None else response.date_time.hex()}"
    )


def test_the_date_time_is_the_device_clock_when_it_answers() -> None:
    """The stamp is the meter's own clock (offset from the host's), not the host's time."""

    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for(), T0)
    esme = fleet.device(ESME, T0)
    esme.clock_offset = 3 * 3600 + 125  # the meter runs 3h 2m 5s fast
    answer = head.send(
        head.command(ESME, c.ReadImportRegisters(head.next_counter(), SUPPLIER, ESME))
    )
    assert answer.response is not None
    assert answer.response.date_time is not None
    stamped = CosemDateTime.from_bytes(answer.response.date_time).to_datetime()
    assert stamped == datetime(2024, 1, 15, 12, 2, 5, tzinfo=UTC)


def test_a_use_case_gbcs_does_not_date_answers_without_one() -> None:
    """ECS52 (the ESME's firmware version read) has no date-time in its reference."""

    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for(), T0)
    answer = head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())))
    assert answer.response is not None
    assert answer.response.date_time is None


def test_a_refused_dated_use_case_answers_with_the_date_time() -> None:
    """The DCC's ERROR references carry the date-time as the SUCCESS ones do."""
    from gbcs.codes import NETWORK_OPERATOR

    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for(), T0)
    # ECS17b naming the network operator as the requester: the ESME refuses it.
    cmd = c.ReadImportRegisters(head.next_counter(), NETWORK_OPERATOR, ESME)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    assert not c.decode_response(answer.response.message_code, answer.response.content).ok
    assert answer.response.date_time is not None

"""Future-dated SR6.15.1 end to end (the Device pattern): supplier A signs a handover of its
supplier role to B dated two hours ahead; the gateway sends it at once carrying the time, the
ESME acknowledges it and keeps trusting A; when the meter's clock passes the time it moves
the role to B and alerts 0x00CB, upon which the SMI records B. The cancellation (DUIS's
3000-12-31) sent before the time leaves A in place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gbcs import content as gc
from gbcs.codes import SUPPLIER
from smetsim.client import DuisClient
from smetsim.sandbox import CHF, ESME, Sandbox
from tests.e2e.support import MovableClock, SchemaCheck, request, start_clocked
from tests.e2e.test_change_of_supplier import (
    B,
    _credentials_holder,
    _final,
    _handover_body,
    _sent_command,
)


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, MovableClock]]:
    clock = MovableClock()
    sandbox = await start_clocked(tmp_path, clock, suppliers=1)
    try:
        yield sandbox, clock
    finally:
        await sandbox.close()


def _dated(sandbox: Sandbox, when: str) -> str:
    body = _handover_body(sandbox)
    opening = "<sr:UpdateSecurityCredentialsKRP>"
    return body.replace(opening, f"{opening}<sr:ExecutionDateTime>{when}</sr:ExecutionDateTime>")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _pass_time(sandbox: Sandbox, clock: MovableClock, to: datetime) -> None:
    clock.now = to
    for out in sandbox.fleet.advance(clock()):
        sandbox.wan.hubs.send_up(out.eui, out.frame, 0.0)


async def test_a_future_dated_handover_runs_on_the_meter_at_its_time(
    clocked: tuple[Sandbox, MovableClock], schema: SchemaCheck
) -> None:
    sandbox, clock = clocked
    when = clock.now + timedelta(hours=2)
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        xml = request(c, "6.15.1", ESME, _dated(sandbox, _stamp(when)), cv=4)
        message = await _final(c, xml, schema, sign=True)
    acknowledged = gc.decode_response(0x0102, message.content)
    assert isinstance(acknowledged, gc.CredentialsUpdated)
    assert acknowledged.accepted
    command = gc.UpdateSecurityCredentials.decode_as(0x0102, _sent_command(sandbox))
    assert command.execute_at == when
    assert sandbox.fleet.device(ESME, 0).trust.supplier == SUPPLIER
    assert _credentials_holder(sandbox) is None  # the acknowledgement changes nothing

    await _pass_time(sandbox, clock, when + timedelta(minutes=1))
    for _ in range(200):
        if _credentials_holder(sandbox) == B:
            break
        await asyncio.sleep(0.01)
    assert _credentials_holder(sandbox) == B
    assert sandbox.fleet.device(ESME, clock()).trust.supplier == B


async def test_the_cancellation_leaves_the_supplier_in_place(
    clocked: tuple[Sandbox, MovableClock], schema: SchemaCheck
) -> None:
    sandbox, clock = clocked
    when = clock.now + timedelta(hours=2)
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        xml = request(c, "6.15.1", ESME, _dated(sandbox, _stamp(when)), cv=4)
        await _final(c, xml, schema, sign=True)
        assert "scheduled" in sandbox.fleet.device(ESME, 0).family_state("security")
        xml = request(c, "6.15.1", ESME, _dated(sandbox, "3000-12-31T00:00:00Z"), cv=4)
        message = await _final(c, xml, schema, sign=True)
    assert gc.decode_response(0x0102, message.content).accepted  # type: ignore[union-attr]
    command = gc.UpdateSecurityCredentials.decode_as(0x0102, _sent_command(sandbox))
    assert command.execute_at is not None
    assert command.execute_at.year == 9999
    assert "scheduled" not in sandbox.fleet.device(ESME, 0).family_state("security")

    await _pass_time(sandbox, clock, when + timedelta(minutes=1))
    await asyncio.sleep(0.05)
    assert sandbox.fleet.device(ESME, clock()).trust.supplier == SUPPLIER
    assert _credentials_holder(sandbox) is None


async def test_a_future_dated_update_to_the_hub_is_refused(
    clocked: tuple[Sandbox, MovableClock],
) -> None:
    sandbox, clock = clocked
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        later = _stamp(clock.now + timedelta(hours=1))
        answer = await c.post(request(c, "6.15.1", CHF, _dated(sandbox, later), cv=4))
    assert answer.code == "E42", (answer.code, answer.reason)
    assert "only the meters execute" in answer.reason


async def test_an_execution_time_in_the_past_is_refused(
    clocked: tuple[Sandbox, MovableClock],
) -> None:
    sandbox, clock = clocked
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        past = _stamp(clock.now - timedelta(hours=1))
        answer = await c.post(request(c, "6.15.1", ESME, _dated(sandbox, past), cv=4))
    assert answer.code == "E42", (answer.code, answer.reason)
    assert "is not after the DCC's time" in answer.reason
    assert "scheduled" not in sandbox.fleet.device(ESME, 0).family_state("security")

"""Helpers of the end-to-end tests: requests, schema checks, decoding answers."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from gateway.model import DeviceRecord
from gbcs.builders import Builder
from gbcs.codes import SUPPLIER
from gbcs.frames import Message
from gbcs.keystore import KeyLookup
from smetsim.client import DuisClient, Outcome, build_request
from smetsim.sandbox import Sandbox, SandboxSettings, prepare_sandbox_state
from smetsim.sandbox_workers import worker_arguments
from smetsim.worker_mesh import WorkerMesh

TEMPLATES = "duis/templates"


def request(
    client: DuisClient,
    srv: str,
    target: bytes,
    body: str,
    *,
    cv: int = 1,
    originator: bytes = SUPPLIER,
    counter: int | None = None,
) -> bytes:
    return build_request(
        service_reference_variant=srv,
        command_variant=cv,
        originator=originator,
        target=target,
        counter=client.fresh_counter() if counter is None else counter,
        body=body,
    )


def template(conformance: Path, name: str) -> bytes:
    return (conformance / TEMPLATES / name).read_bytes()


def request_id(xml: bytes) -> str:
    match = re.search(rb"<sr:RequestID>([^<]+)<", xml)
    assert match is not None
    return match.group(1).decode()


def gbcs_of(xml: bytes) -> Message:
    match = re.search(rb"<sr:GBCSPayload>([^<]+)<", xml)
    assert match is not None, xml[:500]
    return Message.from_bytes(base64.b64decode(match.group(1)))


def decrypter(keys: KeyLookup, message: Message):  # type: ignore[no-untyped-def]
    builder = Builder(keys)
    return lambda framed: builder.decrypt_payload(message, framed)


class SchemaCheck:
    """Validates answers against the real DUIS 5.4 schema (when the conformance data is here)."""

    def __init__(self, conformance: Path | None) -> None:
        self.schema = None
        if conformance is not None:
            from gateway.duis.schema import DuisSchema

            self.schema = DuisSchema.load(conformance / "duis" / "schema")

    def __call__(self, xml: bytes) -> None:
        if self.schema is None:
            return
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        errors = self.schema.errors(etree.fromstring(xml, parser))
        assert errors == [], errors

    def response(self, outcome: Outcome) -> Message:
        """The GBCS of ``outcome``'s final answer, which must be a device's response and
        valid against the schema."""
        assert outcome.final is not None, "no answer in time"
        assert outcome.final.kind == "response", outcome.final.body
        self(outcome.final.body)
        return gbcs_of(outcome.final.body)


@asynccontextmanager
async def two_workers(settings: SandboxSettings) -> AsyncIterator[list[Sandbox]]:
    """Two sandbox workers on the state of ``settings`` (what ``smetsim sandbox --workers 2``
    runs), in this process with a port each: worker 0 hosts the fleet."""
    await prepare_sandbox_state(settings)
    token = secrets.token_hex(8)
    started: list[Sandbox] = []
    try:
        for index in range(2):
            own, _, count, _ = worker_arguments(settings, index, 2, token)
            started.append(await Sandbox.start(own, mesh=WorkerMesh(token, index, count)))
        yield started
    finally:
        for sandbox in started:
            await sandbox.close()


async def recorded_firmware(sandbox: Sandbox, device: bytes, version: str) -> DeviceRecord:
    """The SMI's record of ``device`` once it holds firmware ``version`` (the device service
    follows the device's activation asynchronously); after 5 s, as it is then."""
    for _ in range(500):
        record = sandbox.gateway.service.get_device(device)
        assert record is not None
        if record.firmware_version == version:
            break
        await asyncio.sleep(0.01)
    return record


class MovableClock:
    """The sandbox's clock, moved by the test (``clock.now += timedelta(...)``) instead of
    waiting: start it with ``Sandbox.start(settings, clock=clock)``."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


async def start_clocked(tmp_path: Path, clock: MovableClock, **settings: Any) -> Sandbox:
    """A sandbox of the default home on ``clock``, in-process, with 2 s for a device's
    answer; ``settings`` as :meth:`SandboxSettings.create` takes them. The caller closes it."""
    return await Sandbox.start(
        SandboxSettings.create(
            state=tmp_path / "state",
            port=0,
            latency=False,
            response_timeout=2.0,
            durability="process",
            **settings,
        ),
        clock=clock,
    )

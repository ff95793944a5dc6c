"""Several gateway processes on one state (`smetsim gateway --workers N`): each worker learns
of certificates registered through another, a request signed with a certificate replaced
meanwhile is refused in the transaction that would apply it, RequestID counters hold across
workers, and the workers follow their supervisor (even when it is SIGKILLed)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from gateway.anomaly import Threshold
from gateway.config import ConfigError, GatewaySettings, settings_from_mapping
from gateway.duis.catalogue import Endpoint
from gateway.duis.signature import XmlSigner
from gateway.errors import RESPONSE_CODES
from gateway.server import Gateway
from gateway.users import User, UserRole
from gateway.workers import worker_settings
from tests.gateway.duis.support import (
    eui_text,
    prenotification_body,
    request_document,
    state_with_pki,
)
from tests.gateway.test_durability import code_of

ROOT = Path(__file__).resolve().parents[2]
USER = bytes.fromhex("90b3d51f3f000001")
REPLAYED = RESPONSE_CODES["request_id_replayed"].code


def new_signer(name: str) -> XmlSigner:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return XmlSigner(key, certificate)


def pem_of(signer: XmlSigner) -> str:
    return signer.certificate.public_bytes(Encoding.PEM).decode()


def prenotify(signer: XmlSigner, counter: int, device: int) -> bytes:
    body = prenotification_body(bytes.fromhex(f"00db0000{device:08x}"))
    document = request_document(originator=USER, counter=counter, srv="12.2", body=body)
    return signer.sign_bytes(document)


def test_worker_settings_leave_seeding_to_the_supervisor_and_rdp_to_worker_0() -> None:
    settings = GatewaySettings(
        rdp_flush_interval=5.0,
        rdp_inbox_interval=7.0,
        workers=3,
        anomaly_thresholds=(Threshold(None, "7.2", 3, period_s=60),),
    )
    first, second = worker_settings(settings, 0), worker_settings(settings, 1)
    assert not first.seed_defaults
    assert first.users == ()
    assert first.meter_points == ()
    assert first.anomaly_thresholds == ()  # set by the supervisor, once
    assert (first.rdp_flush_interval, first.rdp_inbox_interval) == (5.0, 7.0)
    assert (second.rdp_flush_interval, second.rdp_inbox_interval) == (0.0, 0.0)


async def test_workers_share_users_and_refuse_a_replaced_certificate(tmp_path: Path) -> None:
    state = state_with_pki(tmp_path / "state")
    settings = GatewaySettings(state=state, durability="process")
    one = Gateway.open(settings)
    other = Gateway.open(worker_settings(settings, 1))
    try:
        old, new = new_signer("user key 1"), new_signer("user key 2")
        await one.commits.run(
            lambda: one.users.add_or_update(User(USER, frozenset({UserRole.IS}), pem_of(old)))
        )
        # Registered through the first: the other rereads the users on the unknown certificate.
        accepted = await other.front_door.handle(Endpoint.SERVICE_D, prenotify(old, 1, 1))
        assert accepted.code == "I0", accepted.reason

        # Replaced through the first while the other still indexes the old one: the old key's
        # signature verifies there, and the transaction refuses it, consuming nothing.
        await one.commits.run(
            lambda: one.users.add_or_update(User(USER, frozenset({UserRole.IS}), pem_of(new)))
        )
        refused = await other.front_door.handle(Endpoint.SERVICE_D, prenotify(old, 2, 2))
        assert refused.code == "E45"
        assert refused.rule == "duis_certificate_replaced"
        assert refused.reason is not None
        assert "no longer the one registered" in refused.reason
        assert other.service.get_device(bytes.fromhex("00db000000000002")) is None

        # The new certificate is learnt on its first use; counter 2 was not consumed.
        again = await other.front_door.handle(Endpoint.SERVICE_D, prenotify(new, 2, 2))
        assert again.code == "I0", again.reason
        stale = await other.front_door.handle(Endpoint.SERVICE_D, prenotify(old, 3, 3))
        assert stale.rule == "duis_unknown_certificate"
    finally:
        await other.close()
        await one.close()


async def test_admin_refuses_a_certificate_registered_through_another_worker(
    tmp_path: Path,
) -> None:
    state = state_with_pki(tmp_path / "state")
    settings = GatewaySettings(state=state, durability="process")
    one = Gateway.open(settings)
    other = Gateway.open(worker_settings(settings, 1))
    try:
        signer = new_signer("shared key")
        await one.commits.run(
            lambda: one.users.add_or_update(User(USER, frozenset({UserRole.IS}), pem_of(signer)))
        )
        await other.start()
        assert other.listening is not None
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{other.listening.url}/admin/users",
                json={
                    "eui": "90-B3-D5-1F-3F-00-00-02",
                    "roles": ["IS"],
                    "certificate": pem_of(signer),
                },
            ) as response,
        ):
            assert response.status == 400
            error = (await response.json())["error"]
        assert f"already registered to {eui_text(USER)}" in error
    finally:
        await other.close()
        await one.close()


@contextlib.asynccontextmanager
async def supervisor(
    state: Path, workers: int
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, list[int]]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smetsim.cli", "gateway", "--state", str(state), "--port", "0",
        "--workers", str(workers), "--log-level", "warning",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    pids: list[int] = []
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        match = re.search(r"listening on (http://\S+) .*worker processes: ([0-9, ]+)", line)
        assert match, f"the gateway did not start: {line!r}"
        pids = [int(p) for p in match.group(2).split(", ")]
        yield process, match.group(1), pids
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        for pid in pids:
            await _gone(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by the vanished supervisor) counts as gone.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


async def _gone(pid: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10.0
    while _alive(pid):
        assert loop.time() < deadline, f"worker {pid} outlived its supervisor"
        await asyncio.sleep(0.05)


async def _post(url: str, document: bytes) -> str:
    # A new connection each time, so that requests spread over the workers.
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/v1/serviceD", data=document) as response,
    ):
        return code_of(await response.read())


async def test_workers_serve_one_port_and_follow_their_supervisor(tmp_path: Path) -> None:
    state = state_with_pki(tmp_path / "state")
    signer = new_signer("process user")
    async with supervisor(state, 2) as (process, url, pids):
        assert len(pids) == 2
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{url}/admin/users",
                json={"eui": eui_text(USER), "roles": ["IS"], "certificate": pem_of(signer)},
            ) as response,
        ):
            assert response.status == 200, await response.text()
        # One user's requests in order, each on a new connection (so over both workers): the
        # counters are checked against the one database whichever worker a request reaches.
        codes = [await _post(url, prenotify(signer, n, n)) for n in range(1, 9)]
        assert codes == ["I0"] * 8
        assert await _post(url, prenotify(signer, 8, 100)) == REPLAYED
        process.send_signal(signal.SIGKILL)
        await process.wait()
        for pid in pids:
            await _gone(pid)
    # Restarted on the same state: what was acknowledged is there, counters carry on.
    async with supervisor(state, 2) as (process, url, _):
        assert await _post(url, prenotify(signer, 8, 101)) == REPLAYED
        assert await _post(url, prenotify(signer, 9, 102)) == "I0"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0


def test_workers_setting_from_the_config_file() -> None:
    assert settings_from_mapping({"gateway": {"workers": 2}}).workers == 2
    assert settings_from_mapping({}).workers == 1
    with pytest.raises(ConfigError, match=r"\[gateway\] workers = 0 is invalid"):
        settings_from_mapping({"gateway": {"workers": 0}})

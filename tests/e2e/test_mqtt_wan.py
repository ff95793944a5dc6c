"""The gateway's WAN through a real MQTT broker (mosquitto): DUIS over HTTP in, GBCS published
to the hub's topic, answered by a fleet worker holding the devices, the signed answer in the
inbox. A worker that goes away makes its hub unreachable (E1001), not hung on."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import ipaddress
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

from emulator.fleet import Fleet
from gbcs.codes import CRA, SUPPLIER
from gbcs.eui import eui_duis
from gbcs.verify import Check, Verifier
from smetsim.client import DuisClient
from smetsim.mqtt import (
    PASSWORD_VARIABLE,
    Broker,
    MqttError,
    MqttFleetWorker,
    MqttWan,
    fleet_hubs,
    parse_broker,
)
from smetsim.sandbox import CHF, ESME, Sandbox, SandboxSettings
from tests.conftest import MOSQUITTO
from tests.conftest import Broker as BrokerProcess
from tests.e2e.support import SchemaCheck, gbcs_of, request, request_id

READ = "<sr:ReadInstantaneousImportRegisters/>"


@contextlib.asynccontextmanager
async def sandbox_over_mqtt(
    tmp_path: Path, port: int, broker: Broker | None = None
) -> AsyncIterator[tuple[Sandbox, MqttWan, MqttFleetWorker]]:
    wan = MqttWan("127.0.0.1", port, prefix="test", broker=broker)
    await wan.start()
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, response_timeout=2.0, durability="process"
    )
    sandbox = await Sandbox.start(settings, wan_routes={CHF: wan})
    worker: MqttFleetWorker | None = None
    try:
        # The worker holds the same devices as the sandbox would (same seed, same keys).
        seed = (settings.gateway.state / "seed").read_text().strip()
        fleet = Fleet(bytes.fromhex(seed), sandbox.keystore)
        fleet.add_sandbox_devices()
        worker = MqttFleetWorker(
            fleet,
            fleet_hubs(fleet),
            "127.0.0.1",
            port,
            clock=sandbox.clock,
            prefix="test",
            broker=broker,
        )
        await worker.start()
        assert await wan.wait_reachable({CHF}, 10) == set()
        yield sandbox, wan, worker
    finally:
        if worker is not None:
            await worker.close()
        await sandbox.close()
        # aiomqtt connects in the loop's default executor: let its thread go.
        await asyncio.get_running_loop().shutdown_default_executor()


async def unreachable(wan: MqttWan, hub: bytes) -> None:
    """Until ``wan`` reports ``hub`` unreachable (at most 10 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while wan.reachable(hub):
        assert loop.time() < deadline, f"hub {eui_duis(hub)} stayed reachable"
        await asyncio.sleep(0.01)


async def test_4_1_1_goes_through_the_broker_to_a_fleet_worker(
    tmp_path: Path, mqtt_broker: int, schema: SchemaCheck
) -> None:
    async with sandbox_over_mqtt(tmp_path, mqtt_broker) as (sandbox, wan, worker):
        assert fleet_hubs(worker.fleet) == {CHF}
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            xml = request(c, "4.1.1", ESME, READ)
            outcome = await c.send(xml, wait=True, within=10)
        assert [a.code for a in outcome.answers] == ["I99"]
        assert outcome.final is not None
        assert outcome.final.code == "I0", outcome.final.body[:400]
        schema(outcome.final.body)
        assert request_id(xml) in outcome.final.body.decode()
        message = gbcs_of(outcome.final.body)
        assert message.cra is CRA.RESPONSE
        assert message.message_code == 0x0027  # ECS17b
        assert (message.business_originator, message.business_target) == (ESME, SUPPLIER)
        assert Verifier(sandbox.keystore).verify(message).mac is Check.VALID
        # over the broker, not through the sandbox's in-process fleet
        assert sandbox.wan.stats.sent_down == 0
        assert (wan.sent, wan.received) == (1, 1)
        assert (worker.commands, worker.answers) == (1, 1)


async def test_a_worker_that_leaves_makes_its_hub_unreachable(
    tmp_path: Path, mqtt_broker: int
) -> None:
    async with sandbox_over_mqtt(tmp_path, mqtt_broker) as (sandbox, wan, worker):
        await worker.close()
        await unreachable(wan, CHF)
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            answer = await c.post(request(c, "4.1.1", ESME, READ))
        assert answer.code == "E1001", (answer.code, answer.reason)
        assert eui_duis(CHF) in (answer.reason or "")


async def test_both_sides_come_back_after_the_broker_restarts(
    tmp_path: Path, mqtt_broker_process: BrokerProcess
) -> None:
    async with sandbox_over_mqtt(tmp_path, mqtt_broker_process.port) as (sandbox, wan, worker):
        mqtt_broker_process.stop()
        await unreachable(wan, CHF)
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            refused = await c.post(request(c, "4.1.1", ESME, READ))
            assert refused.code == "E1001"
            mqtt_broker_process.start()
            assert await wan.wait_reachable({CHF}, 20) == set()
            outcome = await c.send(request(c, "4.1.1", ESME, READ), wait=True, within=10)
        assert outcome.final is not None
        assert outcome.final.code == "I0"
        assert wan.reconnections == 1
        assert worker.reconnections == 1


def _tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA, and a certificate and key for 127.0.0.1 that it signed (PEM files)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smetsim test broker CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption())
    )
    return paths


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """mosquitto with TLS and a password file (user alice, password s3cret)."""
    passwd_tool = shutil.which("mosquitto_passwd")
    if MOSQUITTO is None or passwd_tool is None:
        pytest.skip("mosquitto is not installed (.ci/run installs it)")
    ca, certificate, key = _tls_files(tmp_path)
    passwords = tmp_path / "passwd"
    subprocess.run([passwd_tool, "-b", "-c", str(passwords), "alice", "s3cret"], check=True)
    broker = BrokerProcess(MOSQUITTO, tmp_path)
    broker.config.write_text(
        f"listener {broker.port} 127.0.0.1\ncafile {ca}\ncertfile {certificate}\n"
        f"keyfile {key}\nallow_anonymous false\npassword_file {passwords}\n"
        # as root, mosquitto would drop to its own user, which cannot read tmp_path
        + ("user root\n" if os.geteuid() == 0 else "")
    )
    broker.start()
    try:
        yield broker.port, ca
    finally:
        broker.stop()


# paho-mqtt leaves the socket of a failed TLS handshake to the garbage collector.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_tls_broker_with_a_password(tmp_path: Path, tls_broker: tuple[int, Path]) -> None:
    port, ca = tls_broker
    for url, ca_file, error in (
        (f"mqtts://alice:wrong@127.0.0.1:{port}", ca, "Not authorized"),
        (f"mqtts://alice:s3cret@127.0.0.1:{port}", None, "CERTIFICATE_VERIFY_FAILED"),
    ):
        refused = MqttWan("127.0.0.1", port, broker=parse_broker(url, ca_file=ca_file))
        with pytest.raises(aiomqtt.MqttError, match=error):
            await refused.start()
        await refused.close()
    gc.collect()  # here, under this test's filters, not in some later test
    broker = parse_broker(f"mqtts://alice:s3cret@127.0.0.1:{port}", ca_file=ca)
    async with sandbox_over_mqtt(tmp_path, port, broker) as (sandbox, wan, _):
        assert wan.broker.url == f"mqtts://alice@127.0.0.1:{port}"
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            outcome = await c.send(request(c, "4.1.1", ESME, READ), wait=True, within=10)
        assert outcome.final is not None
        assert outcome.final.code == "I0"


def test_broker_urls() -> None:
    plain = parse_broker("127.0.0.1")
    assert (plain.host, plain.port, plain.tls, plain.username) == ("127.0.0.1", 1883, False, None)
    secure = parse_broker("mqtts://bob:pw@broker.example:9999")
    assert (secure.host, secure.port, secure.tls) == ("broker.example", 9999, True)
    assert (secure.username, secure.password) == ("bob", "pw")
    assert "pw" not in repr(secure)
    assert "pw" not in secure.url
    assert parse_broker("mqtts://[::1]").port == 8883
    for bad in ("http://h", "mqtt://h:0", "mqtt://h:99999", "mqtt://a b"):
        with pytest.raises(MqttError, match="broker"):
            parse_broker(bad)
    with pytest.raises(MqttError, match="for mqtts:// brokers"):
        parse_broker("mqtt://h", ca_file=Path("ca.pem"))


def test_a_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "from-env")
    assert parse_broker("mqtt://carol@h").password == "from-env"
    assert parse_broker("mqtt://carol:given@h").password == "given"

"""Sustained non-device DUIS throughput of `smetsim gateway` over HTTP on loopback.

Starts the gateway as a subprocess (fresh state folder, signatures required, durable commits,
``--workers`` processes: one per core by default),
registers one DCC User per client (its own P-256 key and certificate, so each client's
RequestID counters increase in order), then runs two phases with N concurrent clients, each
on its own keep-alive HTTP/1.1 connection sending its requests one after another:

- SR12.2 Device Pre-Notification: every request pre-notifies a new device (a write);
- SR8.2 Read Inventory: every request reads one of those devices (DSPInventory answer).

Requests are signed and laid out as HTTP bytes before the timed window (the client is kept
cheap: it shares the cores with the gateway, and it is the gateway that is measured); every
response is kept and, after the window, its XML signature is verified against the gateway's
certificate and its code checked. Prints ONE JSON object.

    python benchmarks/gateway_nondevice.py [--clients 16] [--requests 100] [--workers N]
        [--durability full]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _http import KeepAliveClient, http_post, status_of  # noqa: E402

from gateway.duis.signature import XmlSignatureVerifier, XmlSigner  # noqa: E402
from gateway.duis.xml import SR_NS  # noqa: E402
from gbcs.codes import ACB, KeyPurpose  # noqa: E402
from gbcs.keystore import Keystore  # noqa: E402

ACB_TEXT = "90-B3-D5-1F-30-00-00-02"


@dataclass
class Phase:
    name: str
    latencies: list[float]
    bodies: list[bytes]
    seconds: float
    server_cpu: float | None
    client_cpu: float


def process_cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of processes (Linux /proc), or None elsewhere."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def user_identity(index: int) -> tuple[bytes, XmlSigner]:
    """A benchmark DCC User: its EUI and a signer with a fresh key and self-issued certificate."""
    eui = bytes.fromhex(f"90b3d51f3f{index:06x}")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"bench user {index}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "02"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return eui, XmlSigner(key, certificate)


def request(originator: bytes, counter: int, srv: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sr:Request xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:sr="{SR_NS}" '
        'schemaVersion="5.4"><sr:Header>'
        f"<sr:RequestID>{originator.hex('-').upper()}:{ACB_TEXT}:{counter}</sr:RequestID>"
        "<sr:CommandVariant>8</sr:CommandVariant>"
        f"<sr:ServiceReference>{srv}</sr:ServiceReference>"
        f"<sr:ServiceReferenceVariant>{srv}</sr:ServiceReferenceVariant>"
        f"</sr:Header><sr:Body>{body}</sr:Body></sr:Request>"
    ).encode()


def device_id(client: int, n: int) -> str:
    return f"00-DB-{client:02X}-00-{(n >> 16) & 0xFF:02X}-{(n >> 8) & 0xFF:02X}-{n & 0xFF:02X}-E1"


def prenotification(device: str) -> str:
    return (
        f"<sr:DevicePrenotification><sr:DeviceID>{device}</sr:DeviceID>"
        "<sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>010A030B</sr:DeviceModel>"
        "<sr:DeviceType>ESME</sr:DeviceType><sr:SMETSCHTSVersion>SMETS V1.58</sr:SMETSCHTSVersion>"
        "<sr:FirmwareVersion>0002012F</sr:FirmwareVersion><sr:ESMEVariant>A</sr:ESMEVariant>"
        "</sr:DevicePrenotification>"
    )


def read_inventory(device: str) -> str:
    return f"<sr:ReadInventory><sr:DeviceID>{device}</sr:DeviceID></sr:ReadInventory>"


def crypto_floor() -> dict[str, float]:
    """What the aim is up against on this machine: the CPU of the two ECDSA operations every
    request needs (verify the request's XML signature, sign the response), measured here with
    the same library, and the requests/s all cores could give if requests cost nothing else."""
    key = ec.generate_private_key(ec.SECP256R1())
    message = b"<ds:SignedInfo>" + b"x" * 700 + b"</ds:SignedInfo>"
    algorithm = ec.ECDSA(hashes.SHA256())
    signature = key.sign(message, algorithm)
    public = key.public_key()
    rounds = 400
    started = time.process_time()
    for _ in range(rounds):
        public.verify(signature, message, algorithm)
    verify = (time.process_time() - started) / rounds
    started = time.process_time()
    for _ in range(rounds):
        key.sign(message, algorithm)
    sign = (time.process_time() - started) / rounds
    cores = os.cpu_count() or 1
    return {
        "ecdsa_verify_ms": round(verify * 1000, 3),
        "ecdsa_sign_ms": round(sign * 1000, 3),
        "requests_per_s_if_only_ecdsa_on_all_cores": round(cores / (verify + sign)),
    }


def start_gateway(
    state: Path, durability: str, engine: str, schema: Path | None, workers: int
) -> tuple[subprocess.Popen[str], str, list[int]]:
    config = state.parent / "bench.toml"
    config.write_text(f'[gateway]\ndurability = "{durability}"\nsignature_engine = "{engine}"\n')
    command = [
        sys.executable, "-m", "smetsim.cli", "gateway", "--state", str(state), "--port", "0",
        "--config", str(config), "--log-level", "warning", "--workers", str(workers),
    ]  # fmt: skip
    if schema is not None:
        command += ["--duis-schema", str(schema)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        process.kill()
        raise SystemExit(f"the gateway did not start: {line!r}")
    pids = re.search(r"worker processes: ([0-9, ]+)", line)
    workers_pids = [int(p) for p in pids.group(1).split(", ")] if pids else []
    return process, match.group(1), [process.pid, *workers_pids]


def http_request(url: str, path: str, body: bytes) -> bytes:
    """The bytes of one keep-alive ``POST`` of ``body`` (built before the timed window)."""
    return http_post(url.removeprefix("http://"), path, body)


async def run_phase(
    url: str,
    name: str,
    per_client: list[list[bytes]],
    server_pids: list[int],
) -> Phase:
    latencies: list[float] = []
    bodies: list[bytes] = []
    raw = [[http_request(url, "/api/v1/serviceD", d) for d in docs] for docs in per_client]
    clients = [await KeepAliveClient.connect(url) for _ in per_client]

    async def one_client(client: KeepAliveClient, requests: list[bytes]) -> None:
        for raw_request in requests:
            started = time.perf_counter()
            head, body = await client.exchange(raw_request)
            status = status_of(head)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{name}: HTTP {status}: {body[:300]!r}")
            bodies.append(body)

    try:
        server_before = process_cpu_seconds(server_pids)
        client_before = own_cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(one_client(c, r) for c, r in zip(clients, raw, strict=True)))
        seconds = time.perf_counter() - started
        server_after = process_cpu_seconds(server_pids)
        client_cpu = own_cpu_seconds() - client_before
    finally:
        for client in clients:
            await client.close()
    server_cpu = (
        None if server_before is None or server_after is None else server_after - server_before
    )
    return Phase(name, latencies, bodies, seconds, server_cpu, client_cpu)


def summarise(phase: Phase, verifier: XmlSignatureVerifier, certificate: Any) -> dict[str, Any]:
    codes: dict[str, int] = {}
    for body in phase.bodies:
        root = etree.fromstring(body)
        verifier.verify(root, certificate)  # every response is signed by the gateway
        code = root.findtext(f"{{{SR_NS}}}Header/{{{SR_NS}}}ResponseCode") or "?"
        codes[code] = codes.get(code, 0) + 1
    ordered = sorted(phase.latencies)
    count = len(ordered)
    return {
        "requests": count,
        "response_codes": codes,
        "seconds": round(phase.seconds, 3),
        "requests_per_second": round(count / phase.seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(count - 1, int(count * 0.99))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "gateway_cpu_ms_per_request": (
            None if phase.server_cpu is None else round(phase.server_cpu / count * 1000, 3)
        ),
        "client_cpu_ms_per_request": round(phase.client_cpu / count * 1000, 3),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="smetsim-bench-"))
    state = workdir / "state"
    process, url, pids = start_gateway(
        state, args.durability, args.signature_engine, args.schema, args.workers
    )
    try:
        gateway_cert = Keystore.load(state / "pki").certificate(ACB, KeyPurpose.DS)
        users = [user_identity(i) for i in range(args.clients)]
        connector = aiohttp.TCPConnector(limit=args.clients * 2)
        async with aiohttp.ClientSession(connector=connector) as session:
            for eui, signer in users:
                pem = signer.certificate.public_bytes(Encoding.PEM).decode()
                async with session.post(
                    f"{url}/admin/users",
                    json={"eui": eui.hex("-").upper(), "roles": ["IS", "GS"], "certificate": pem},
                ) as response:
                    assert response.status == 200, await response.text()
            sign_started = time.perf_counter()
            writes = [
                [
                    signer.sign_bytes(request(eui, 1 + n, "12.2", prenotification(device_id(c, n))))
                    for n in range(args.requests)
                ]
                for c, (eui, signer) in enumerate(users)
            ]
            reads = [
                [
                    signer.sign_bytes(
                        request(eui, 1_000_000 + n, "8.2", read_inventory(device_id(c, n)))
                    )
                    for n in range(args.requests)
                ]
                for c, (eui, signer) in enumerate(users)
            ]
            signing_seconds = time.perf_counter() - sign_started
            # A short warm-up (not measured): one read per client.
            warm = [
                [signer.sign_bytes(request(eui, 1, "8.2", read_inventory(device_id(0, 0))))]
                for eui, signer in users[:1]
            ]
        await run_phase(url, "warm-up", warm, pids)
        write_phase = await run_phase(url, "SR12.2", writes, pids)
        read_phase = await run_phase(url, "SR8.2", reads, pids)
        verifier = XmlSignatureVerifier()
        return {
            "benchmark": "gateway_nondevice",
            "transport": "HTTP/1.1 keep-alive on loopback, one connection per client",
            "clients": args.clients,
            "requests_per_client": args.requests,
            "xml_signatures": "requests signed by each client's key, responses by the gateway",
            "schema_validation": args.schema is not None,
            "durability": args.durability,
            "signature_engine": args.signature_engine,
            "cpu_count": os.cpu_count(),
            "gateway_workers": args.workers,
            "client_signing_seconds_untimed": round(signing_seconds, 2),
            "sr12_2": summarise(write_phase, verifier, gateway_cert),
            "sr8_2": summarise(read_phase, verifier, gateway_cert),
            "floor": crypto_floor(),
        }
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument("--requests", type=int, default=100, help="requests per client per phase")
    parser.add_argument(
        "--durability",
        choices=("full", "process"),
        default="full",
        help="full: fsync every commit (default); process: survive a killed process only",
    )
    parser.add_argument(
        "--signature-engine",
        choices=("fast", "signxml"),
        default="fast",
        help="fast: the DUIS-profile fast path (default); signxml: signxml for everything",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="gateway worker processes (default: one per core)",
    )
    parser.add_argument(
        "--schema", type=Path, default=None, help="validate with this DUIS schema folder"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()

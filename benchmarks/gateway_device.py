"""End-to-end device SR throughput of `smetsim sandbox`: DUIS over HTTP in, real GBCS to an
emulated meter and back, the signed DUIS response in the inbox.

Starts the sandbox as a subprocess (fresh state folder, XML signatures required, devices
answering at once, ``--devices D --suppliers K``: the extra ESMEs are shared between K+1
supplier users, so each client has its own RequestID counter). Each of the K+1 clients sends
SR 4.1.1 (ECS17b: read the import registers, answered MACed and encrypted to the supplier) to
its own meters, one request after another (the next once the previous got its I99); one
poller per user long-polls the user's inbox (``GET /api/v1/responses?user=...&after=...
&wait=2``). Each client and each poller has its own keep-alive HTTP/1.1 connection, and the
requests are signed and laid out as HTTP bytes before the timed window: the client shares
the cores with the sandbox, so it is kept cheap (signing is the client's work, not timed).
Full crypto on the sandbox's side: XML signature checked on every request and made on every
answer (the I99 and the asynchronous response), the ACB's MAC on every command, the device's
MAC check, encryption and MAC of every response.

An SR counts when its response is in the inbox; latency is from the POST to the response
being seen there. After the window every response is checked: I0, its XML signature against
the gateway's certificate (a sample), its GBCS MAC against the keys of `smetsim pki export`.
Prints ONE JSON object.

    python benchmarks/gateway_device.py [--suppliers 15] [--requests 80] [--durability full]
                                        [--workers N]

With ``--workers N`` the sandbox runs N processes on the port (the fleet in the first); the
CPU figures then add up every process, and ``sandbox_cpu_seconds_by_process`` lists each
(the supervisor first).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _http import KeepAliveClient, http_post  # noqa: E402

from gateway.duis.signature import XmlSignatureVerifier, XmlSigner  # noqa: E402
from gbcs.codes import ACB, SUPPLIER, KeyPurpose  # noqa: E402
from gbcs.frames import Message  # noqa: E402
from gbcs.keystore import Keystore  # noqa: E402
from gbcs.verify import Check, Verifier  # noqa: E402
from smetsim.client import build_request  # noqa: E402
from smetsim.sandbox import extra_device, sandbox_keystore, supplier_of  # noqa: E402

RID = re.compile(rb"<sr:RequestID>([^<]+)<")
RESPONSE_CODE = re.compile(rb"(?i)\r\nx-duis-response-code:\s*(\S+)")
RESPONSES = "/api/v1/responses"


@dataclass
class Client:
    user: bytes
    devices: list[bytes]
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)
    acked_at: dict[str, float] = field(default_factory=dict)
    seen_at: dict[str, float] = field(default_factory=dict)
    bodies: dict[str, bytes] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def start_sandbox(
    state: Path, port: int, devices: int, suppliers: int, durability: str, workers: int
) -> Any:
    config = state.parent / "sandbox.toml"
    config.write_text(
        f'[gateway]\ndurability = "{durability}"\nrdp_flush_interval = 3600\n'
        f"workers = {workers}\n"
        f"[sandbox]\ndevices = {devices}\nsuppliers = {suppliers}\nlatency = false\n"
        "tick_interval = 0\nresponse_timeout = 30\n"
    )
    command = [
        sys.executable, "-m", "smetsim.cli", "sandbox", "--config", str(config),
        "--state", str(state), "--port", str(port), "--require-signatures",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on" in line:
            return process
    process.wait()
    raise SystemExit(f"the sandbox did not start (exit {process.returncode})")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_client(connection: KeepAliveClient, client: Client) -> None:
    for rid, raw in client.requests:
        client.sent_at[rid] = time.perf_counter()
        head, _ = await connection.exchange(raw)
        client.acked_at[rid] = time.perf_counter()
        code = RESPONSE_CODE.search(head)
        if code is None or code.group(1) != b"I99":
            client.errors.append(f"{rid}: {head[:200]!r}")


async def poll(connection: KeepAliveClient, host: str, client: Client, total: int) -> None:
    after = 0
    user = client.user.hex("-").upper()
    while len(client.seen_at) + len(client.errors) < total:
        head, body = await connection.exchange(
            f"GET {RESPONSES}?user={user}&after={after}&limit=1000&wait=2 HTTP/1.1\r\n"
            f"Host: {host}\r\n\r\n".encode()
        )
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"polling the inbox: {head[:200]!r} {body[:300]!r}")
        reports = json.loads(body)
        now = time.perf_counter()
        for report in reports:
            after = max(after, report["seq"])
            rid = report["requestId"]
            if report["kind"] == "response" and rid in client.sent_at:
                client.seen_at.setdefault(rid, now)
                client.bodies[rid] = report["xml"].encode()
            elif report["kind"] == "dcc-alert":
                client.errors.append(f"{rid}: {report['code']}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check(keys: Keystore, clients: list[Client], sample: int) -> dict[str, Any]:
    verifier = Verifier(keys)
    xml_verifier = XmlSignatureVerifier()
    gateway_certificate = keys.certificate(ACB, KeyPurpose.DS)
    assert gateway_certificate is not None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    macs_valid = 0
    signatures_checked = 0
    bodies = [b for c in clients for b in c.bodies.values()]
    for index, body in enumerate(bodies):
        assert b"<sr:ResponseCode>I0</sr:ResponseCode>" in body
        payload = re.search(rb"<sr:GBCSPayload>([^<]+)<", body)
        assert payload is not None
        message = Message.from_bytes(base64.b64decode(payload.group(1)))
        assert message.message_code == 0x0027
        if verifier.verify_mac(message) is Check.VALID:
            macs_valid += 1
        if index < sample:
            xml_verifier.verify(etree.fromstring(body, parser), gateway_certificate)
            signatures_checked += 1
    return {"gbcs_macs_valid": macs_valid, "xml_signatures_verified": signatures_checked}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--suppliers", type=int, default=15, help="extra supplier users (clients - 1)"
    )
    parser.add_argument("--requests", type=int, default=80, help="SRs per client")
    parser.add_argument("--devices-per-client", type=int, default=4)
    parser.add_argument("--durability", choices=("full", "process"), default="full")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="sandbox worker processes (smetsim sandbox --workers; default: one per core)",
    )
    parser.add_argument(
        "--sample", type=int, default=200, help="responses whose XML signature is verified"
    )
    args = parser.parse_args()
    n_clients = args.suppliers + 1
    n_devices = n_clients * args.devices_per_client
    tmp = Path(tempfile.mkdtemp(prefix="smetsim-bench-device-"))
    state = tmp / "state"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = start_sandbox(state, port, n_devices, args.suppliers, args.durability, args.workers)
    startup = time.perf_counter() - started
    try:
        keys = sandbox_keystore(state)
        clients: dict[bytes, Client] = {}
        for index in range(1, n_devices + 1):
            user = supplier_of(index, args.suppliers)
            clients.setdefault(user, Client(user, [])).devices.append(extra_device(index))
        counter = int(time.time() * 1000)
        signing_started = time.perf_counter()
        for client in clients.values():
            signer = XmlSigner(
                keys.private_key(client.user, KeyPurpose.DS),
                keys.certificate(client.user, KeyPurpose.DS),  # type: ignore[arg-type]
            )
            for n in range(args.requests):
                counter += 1
                xml = build_request(
                    service_reference_variant="4.1.1",
                    command_variant=1,
                    originator=client.user,
                    target=client.devices[n % len(client.devices)],
                    counter=counter,
                    body="<sr:ReadInstantaneousImportRegisters/>",
                )
                match = RID.search(xml)
                assert match is not None
                client.requests.append((match.group(1).decode(), signer.sign_bytes(xml)))
        signing = time.perf_counter() - signing_started
        host = url.removeprefix("http://")
        for client in clients.values():
            client.requests = [
                (rid, http_post(host, "/api/v1/serviceS", body)) for rid, body in client.requests
            ]
        posters = [await KeepAliveClient.connect(url) for _ in clients]
        pollers = [await KeepAliveClient.connect(url) for _ in clients]
        try:
            begin = time.perf_counter()
            own_before = time.process_time()
            cpu_before = _cpu_by_process(process.pid)
            await asyncio.gather(
                *(run_client(c, x) for c, x in zip(posters, clients.values(), strict=True)),
                *(
                    poll(c, host, x, args.requests)
                    for c, x in zip(pollers, clients.values(), strict=True)
                ),
            )
            wall = time.perf_counter() - begin
            own_cpu = time.process_time() - own_before
            cpu_after = _cpu_by_process(process.pid)
            # (user, system) seconds each process spent in the window (one started meanwhile: all)
            spent = {
                pid: (
                    user - cpu_before.get(pid, (0.0, 0.0))[0],
                    system - cpu_before.get(pid, (0.0, 0.0))[1],
                )
                for pid, (user, system) in cpu_after.items()
            }
            per_process = {pid: round(user + system, 2) for pid, (user, system) in spent.items()}
            user_sys = (
                None
                if not spent
                else (sum(u for u, _ in spent.values()), sum(s for _, s in spent.values()))
            )
            cpu = None if user_sys is None else user_sys[0] + user_sys[1]
        finally:
            for connection in (*posters, *pollers):
                await connection.close()
        latencies = [
            (c.seen_at[r] - c.sent_at[r]) * 1000 for c in clients.values() for r in c.seen_at
        ]
        acks = [(c.acked_at[r] - c.sent_at[r]) * 1000 for c in clients.values() for r in c.acked_at]
        errors = [e for c in clients.values() for e in c.errors]
        done = len(latencies)
        verified = check(keys, list(clients.values()), args.sample)
        print(
            json.dumps(
                {
                    "benchmark": "gateway_device",
                    "sr": "4.1.1 ECS17b (CV1), signed requests and responses",
                    "clients": n_clients,
                    "devices": n_devices,
                    "durability": args.durability,
                    "workers": args.workers,
                    "requests": n_clients * args.requests,
                    "answered": done,
                    "errors": len(errors),
                    "error_examples": errors[:3],
                    "device_srs_per_second": round(done / wall, 1),
                    "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
                    "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
                    "ack_p50_ms": round(statistics.median(acks), 2) if acks else None,
                    "ack_p99_ms": round(percentile(acks, 0.99), 2) if acks else None,
                    "seconds": round(wall, 3),
                    "sandbox_cpu_seconds": None if cpu is None else round(cpu, 3),
                    "sandbox_cpu_ms_per_sr": None
                    if cpu is None or not done
                    else round(cpu * 1000 / done, 3),
                    "sandbox_system_cpu_ms_per_sr": None
                    if user_sys is None or not done
                    else round(user_sys[1] * 1000 / done, 3),
                    "sandbox_cpu_seconds_by_process": list(per_process.values()),
                    "client_cpu_seconds": round(own_cpu, 3),
                    "signing_seconds_client_side": round(signing, 2),
                    "startup_seconds": round(startup, 2),
                    "supplier": SUPPLIER.hex(),
                    **verified,
                    "aim_srs_per_second": 500,
                }
            )
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def _cpu_by_process(pid: int) -> dict[int, tuple[float, float]]:
    """User and system CPU seconds of process ``pid`` and of each of its descendants (the
    sandbox's worker processes), from Linux's /proc; empty when it is gone."""
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        other: (int(fields[11]) / ticks, int(fields[12]) / ticks)
        for other, fields in _tree_stats(pid).items()
    }


def _tree_stats(pid: int) -> dict[int, list[str]]:
    """The /proc stat fields (after the command name) of ``pid`` and its descendants."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    if pid not in stats:
        return {}
    tree = {pid}
    grew = True
    while grew:
        grew = False
        for other, fields in stats.items():
            if other not in tree and int(fields[1]) in tree:
                tree.add(other)
                grew = True
    return {p: stats[p] for p in sorted(tree)}


if __name__ == "__main__":
    asyncio.run(main())

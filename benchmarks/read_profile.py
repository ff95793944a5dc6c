"""End-to-end cost of SR 4.8.1 (ECS22b) reading 30 days of half-hour import profile data from
the emulated ESME: DUIS over HTTP in (XML signature made by the client, checked by the
gateway), the ACB-MACed command over the in-process WAN, the meter's 1440 half hours encrypted
and MACed back, the signed DUIS response with its GBCSPayload, then the client decrypts it.

Runs an in-process sandbox (fresh state folder, no latency). The meter's record is restarted
``--days`` before the sandbox's clock and filled by advancing it to now; each request reads the
whole period, one after another. Every answer is checked: ``--days`` x 48 entries, equal to
what the meter recorded. Prints ONE JSON object.

    python benchmarks/read_profile.py [--requests 20] [--days 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.usecases.reading import UNIX_2000  # noqa: E402
from gbcs import content as gc  # noqa: E402
from gbcs.builders import Builder  # noqa: E402
from gbcs.codes import SUPPLIER  # noqa: E402
from gbcs.frames import Message  # noqa: E402
from gbcs.payloads.read_values import read_pairs_plaintext  # noqa: E402
from smetsim.client import DuisClient, build_request  # noqa: E402
from smetsim.sandbox import ESME, Sandbox, SandboxSettings  # noqa: E402


def _text(seconds_since_2000: int) -> str:
    return gc.from_utc_seconds(seconds_since_2000).strftime("%Y-%m-%dT%H:%M:%SZ")


async def run(requests: int, days: int) -> dict[str, object]:
    half_hours = days * 48
    with tempfile.TemporaryDirectory() as folder:
        settings = SandboxSettings.create(
            state=Path(folder) / "state", port=0, latency=False, response_timeout=30.0
        )
        sandbox = await Sandbox.start(settings)
        try:
            now = int(sandbox.clock().timestamp())
            meter = sandbox.fleet.device(ESME, now).meter
            if meter.hh_capacity < half_hours:
                raise SystemExit(f"the meter holds {meter.hh_capacity} half hours at most")
            meter.hh_count = 0
            meter.accounted_to = now - now % 1800 - half_hours * 1800
            meter.advance(now)
            held = meter.half_hours()
            expected = [(b + 1800 - UNIX_2000, used) for b, used in held]
            first, last = expected[0][0], expected[-1][0]
            body = (
                "<sr:ReadActiveImportProfileData><sr:ReadLogPeriod>"
                f"<sr:StartDateTime>{_text(first)}</sr:StartDateTime>"
                f"<sr:EndDateTime>{_text(last)}</sr:EndDateTime>"
                "</sr:ReadLogPeriod></sr:ReadActiveImportProfileData>"
            )
            builder = Builder(sandbox.keystore)
            latencies = []
            async with DuisClient(
                sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=30
            ) as client:
                for _ in range(requests):
                    xml = build_request(
                        service_reference_variant="4.8.1",
                        command_variant=1,
                        originator=SUPPLIER,
                        target=ESME,
                        counter=client.fresh_counter(),
                        body=body,
                    )
                    started = time.perf_counter()
                    outcome = await client.send(xml, wait=True, within=30)
                    final = outcome.final
                    if final is None or not final.ok or final.payload is None:
                        raise SystemExit(f"no GBCS answer: {outcome!r}")
                    message = Message.from_bytes(final.payload)
                    response = gc.decode_response(0x0037, message.content)
                    assert isinstance(response, gc.ProtectedResponse)
                    plaintext = builder.decrypt_payload(message, response.encrypted)
                    entries = read_pairs_plaintext(plaintext)
                    latencies.append(time.perf_counter() - started)
                    if entries != expected:
                        raise SystemExit("the profile read back differs from the meter's")
        finally:
            await sandbox.close()
    return {
        "benchmark": "read_profile",
        "sr": "4.8.1",
        "use_case": "ECS22b",
        "half_hours_per_read": half_hours,
        "requests": requests,
        "median_ms": round(statistics.median(latencies) * 1000, 2),
        "p90_ms": round(sorted(latencies)[int(0.9 * (len(latencies) - 1))] * 1000, 2),
        "reads_per_second": round(len(latencies) / sum(latencies), 1),
        "response_plaintext_bytes": len(plaintext),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.requests, args.days))))


if __name__ == "__main__":
    main()

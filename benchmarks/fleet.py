"""Fleet figures: memory per device, devices created per second, and commands per second
through the device cores with full crypto beside the raw crypto cost of the same commands.

Prints one JSON object:

- ``memory``: Python heap bytes per device (tracemalloc) for ``--devices`` devices (default
  100,000) added to one fleet (a spec each: no state yet), then with their state created
  (first use), then per device after a simulated day of half hours (measured on a sample);
  and the process's peak RSS.
- ``creation``: devices added per second and device states created per second.
- ``commands``: for a non-critical read (ECS17b: MAC check, encrypted, MACed response) and a
  critical command (ECS43/ECS42 pairs: MAC and signature checks, signed response), commands
  per second of process CPU time through ``Fleet.handle`` (frame in, frames out: routing,
  decoding, the device's checks, the use case, building and sealing the answer) and of the
  raw cryptographic operations alone for the same commands (KDF + GMAC per MAC, ECDSA verify
  per signature checked, ECDSA sign per signature made, AES-GCM per encrypted payload, with Z
  known), and their ratio (whole / crypto; the aim is under 2). ``warm``: devices whose keys
  and ECDH secrets are cached; ``cold``: first contact with each device (key derivation and
  ECDH included on both sides of the comparison).

CPU time of this process is measured (not wall time), so other load on the machine does not
skew the figures; each figure is the best of ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.fleet import Fleet  # noqa: E402
from gbcs import content as c  # noqa: E402
from gbcs.builders import Builder  # noqa: E402
from gbcs.codes import CRA, SUPPLIER, KeyPurpose  # noqa: E402
from gbcs.crypto import (  # noqa: E402
    ENCRYPTION_X,
    derive_key,
    encrypt_payload,
    gmac,
    other_info,
    sign,
    verify_signature,
)
from gbcs.frames import Message  # noqa: E402
from gbcs.keystore import derive_device_key, generate_test_pki  # noqa: E402
from gbcs.verify import mac_parties  # noqa: E402

SEED = b"smetsim fleet benchmark"
START = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
PROFILE = "northbrook-nb100"


def eui(n: int) -> bytes:
    return bytes.fromhex("00db0000") + n.to_bytes(4, "big")


class HeadEndKeys:
    """Organisation keys from the test PKI, device public keys from the fleet."""

    def __init__(self, pki: object, fleet: Fleet) -> None:
        self.pki = pki
        self.fleet = fleet

    def public_key(self, who: bytes, purpose: KeyPurpose):  # type: ignore[no-untyped-def]
        if who in self.fleet:
            return self.fleet.public_key(who, purpose)
        return self.pki.public_key(who, purpose)  # type: ignore[attr-defined]

    def private_key(self, who: bytes, purpose: KeyPurpose):  # type: ignore[no-untyped-def]
        return self.pki.private_key(who, purpose)  # type: ignore[attr-defined]


def cpu() -> float:
    return time.process_time()


# -- memory and creation -------------------------------------------------------------------


def _populate(devices: int) -> Fleet:
    fleet = Fleet(SEED, generate_test_pki(SEED))
    for n in range(devices):
        fleet.add(eui(n), PROFILE)
    return fleet


def memory_and_creation(
    devices: int, day_sample: int
) -> tuple[dict[str, object], dict[str, object]]:
    now = int(START.timestamp())
    # Timing, without tracemalloc (it slows allocation).
    gc.collect()
    t0 = cpu()
    fleet = _populate(devices)
    t1 = cpu()
    for n in range(devices):
        fleet.device(eui(n), now)
    t2 = cpu()
    sample = [fleet.device(eui(n), now) for n in range(day_sample)]
    t3 = cpu()
    for device in sample:
        device.tick(now + 86_400)
    t4 = cpu()
    creation: dict[str, object] = {
        "devices_added_per_s": round(devices / (t1 - t0)),
        "device_states_created_per_s": round(devices / (t2 - t1)),
        "simulated_device_days_per_s": round(day_sample / (t4 - t3)),
    }
    del fleet, sample
    gc.collect()
    # Memory, with tracemalloc: the Python heap the fleet holds.
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fleet = _populate(devices)
    added = tracemalloc.get_traced_memory()[0]
    for n in range(devices):
        fleet.device(eui(n), now)
    created = tracemalloc.get_traced_memory()[0]
    sample = [fleet.device(eui(n), now) for n in range(day_sample)]
    before_day = tracemalloc.get_traced_memory()[0]
    for device in sample:
        device.tick(now + 86_400)
    after_day = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    memory: dict[str, object] = {
        "devices": devices,
        "bytes_per_device_added": round((added - base) / devices),
        "bytes_per_device_with_state": round((created - base) / devices),
        "bytes_per_device_after_a_day": round(
            (created - base) / devices + (after_day - before_day) / day_sample
        ),
        "day_sample": day_sample,
        "peak_rss_mb": round(rss, 1),
    }
    del fleet, sample
    gc.collect()
    return memory, creation


# -- commands ------------------------------------------------------------------------------


def build_commands(
    builder: Builder, n_devices: int, offset: int, counter: int, critical: bool
) -> list[tuple[bytes, bytes]]:
    """(device EUI, frame) for one command per device."""
    out = []
    for n in range(n_devices):
        target = eui(offset + n)
        counter += 1
        if critical:
            cmd: object = c.SupplyDisable(counter) if counter % 2 else c.SupplyEnable(counter)
        else:
            cmd = c.ReadImportRegisters(counter, SUPPLIER, target)
        message = builder.command(
            originator=SUPPLIER,
            target=target,
            counter=counter,
            message_code=cmd.message_code,  # type: ignore[attr-defined]
            content=cmd.encode(),  # type: ignore[attr-defined]
            critical=critical,
        )
        out.append((target, message.to_bytes()))
    return out


def raw_crypto(
    fleet: Fleet, pki: object, commands: list[tuple[bytes, bytes]], cold: bool
) -> Callable[[], int]:
    """The cryptographic work a device does for these commands, alone: check the MAC (and
    the signature), seal the answer (MAC or signature, encryption). ``cold``: the device's
    keys are derived and the ECDH secrets computed too, as on first contact."""
    acb_ka = pki.public_key(bytes.fromhex("90b3d51f30000002"), KeyPurpose.KA)  # type: ignore[attr-defined]
    supplier_ka = pki.public_key(SUPPLIER, KeyPurpose.KA)  # type: ignore[attr-defined]
    supplier_ds = pki.public_key(SUPPLIER, KeyPurpose.DS)  # type: ignore[attr-defined]
    parsed = [Message.from_bytes(frame) for _, frame in commands]
    device_keys = {
        m.business_target: (
            fleet.private_key(m.business_target, KeyPurpose.KA),
            fleet.private_key(m.business_target, KeyPurpose.DS),
        )
        for m in parsed
    }
    secrets = {
        target: (ka.exchange(_ECDH, acb_ka), ka.exchange(_ECDH, supplier_ka))
        for target, (ka, _) in device_keys.items()
    }
    plaintext = bytes(40)

    def work() -> int:
        for m in parsed:
            device = m.business_target
            if cold:
                ka = derive_device_key(SEED, device, KeyPurpose.KA)
                z_acb, z_sup = ka.exchange(_ECDH, acb_ka), ka.exchange(_ECDH, supplier_ka)
                ds = derive_device_key(SEED, device, KeyPurpose.DS) if m.signature else None
            else:
                z_acb, z_sup = secrets[device]
                ds = device_keys[device][1]
            first, _ = mac_parties(m)
            del first
            key = derive_key(
                z_acb, other_info(m.business_originator, CRA.COMMAND, m.originator_counter, device)
            )
            gmac(key, m.business_originator, m.general_signing_apdu())
            if m.signature is not None:
                verify_signature(supplier_ds, m.signed_bytes(), m.signature)
                assert ds is not None
                sign(ds, m.signed_bytes())  # the response's signature (same size of data)
            else:
                enc = derive_key(
                    z_sup, other_info(device, ENCRYPTION_X, m.originator_counter, SUPPLIER)
                )
                encrypt_payload(enc, device, plaintext)
                resp = derive_key(
                    z_sup, other_info(device, CRA.RESPONSE, m.originator_counter, SUPPLIER)
                )
                gmac(resp, device, m.general_signing_apdu())
        return len(parsed)

    return work


def through_fleet(fleet: Fleet, commands: list[tuple[bytes, bytes]]) -> Callable[[], int]:
    def work() -> int:
        for target, frame in commands:
            out = fleet.handle(target, frame, START)
            assert out, "no answer"
        return len(commands)

    return work


def rate(work: Callable[[], int], rounds: int) -> float:
    """Best rate of ``rounds`` runs, with the garbage collector paused while timing."""
    best = 0.0
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        try:
            t0 = cpu()
            n = work()
            elapsed = cpu() - t0
        finally:
            gc.enable()
        best = max(best, n / elapsed)
    return best


def _fleet(pki: object, first: int, n_devices: int) -> Fleet:
    fleet = Fleet(SEED, pki, faults=False, key_cache=4 * n_devices, secret_cache=4 * n_devices)  # type: ignore[arg-type]
    for n in range(n_devices):
        fleet.add(eui(first + n), PROFILE)
    return fleet


def _figures(path: float, crypto: float) -> dict[str, float]:
    return {
        "commands_per_s": round(path),
        "raw_crypto_commands_per_s": round(crypto),
        "ratio": round(crypto / path, 2),
    }


def command_figures(n_devices: int, rounds: int) -> dict[str, object]:
    """Each figure is the best of ``rounds``; path and crypto runs are interleaved so that
    the machine's load touches both alike."""
    pki = generate_test_pki(SEED)
    results: dict[str, object] = {}
    for critical in (False, True):
        name = "critical_ECS42_43" if critical else "non_critical_ECS17b"
        # warm: the same devices, keys and secrets cached, fresh counters each round
        fleet = _fleet(pki, 0, n_devices)
        builder = Builder(HeadEndKeys(pki, fleet))
        through_fleet(fleet, build_commands(builder, n_devices, 0, 1_000, critical))()
        paths, cryptos = [], []
        for r in range(rounds):
            batch = build_commands(builder, n_devices, 0, 10_000 * (r + 1), critical)
            paths.append(rate(through_fleet(fleet, batch), 1))
            cryptos.append(rate(raw_crypto(fleet, pki, batch, cold=False), 1))
        warm = _figures(max(paths), max(cryptos))
        # cold: first contact with fresh devices every round
        paths, cryptos = [], []
        for r in range(rounds):
            offset = 1_000_000 * (r + 1)
            fresh = _fleet(pki, offset, n_devices)
            batch = build_commands(Builder(HeadEndKeys(pki, fresh)), n_devices, offset, 5, critical)
            paths.append(rate(through_fleet(fresh, batch), 1))
            cryptos.append(
                rate(raw_crypto(_fleet(pki, offset, n_devices), pki, batch, cold=True), 1)
            )
        results[name] = {"warm": warm, "cold": _figures(max(paths), max(cryptos))}
    results["devices_per_batch"] = n_devices
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--day-sample", type=int, default=2_000)
    parser.add_argument("--command-devices", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    wall = time.perf_counter()
    memory, creation = memory_and_creation(args.devices, args.day_sample)
    commands = command_figures(args.command_devices, args.rounds)
    print(
        json.dumps(
            {
                "benchmark": "fleet",
                "python": platform.python_version(),
                "memory": memory,
                "creation": creation,
                "commands": commands,
                "aim": "100,000 devices under 1 GB; command path within 2x of its crypto",
                "seconds": round(time.perf_counter() - wall, 1),
            }
        )
    )


from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

_ECDH = ec.ECDH()

if __name__ == "__main__":
    main()

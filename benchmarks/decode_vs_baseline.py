"""`smetsim decode` of every conformance message, beside a plain script using `cryptography`.

Prints one JSON object. Both run as whole processes over every message under
../shared/conformance/gbcs (file paths on the command line), alternately, ``--rounds`` times
each; the best wall time and the best CPU time (user + system, of the child) of each count, and
the ratios are smetsim's over the baseline's (aim: at most 1.0).

- ``smetsim``: ``python -m smetsim.cli decode --keystore DIR --json FILE...``: the envelope,
  MAC and signature, the payload decoded, encrypted blocks decrypted, one JSON line each; in
  ``smetsim_jobs`` processes (``--jobs``; by default smetsim's own: one per core, so the wall
  time gains from free cores and the CPU time counts every process).
- ``baseline``: the script below (written here, run with ``python -c``): it reads the same
  files, parses the envelope, derives the MAC key (ECDH, the GBCS KDF) and checks the GMAC, and
  checks the ECDSA signature; keys loaded once, the ECDH shared secret derived per message, as
  a plain script would. It prints one line per message.

Skips (prints a JSON line with ``"skipped"``) when ../shared/conformance is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = ROOT.parent / "shared" / "conformance"

BASELINE = r"""
import sys, hashlib
from pathlib import Path
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509 import load_pem_x509_certificate
from cryptography.exceptions import InvalidSignature

store, files = Path(sys.argv[1]), sys.argv[2:]
ACB = bytes.fromhex("90b3d51f30000002")
private, public = {}, {}
for p in store.iterdir():
    eui, _, rest = p.name.partition("-")
    purpose = rest.split(".")[0]
    if p.suffix == ".key":
        private[(eui, purpose)] = serialization.load_pem_private_key(p.read_bytes(), None)
    elif p.suffix == ".pem":
        data = p.read_bytes()
        if b"CERTIFICATE" in data:
            public[(eui, purpose)] = load_pem_x509_certificate(data).public_key()
        else:
            public[(eui, purpose)] = serialization.load_pem_public_key(data)

def length(b, i):
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(b[i + 1:i + 1 + k], "big"), i + 1 + k

def z(a, b):
    for mine, theirs in ((b, a), (a, b)):
        key = private.get((mine.hex(), "ka"))
        if key is not None and (theirs.hex(), "ka") in public:
            return key.exchange(ec.ECDH(), public[(theirs.hex(), "ka")])
    return None

for name in files:
    m = bytes.fromhex(Path(name).read_text().strip())
    if m[0] == 0xDD:  # General-Ciphering: DD, six empty fields, length, SC, IC, APDU, MAC
        cl, i = length(m, 7)
        body = m[i:i + cl]
        apdu, mac = body[5:-12], body[-12:]
    else:
        apdu, mac = m, None
    j = 1
    cra = apdu[j + 1]; counter = apdu[j + 2:j + 10]; j += 10
    orig = apdu[j + 1:j + 9]; j += 9
    targ = apdu[j + 1:j + 9]; j += 9
    dl = apdu[j]; j += 1 + dl
    ol, j = length(apdu, j); j += ol
    cl, j = length(apdu, j); j += cl
    signed_end = j
    mac_ok = sig_ok = None
    if mac is not None:
        first, second = (ACB, targ) if cra == 1 else (orig, targ)
        secret = z(first, second)
        if secret is not None:
            info = (bytes.fromhex("60857406080300") + orig + bytes([0x09, cra]) + counter + targ)
            key = hashlib.sha256(b"\0\0\0\1" + secret + info).digest()[:16]
            tag = AESGCM(key).encrypt(orig + bytes(4), b"", bytes.fromhex("110000000000") + apdu)
            mac_ok = tag[:12] == mac
    if signed_end < len(apdu) and apdu[signed_end] == 0x40:
        sig = apdu[signed_end + 1:signed_end + 65]
        pub = public.get((orig.hex(), "ds"))
        if pub is not None:
            r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            der = encode_dss_signature(r, s)
            try:
                pub.verify(der, apdu[1:signed_end], ec.ECDSA(hashes.SHA256()))
                sig_ok = True
            except InvalidSignature:
                sig_ok = False
    print(name, mac_ok, sig_ok)
"""


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    """(wall seconds, CPU seconds of the child, its stdout): the CPU time is what the shared
    machine's other load does not inflate."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # In this checkout: `python -m` puts the working folder first on the path, before
    # PYTHONPATH, so run from another checkout it would time that one's smetsim.
    done = subprocess.run(command, capture_output=True, env=env, check=False, cwd=ROOT)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr.decode()[-500:]}")
    return elapsed, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="smetsim decode --jobs N (default: smetsim's own default, one per core here)",
    )
    args = parser.parse_args()
    rounds = args.rounds
    if not (CONFORMANCE / "gbcs").is_dir():
        print(json.dumps({"benchmark": "decode_vs_baseline", "skipped": "no ../shared"}))
        return
    files = [str(p) for p in sorted((CONFORMANCE / "gbcs").glob("*/*.HEX"))]
    keystore = str(CONFORMANCE / "keystore")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # With bytecode caches, as an installed package has them (the baseline's cryptography has
    # its own): PYTHONDONTWRITEBYTECODE would make every smetsim run compile it from source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = tempfile.TemporaryDirectory(prefix="smetsim-bench-pyc-")
    env["PYTHONPYCACHEPREFIX"] = cache.name
    for command in (
        [sys.executable, "-m", "smetsim.cli", "decode", "--keystore", str(CONFORMANCE / "keystore"),
         "--json", files[0]],
    ):  # fmt: skip
        _run(command, env)  # writes the caches
    smetsim = [sys.executable, "-m", "smetsim.cli", "decode", "--keystore", keystore, "--json"]
    if args.jobs is not None:
        smetsim += ["--jobs", str(args.jobs)]
    sys.path.insert(0, str(ROOT))
    from smetsim.decode_run import default_jobs

    jobs = default_jobs(files) if args.jobs is None else args.jobs
    baseline = [sys.executable, "-c", BASELINE, keystore]
    times: dict[str, list[float]] = {"smetsim": [], "baseline": []}
    cpus: dict[str, list[float]] = {"smetsim": [], "baseline": []}
    outputs: dict[str, bytes] = {}
    for _ in range(rounds):
        for name, command in (("smetsim", smetsim), ("baseline", baseline)):
            elapsed, cpu, outputs[name] = _run([*command, *files], env)
            times[name].append(elapsed)
            cpus[name].append(cpu)
    # The baseline must have checked what smetsim did: every MAC and signature valid.
    base_lines = outputs["baseline"].decode().splitlines()
    bad = [line for line in base_lines if "False" in line]
    out = outputs["smetsim"]
    rows = [json.loads(line) for line in out.splitlines()]
    decrypted = sum(1 for r in rows for d in r["decrypted"] if d["decrypted"])
    best = {name: min(values) for name, values in times.items()}
    best_cpu = {name: min(values) for name, values in cpus.items()}
    print(
        json.dumps(
            {
                "benchmark": "decode_vs_baseline",
                "messages": len(files),
                "rounds": rounds,
                "method": "whole processes, alternating, best wall and best CPU time of each",
                "python": platform.python_version(),
                "smetsim_jobs": jobs,
                "smetsim_s": round(best["smetsim"], 3),
                "baseline_s": round(best["baseline"], 3),
                "ratio": round(best["smetsim"] / best["baseline"], 3),
                "smetsim_cpu_s": round(best_cpu["smetsim"], 3),
                "baseline_cpu_s": round(best_cpu["baseline"], 3),
                "cpu_ratio": round(best_cpu["smetsim"] / best_cpu["baseline"], 3),
                "ratio_meaning": "smetsim time / baseline time (aim: <= 1.0)",
                "smetsim_lines": len(rows),
                "baseline_lines": len(base_lines),
                "baseline_invalid": len(bad),
                "baseline_mac_valid": sum(line.split()[1] == "True" for line in base_lines),
                "baseline_signature_valid": sum(line.split()[2] == "True" for line in base_lines),
                "smetsim_mac_valid": sum(r["mac"] == "valid" for r in rows),
                "smetsim_signature_valid": sum(r["signature"] == "valid" for r in rows),
                "smetsim_blocks_decrypted": decrypted,
            }
        )
    )


if __name__ == "__main__":
    main()

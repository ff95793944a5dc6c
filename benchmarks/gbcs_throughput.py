"""GBCS codec throughput: decode+verify and build+sign+MAC, beside the raw crypto alone.

Prints one JSON object. Over the conformance messages (../shared/conformance/gbcs) when present,
else over the GBCS 18.4 vector only. For each direction it measures, in the same run:

- the whole operation (decode + verify, or build + sign + MAC + encode), messages per second;
- the raw cryptographic operations alone for the same messages (KDF + GMAC for each MAC, ECDSA
  verify or sign for each signature, with Z already known), messages per second;
- their ratio (whole time / crypto time): what the codec and the key handling add. Under 2 means
  the codec's own work costs less than the crypto.

The ECDH cache is on (one SharedSecretCache, warmed); the decode+verify figure without it (a
fresh cache per message, so an ECDH per MAC) is reported beside it. ``--seconds`` sets how long
each figure is measured in all (default 2.5), in 5 interleaved rounds; the best round counts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gbcs.builders import Builder  # noqa: E402
from gbcs.codes import CRA, KeyPurpose  # noqa: E402
from gbcs.crypto import (  # noqa: E402
    SharedSecretCache,
    derive_key,
    gmac,
    other_info,
    private_key_from_scalar,
    public_key_from_xy,
    sign,
    verify_signature,
)
from gbcs.explain import explain  # noqa: E402
from gbcs.frames import Message  # noqa: E402
from gbcs.keystore import Keystore, derive_device_key, generate_test_pki  # noqa: E402, derive_device_key
from gbcs.verify import Check, Verifier, mac_parties  # noqa: E402

CONFORMANCE = ROOT.parent / "shared" / "conformance"
V18_4 = bytes.fromhex(
    "DD00000000000081A91100000000DF0901000000000000000108123456789ABCDEF008FFFFFFFFFFFFFFFE00"
    "0200B335D92000000100030300700000130A00FF020300700000130A01FF020300700000130A02FF0203050000"
    "0000050000000005000000004059045AB0F554622B0360340B9D87B5A23ED5723B41DE3F206E58CDD10F915B9F"
    "E2E12E2DA3632478A8DF678E418895869AC1E55318CCE04D120D2D6B44DC167B5D832D15B57A56D620F198B3"
)


def best_rates(
    works: dict[str, Callable[[], int]], seconds: float, rounds: int = 5
) -> dict[str, float]:
    """Messages per second of each ``work`` (a batch; returns its size), best of ``rounds``.

    The works are measured in turns, round after round, so that a change in the machine's load
    (it is shared) affects them alike and the ratios between them stay meaningful; time is the
    process's CPU time, which other processes on the machine do not inflate.
    """
    best = dict.fromkeys(works, 0.0)
    for work in works.values():
        work()  # warm up
    for _ in range(rounds):
        for name, work in works.items():
            done = 0
            start = time.process_time()
            elapsed = 0.0
            while elapsed < seconds / rounds:
                done += work()
                elapsed = time.process_time() - start
            best[name] = max(best[name], done / elapsed)
    return best


def load_inputs() -> tuple[str, list[bytes], Keystore, bytes]:
    directory = CONFORMANCE / "gbcs"
    if directory.is_dir():
        messages = [bytes.fromhex(p.read_text().strip()) for p in sorted(directory.glob("*/*.HEX"))]
        return "conformance", messages, Keystore.load(CONFORMANCE / "keystore"), ACB_DEFAULT
    store = Keystore()
    acb = bytes.fromhex("abababababababab")
    store.add(
        bytes.fromhex("fffffffffffffffe"),
        KeyPurpose.KA,
        public_key=public_key_from_xy(
            bytes.fromhex(
                "2DB45A3F21889438B42C8F464C75292BACF5FDDB5DA0B492501B299CBFE92D8F"
                "DB90FC8FF4026129838B1BCAD1402CAE47FE7D8084E409A41AFCE16D63579C5F"
            )
        ),
    )
    store.add(
        acb,
        KeyPurpose.KA,
        private_key=private_key_from_scalar(
            bytes.fromhex("E4A6CFB431471CFCAE491FD566D19C87082CF9FA7722D7FA24B2B3F5669DBEFB")
        ),
    )
    store.add(
        bytes.fromhex("123456789abcdef0"),
        KeyPurpose.DS,
        # The supplier's DS key of GBCS 18.4 (docs/gbcs.md): the build path signs with it.
        private_key=private_key_from_scalar(
            bytes.fromhex("3A6B2EAA0D9F25A9E455983FEB5BB947528121911BF3B76BE5661C89DBF24B26")
        ),
    )
    return "gbcs-18.4", [V18_4], store, acb


ACB_DEFAULT = bytes.fromhex("90b3d51f30000002")


def mac_job(z: bytes, info: bytes, originator: bytes, apdu: bytes) -> bytes:
    """The crypto of one MAC with Z known: the KDF, then GMAC."""
    return gmac(derive_key(z, info), originator, apdu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.5)
    seconds = parser.parse_args().seconds

    source, raw, keys, acb = load_inputs()
    messages = [Message.from_bytes(b) for b in raw]
    cache = SharedSecretCache()
    verifier = Verifier(keys, acb=acb, cache=cache)
    for m in messages:  # every MAC and signature must check, or the figures mean nothing
        checked = verifier.verify(m)
        assert Check.INVALID not in (checked.mac, checked.signature), checked
        assert Check.UNKNOWN not in (checked.mac, checked.signature), checked
    maced = sum(m.mac is not None for m in messages)
    signed = sum(m.signature is not None for m in messages)

    # ---- decode + verify ---------------------------------------------------------------
    def decode_verify() -> int:
        for b in raw:
            verifier.verify(Message.from_bytes(b))
        return len(raw)

    # What ``smetsim decode`` does per message: decode, verify, find and decrypt the encrypted
    # blocks, decode the payload and the plaintexts (explain, without the JSON or text output).
    def decode_verify_decrypt() -> int:
        for b in raw:
            explain(b, keys, acb=acb, cache=cache)
        return len(raw)

    def decode_verify_no_cache() -> int:
        for b in raw:
            Verifier(keys, acb=acb, cache=SharedSecretCache()).verify(Message.from_bytes(b))
        return len(raw)

    # The raw crypto of the same messages: Z known, keys resolved, spans precomputed.
    verify_jobs: list[Callable[[], object]] = []
    for m in messages:
        if m.mac is not None:
            first, second = mac_parties(m, acb)
            z = verifier.agreement.z(first, second)
            info = other_info(m.business_originator, m.cra, m.originator_counter, m.business_target)
            apdu, originator = m.general_signing_apdu(), m.business_originator
            verify_jobs.append(partial(mac_job, z, info, originator, apdu))
        if m.signature is not None:
            public = keys.public_key(m.business_originator, KeyPurpose.DS)
            span, sig = m.signed_bytes(), m.signature
            verify_jobs.append(partial(verify_signature, public, span, sig))

    def verify_crypto() -> int:
        for job in verify_jobs:
            job()
        return len(raw)

    def decode_only() -> int:
        for b in raw:
            Message.from_bytes(b)
        return len(raw)

    def encode_only() -> int:
        for m in messages:
            dataclasses.replace(m, mac=m.mac).to_bytes()  # a fresh object: no cached encoding
        return len(raw)

    # ---- build + sign + MAC --------------------------------------------------------------
    # The same messages (fields, contents, critical or not) built with a test PKI holding every
    # private key (the conformance keystore has no device keys, so devices could not sign).
    devices = {
        m.business_target if m.cra is CRA.COMMAND else m.business_originator for m in messages
    }
    pki = generate_test_pki(b"benchmark", devices=devices)
    for m in messages:
        # Originators outside the test PKI (the 18.4 supplier when ../shared is absent) get a
        # derived DS key, so every message can be built and signed.
        if m.cra is CRA.COMMAND and not pki.has_private_key(m.business_originator, KeyPurpose.DS):
            key = derive_device_key(b"benchmark", m.business_originator, KeyPurpose.DS)
            pki.add(m.business_originator, KeyPurpose.DS, private_key=key)
    build_cache = SharedSecretCache()
    builder = Builder(pki, cache=build_cache)

    def builder_for(m: Message) -> Callable[[], Message]:
        """How the gateway (commands) or the device (responses) builds ``m``."""
        if m.cra is CRA.COMMAND:
            if m.signature_omitted:
                return lambda: builder.precommand(
                    originator=m.business_originator,
                    target=m.business_target,
                    counter=m.originator_counter,
                    message_code=m.message_code,
                    content=m.content,
                    date_time=m.date_time,
                    extensions=m.extensions,
                )
            return lambda: builder.command(
                originator=m.business_originator,
                target=m.business_target,
                counter=m.originator_counter,
                message_code=m.message_code,
                content=m.content,
                critical=m.signature is not None,
                date_time=m.date_time,
                extensions=m.extensions,
            )
        # The device answers the command it has already decoded.
        command = Message(
            cra=CRA.COMMAND,
            originator_counter=m.originator_counter,
            business_originator=m.business_target,
            business_target=m.business_originator,
            date_time=None,
            message_code=m.message_code,
            extensions=m.extensions,
            content=b"",
            signature=None,
        )
        return lambda: builder.response(
            command, m.content, critical=m.signature is not None, date_time=m.date_time
        )

    builds = [builder_for(m) for m in messages]

    def build_one(m: Message) -> Message:
        return builds[messages.index(m)]()

    for m in messages:  # same shape as the original, byte for byte where nothing is random
        built = build_one(m)
        assert (built.mac is None) == (m.mac is None)
        assert (built.signature is None) == (m.signature is None)
        if m.mac is not None and m.signature is None:
            assert len(built.to_bytes()) == len(m.to_bytes())

    def build() -> int:
        for make in builds:
            make().to_bytes()
        return len(builds)

    build_jobs: list[Callable[[], object]] = []
    for m in messages:
        if m.signature is not None:
            signer = m.business_originator
            key = pki.private_key(signer, KeyPurpose.DS)
            span = m.signed_bytes()
            build_jobs.append(partial(sign, key, span))
        if m.mac is not None:
            first, second = mac_parties(m, builder.acb)
            z = builder.agreement.z(first, second)
            info = other_info(m.business_originator, m.cra, m.originator_counter, m.business_target)
            apdu, originator = m.general_signing_apdu(), m.business_originator
            build_jobs.append(partial(mac_job, z, info, originator, apdu))

    def build_crypto() -> int:
        for job in build_jobs:
            job()
        return len(messages)

    # MAC-only messages: where the crypto is cheapest, the codec's share shows most.
    mac_only_raw = [
        b for b, m in zip(raw, messages, strict=True) if m.mac is not None and m.signature is None
    ]
    mac_only_jobs = [
        job
        for job, m in zip(verify_jobs, _job_owners(messages), strict=True)
        if m.mac is not None and m.signature is None
    ]

    def mac_only_decode_verify() -> int:
        for b in mac_only_raw:
            verifier.verify(Message.from_bytes(b))
        return len(mac_only_raw)

    def mac_only_crypto() -> int:
        for job in mac_only_jobs:
            job()
        return len(mac_only_raw)

    works: dict[str, Callable[[], int]] = {
        "decode_verify_per_s": decode_verify,
        "decode_verify_decrypt_per_s": decode_verify_decrypt,
        "decode_verify_crypto_only_per_s": verify_crypto,
        "build_sign_mac_per_s": build,
        "build_sign_mac_crypto_only_per_s": build_crypto,
        "decode_verify_without_ecdh_cache_per_s": decode_verify_no_cache,
        "decode_only_per_s": decode_only,
        "encode_only_per_s": encode_only,
    }
    if mac_only_raw:
        works["mac_only_decode_verify_per_s"] = mac_only_decode_verify
        works["mac_only_crypto_only_per_s"] = mac_only_crypto
    figures = best_rates(works, seconds)

    result: dict[str, object] = {
        "benchmark": "gbcs_throughput",
        "source": source,
        "messages": len(raw),
        "maced": maced,
        "signed": signed,
        "seconds_per_figure": seconds,
        "method": "best of 5 interleaved rounds per figure, process CPU time",
        "python": platform.python_version(),
        **{k: round(v, 1) for k, v in figures.items()},
        "decode_verify_ratio": round(
            figures["decode_verify_crypto_only_per_s"] / figures["decode_verify_per_s"], 3
        ),
        "build_sign_mac_ratio": round(
            figures["build_sign_mac_crypto_only_per_s"] / figures["build_sign_mac_per_s"], 3
        ),
        "ratio_meaning": "time of the whole operation / time of its crypto alone (aim: < 2)",
    }
    if mac_only_raw:
        result["mac_only_decode_verify_ratio"] = round(
            figures["mac_only_crypto_only_per_s"] / figures["mac_only_decode_verify_per_s"], 3
        )
    print(json.dumps(result))


def _job_owners(messages: list[Message]) -> list[Message]:
    """The message of each verify job, in order (a MAC job, a signature job, or both)."""
    owners: list[Message] = []
    for m in messages:
        if m.mac is not None:
            owners.append(m)
        if m.signature is not None:
            owners.append(m)
    return owners


if __name__ == "__main__":
    main()

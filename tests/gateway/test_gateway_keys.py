"""GatewayKeys: only the DCC's own private keys, and the wrapped lookup's generation, so the
GBCS key agreement caches its shared secrets as long as - and only as long as - the keys
stay the same."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.services.device import GatewayKeys
from gbcs import content as gc
from gbcs.builders import Builder
from gbcs.codes import ACB, KeyPurpose
from gbcs.crypto import SharedSecretCache
from gbcs.errors import KeyNotFound
from gbcs.keystore import generate_test_pki

S1 = bytes.fromhex("90b3d51f30010000")
D = bytes.fromhex("00db123456789001")


class _NoGeneration:
    """A key lookup without a generation (nothing may be cached by it)."""

    def __init__(self, inner: GatewayKeys) -> None:
        self.inner = inner

    def public_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        return self.inner.public_key(eui, purpose)

    def private_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
        return self.inner.private_key(eui, purpose)


def test_only_own_private_keys_and_the_wrapped_generation() -> None:
    keystore = generate_test_pki(b"seed", [D])
    keys = GatewayKeys(keystore, frozenset({ACB}))
    assert keys.generation == keystore.generation
    with pytest.raises(KeyNotFound):
        keys.private_key(D, KeyPurpose.KA)
    assert keys.private_key(ACB, KeyPurpose.KA) is keystore.private_key(ACB, KeyPurpose.KA)
    keystore.add(D, KeyPurpose.KA, private_key=ec.generate_private_key(ec.SECP256R1()))
    assert keys.generation == keystore.generation
    assert GatewayKeys(_NoGeneration(keys)).generation is None


def _mac(builder: Builder, counter: int) -> bytes:
    message = builder.command(
        originator=S1,
        target=D,
        counter=counter,
        message_code=0x0010,
        content=gc.ReadImportRegisters(counter, S1, D).encode(),
        critical=False,
    )
    assert message.mac is not None
    return message.mac


def test_a_new_device_key_changes_the_mac_at_once() -> None:
    keystore = generate_test_pki(b"seed", [D])
    cache = SharedSecretCache()
    cached = Builder(GatewayKeys(keystore, frozenset({ACB})), acb=ACB, cache=cache)
    uncached = Builder(
        GatewayKeys(_NoGeneration(GatewayKeys(keystore, frozenset({ACB}))), frozenset({ACB})),
        acb=ACB,
        cache=SharedSecretCache(),
    )
    before = _mac(cached, 1000)
    assert before == _mac(uncached, 1000)
    assert _mac(cached, 1000) == before  # from the cached shared secret
    keystore.add(D, KeyPurpose.KA, private_key=ec.generate_private_key(ec.SECP256R1()))
    after = _mac(cached, 1000)
    assert after != before
    assert after == _mac(uncached, 1000)

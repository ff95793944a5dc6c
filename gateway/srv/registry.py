"""Where the family modules put their codecs: one :class:`~gateway.srv.spec.Codec` a served
service reference variant."""

from __future__ import annotations

from collections.abc import Callable

from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.envelope import DuisRequest
from gateway.srv.example import Example
from gateway.srv.spec import Codec

__all__ = ["CODECS", "NON_DEVICE", "NON_DEVICE_EXAMPLES", "serves", "serves_non_device"]

CODECS: dict[ServiceReferenceVariant, Codec] = {}
"""Filled as the family modules are imported (:mod:`gateway.srv.catalogue` imports them all)."""


def serves(srv: str, codec: Codec) -> Codec:
    """Register the codec of a variant; a variant is served by one codec only."""
    variant = ServiceReferenceVariant(srv)
    if variant in CODECS:
        raise ValueError(f"SR {srv} has a codec already")
    CODECS[variant] = codec
    return codec


NON_DEVICE: dict[ServiceReferenceVariant, Callable[[DuisRequest], object]] = {}
"""The readers of the non-device SRs served (the DCC answers them from its own systems)."""


NON_DEVICE_EXAMPLES: dict[ServiceReferenceVariant, Example] = {}
"""The example bodies of the non-device SRs served (a device SR's is on its codec)."""


def serves_non_device(
    srv: str, read: Callable[[DuisRequest], object], example: Example | None = None
) -> None:
    """Register the reader of a non-device variant (its service lives elsewhere)."""
    variant = ServiceReferenceVariant(srv)
    if variant in NON_DEVICE:
        raise ValueError(f"SR {srv} has a reader already")
    NON_DEVICE[variant] = read
    if example is not None:
        NON_DEVICE_EXAMPLES[variant] = example

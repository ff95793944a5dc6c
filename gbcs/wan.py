"""The WAN interface: what carries GBCS frames between the DCC's gateway and the communications
hubs, as the gateway sees it. Every WAN implements it directly - the in-process fleet WAN
(``gateway.wan.InProcessWan``), the MQTT WAN (``smetsim.mqtt``), the worker mesh
(``smetsim.worker_mesh.PeerWan``) and the serial HAN dongle (``hil.dongle.SerialWan``) - so it
lives here, in the layer every one of them may import.

- :meth:`Wan.send` hands a frame to a hub; a hub whose link is down is refused at once with
  :class:`HubUnreachableError` (reported, never waited on);
- :meth:`Wan.set_receiver` names the one :data:`FrameReceiver` the frames coming up are given
  to;
- :meth:`Wan.reachable` says whether a hub's link is up now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["FrameReceiver", "HubUnreachableError", "Wan", "WanError"]


class WanError(Exception):
    """The WAN could not carry a frame."""


class HubUnreachableError(WanError):
    """The link to ``hub`` is down: the frame was not sent."""

    def __init__(self, hub: bytes, reason: str = "its WAN link is down") -> None:
        self.hub = hub
        self.reason = reason
        super().__init__(f"communications hub {hub.hex('-').upper()} is unreachable: {reason}")


FrameReceiver = Callable[[bytes, bytes], None]
"""``receiver(source_eui, frame)``: a frame came up the WAN from the device ``source_eui``."""


class Wan(Protocol):
    """What the gateway needs of a WAN."""

    def set_receiver(self, receiver: FrameReceiver) -> None:
        """Where frames coming up from hubs go (one receiver; setting again replaces it)."""
        ...

    def reachable(self, hub: bytes) -> bool:
        """Whether ``hub``'s link is up now (a send may still fail later)."""
        ...

    async def send(self, hub: bytes, frame: bytes) -> None:
        """Hand ``frame`` to ``hub``; :class:`HubUnreachableError` when its link is down."""
        ...

    async def close(self) -> None:
        """Stop carrying frames; frames in flight are discarded."""
        ...

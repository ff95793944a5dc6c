"""The sandbox's side of SR 11.1 / 11.4 firmware distribution: the Central Products List the
emulated DCC checks images against (every version of every bundled firmware profile, by the
manufacturer and model ids the sandbox pre-notifies devices with), and the carrier that takes
an accepted image to the hub's device over the HAN (the fleet's device verifies it and sends
its receipt alert up the WAN)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.firmware import ProfileCatalogue, load_profiles
from emulator.usecases.firmware import transfer_image
from gateway import firmware
from gbcs.eui import eui_duis
from gbcs.wan import HubUnreachableError, WanError

if TYPE_CHECKING:
    from gateway.server import Gateway
    from smetsim.sandbox import Sandbox

__all__ = ["FleetImageCarrier", "register_products"]


def register_products(gateway: Gateway, profiles: ProfileCatalogue | None = None) -> int:
    """Put every firmware version of ``profiles`` (the bundled ones by default) on the CPL;
    how many entries."""
    catalogue = load_profiles() if profiles is None else profiles
    entries = [
        firmware.ProductEntry(
            profile.manufacturer_id, profile.model_id, version, profile.image_hash(version)
        )
        for profile in catalogue.values()
        for version in profile.firmware
    ]
    with gateway.storage.transaction() as tx:
        for entry in entries:
            firmware.add_product(tx, entry)
    return len(entries)


class FleetImageCarrier:
    """:class:`gateway.firmware.ImageCarrier` to the sandbox's fleet."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def send_image(self, hub: bytes, device: bytes, image: bytes) -> None:
        sandbox = self.sandbox
        if not sandbox.wan.reachable(hub):
            raise HubUnreachableError(hub)
        if device not in sandbox.fleet or sandbox.routed_elsewhere(device):
            # An SMI-only device (the home's PPMID) or one behind another WAN: no HAN here.
            raise WanError(f"device {eui_duis(device)} is not on this sandbox's HAN")
        # The hub reports a transfer to a device without a receipt of its own (CCS08).
        frames = transfer_image(sandbox.fleet, hub, device, image, sandbox.clock())
        sandbox.save_touched()  # the staged image is saved before its receipt leaves
        for frame in frames:
            sandbox.wan.hubs.send_up(device, frame, 0.0, hub=hub)

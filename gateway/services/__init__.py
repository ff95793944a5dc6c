"""The non-device service requests (CV8) and the SMI transitions device SRs drive.

:class:`NonDeviceService` (in :mod:`gateway.services.nondevice`) applies every rule of
``docs/inventory.md`` to a typed request (:mod:`gateway.services.model`) against the inventory,
in ONE
transaction: on success the change is committed before :meth:`NonDeviceService.handle`
returns; on failure a :class:`gateway.errors.ServiceError` is raised and nothing changed.

``NonDeviceService`` is imported lazily so that :mod:`gateway.services.model` can be imported
by the storage-level modules (``gateway.inventory``) without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.services.nondevice import NonDeviceService, ShipmentError

__all__ = ["NonDeviceService", "ShipmentError"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from gateway.services import nondevice

        return getattr(nondevice, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

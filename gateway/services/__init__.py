"""The service requests' rules: non-device (CV8) in :mod:`gateway.services.nondevice`, device
SRs in :mod:`gateway.services.device`.

:class:`NonDeviceService` applies every rule of ``docs/inventory.md`` to a typed request
(:mod:`gateway.model`) against the inventory, in ONE transaction: on success the change is
committed before :meth:`NonDeviceService.handle` returns; on failure a
:class:`gateway.errors.ServiceError` is raised and nothing changed. Both services drive the
SMI's lifecycle through :mod:`gateway.smi`.
"""

from __future__ import annotations

from gateway.services.nondevice import NonDeviceService, ShipmentError

__all__ = ["NonDeviceService", "ShipmentError"]

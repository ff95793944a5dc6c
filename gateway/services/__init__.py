"""The non-device service requests (CV8) and the SMI transitions device SRs drive.

:class:`NonDeviceService` applies every rule of ``DOMAIN.md`` to a typed request
(:mod:`gateway.services.model`) against the inventory, in ONE transaction: on success the
change is committed before :meth:`NonDeviceService.handle` returns; on failure a
:class:`gateway.errors.ServiceError` is raised and nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.flags import FlagRules
from gateway.services.model import NonDeviceRequest, NonDeviceResult, RequestId
from gateway.storage import Storage

__all__ = ["NonDeviceService"]


class NonDeviceService:
    """The SMI's rules over a :class:`Storage`."""

    def __init__(
        self,
        storage: Storage,
        *,
        clock: Callable[[], datetime],
        flag_rules: FlagRules = "dsp",
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.flag_rules: FlagRules = flag_rules

    def handle(
        self, sender: bytes, request_id: RequestId, request: NonDeviceRequest
    ) -> NonDeviceResult:
        """Check the sender's role, the RequestID counter and every rule; apply in one transaction.

        ``sender`` is the DCC User whose XML signature was verified (or, with unsigned
        requests allowed, the RequestID's originator). Raises ServiceError, changing nothing.
        """
        raise NotImplementedError("first contract commit: the rules land within the hour")

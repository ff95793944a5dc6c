"""The catalogue of service requests: every DUIS 5.4 variant, what it is, and whether and how
this gateway serves it.

:data:`CATALOGUE` joins the rows of :mod:`gateway.srv.table` (the facts) with the codecs the
family modules register (the work): reading, tariff (tariffs, prices, prepayment), supply,
configuration, HAN and firmware. Adding an SR is one codec, with its example body, in its family
module - the row is there.
A device SR without a codec, or sent to a device type whose use case its codec does not
build, is refused here with ``E47``, naming what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from gateway.duis import dcc_services as _dcc_services
from gateway.duis import nondevice as _nondevice
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.errors import ServiceError
from gateway.srv import (
    account,
    alerts,
    auxiliary,
    configuration,
    controllers,
    firmware,
    gas,
    han,
    loadlimit,
    reading,
    security,
    subghz,
    supply,
    tariff,
    tariff_prepay,
    tariff_secondary,
)
from gateway.srv.example import Example
from gateway.srv.registry import CODECS, NON_DEVICE, NON_DEVICE_EXAMPLES
from gateway.srv.spec import Codec, Row
from gateway.srv.table import ROWS
from gateway.users import UserRole
from gbcs.devices import DeviceType

__all__ = ["CATALOGUE", "FAMILIES", "Entry", "entry"]

FAMILIES: Final = (
    reading,
    tariff,
    account,
    tariff_prepay,
    tariff_secondary,
    supply,
    configuration,
    loadlimit,
    auxiliary,
    controllers,
    gas,
    subghz,
    security,
    han,
    firmware,
    alerts,
    _nondevice,
    _dcc_services,
)
"""The modules whose import registers the codecs (kept here so the registration is explicit)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One variant: its row and, when served, its codec (device SRs) or reader (non-device)."""

    row: Row
    codec: Codec | None
    non_device_reader: Any | None

    @property
    def srv(self) -> ServiceReferenceVariant:
        return self.row.srv

    @property
    def served(self) -> bool:
        return self.codec is not None or self.non_device_reader is not None

    @property
    def example(self) -> Example | None:
        """The body ``smetsim request`` writes (every served SR has one; a test checks)."""
        if self.codec is not None:
            return self.codec.example
        return NON_DEVICE_EXAMPLES.get(self.srv)

    def served_use_cases(self) -> tuple[str, ...]:
        if self.codec is None:
            return ()
        return tuple(n for n in self.row.use_case_names if n in self.codec.builds)

    def use_case(
        self,
        device_type: DeviceType,
        request: object,
        device: bytes,
        esme_variant: str | None = None,
        roles: frozenset[UserRole] = frozenset(),
    ) -> str:
        """The GBCS use case of the request on a device of ``device_type`` (an ESME's variant
        as the SMI holds it, or the sender's DCC User roles, where the codec chooses by them);
        ``E48`` when the SR is not for that type, ``E47`` when this gateway does not build it
        yet."""
        names = self.row.use_cases.get(device_type)
        if names is None:
            kinds = "/".join(t.value for t in self.row.use_cases)
            raise ServiceError(
                "device_wrong_type",
                srv=self.srv.value,
                device=device,
                kind=device_type,
                types=kinds,
            )
        assert self.codec is not None
        name = self.codec.use_case_for(request, names, esme_variant, roles)
        if name not in self.codec.builds:
            raise ServiceError("use_case_unavailable", srv=self.srv.value, use_case=name)
        return name

    def to_json(self) -> dict[str, Any]:
        row = self.row
        return {
            "srv": row.srv.value,
            "name": row.name,
            "body": row.body,
            "served": self.served,
            "use_cases": list(row.use_case_names),
            "served_use_cases": list(self.served_use_cases()),
            "device_types": {t.value: list(n) for t, n in row.use_cases.items()},
            "critical": row.critical,
            "non_device": row.non_device,
            "on_demand": row.on_demand,
            "dcc_scheduled": row.dcc_scheduled,
            "future_dated": row.future_dated.value,
            "command_variants": sorted(int(cv) for cv in row.command_variants),
            "roles": sorted(r.value for r in row.roles),
        }


def _entries() -> Mapping[ServiceReferenceVariant, Entry]:
    for variant in CODECS:
        if variant not in {r.srv for r in ROWS}:  # pragma: no cover - a programming error
            raise ValueError(f"a codec is registered for {variant}, which has no row")
    return MappingProxyType(
        {row.srv: Entry(row, CODECS.get(row.srv), NON_DEVICE.get(row.srv)) for row in ROWS}
    )


CATALOGUE: Final[Mapping[ServiceReferenceVariant, Entry]] = _entries()
"""Every variant of DUIS 5.4, in the schema's order."""


def entry(srv: str | ServiceReferenceVariant) -> Entry:
    """The catalogue entry of a variant (``E47`` for a value that is none)."""
    try:
        return CATALOGUE[ServiceReferenceVariant(srv)]
    except ValueError:
        raise ServiceError("duis_sr_not_supported", srv=str(srv)) from None

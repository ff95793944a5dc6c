"""The shape of a catalogue row and of the codec that serves it.

A :class:`Row` holds what DUIS and GBCS say of a service reference variant; a :class:`Codec`
holds what this project does with it: read the DUIS body into a typed request, and build the
GBCS content of the command from it, and an :class:`~gateway.srv.example.Example` body a user
can send. A row with a codec is served; one without is answered ``E47`` by the catalogue
itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from lxml import etree

from gateway.duis.catalogue import CommandVariant, ServiceReferenceVariant
from gateway.srv.example import Example
from gateway.users import SUPPLIER_ROLES, UserRole
from gbcs.devices import DeviceType
from gbcs.usecases import UseCase

__all__ = ["Codec", "Command", "ResponsePattern", "Row", "acts_as_network_operator"]


class ResponsePattern(StrEnum):
    """How a future-dated request of the variant is answered (DUIS's request matrix)."""

    NONE = "none"
    """Not future-datable."""
    DSP = "DSP"
    """The DCC holds the request and sends the command at its execution date-time."""
    DEVICE = "Device"
    """The command carries the execution date-time; the device executes it then."""
    BOTH = "DSP & Device"


_DEVICE_LETTERS: Mapping[str, DeviceType] = MappingProxyType(
    {
        "E": DeviceType.ESME,
        "G": DeviceType.GSME,
        "P": DeviceType.GPF,
        "C": DeviceType.CHF,
        "H": DeviceType.HCALCS,
        "M": DeviceType.PPMID,
    }
)


@dataclass(frozen=True, slots=True)
class Row:
    """What DUIS and GBCS say of one service reference variant."""

    srv: ServiceReferenceVariant
    name: str
    body: str
    """The request's body element (CV5/CV6 send ``SignedPreCommand`` instead)."""
    critical: bool
    on_demand: bool
    dcc_scheduled: bool
    non_device: bool
    future_dated: ResponsePattern
    roles: frozenset[UserRole]
    use_cases: Mapping[DeviceType, tuple[str, ...]]
    """The GBCS use cases by the type of the device the request is sent to."""

    @property
    def command_variants(self) -> frozenset[CommandVariant]:
        return self.srv.command_variants

    @property
    def device_types(self) -> tuple[DeviceType, ...]:
        return tuple(self.use_cases)

    @property
    def use_case_names(self) -> tuple[str, ...]:
        """Every use case of the row, each once, in the table's order."""
        seen: dict[str, None] = {}
        for names in self.use_cases.values():
            for name in names:
                seen.setdefault(name, None)
        return tuple(seen)

    @classmethod
    def parse(
        cls,
        srv: str,
        name: str,
        body: str,
        flags: str,
        future_dated: ResponsePattern,
        roles: str,
        use_cases: str,
    ) -> Row:
        """A row from the compact text of :mod:`gateway.srv.table`."""
        table: dict[DeviceType, tuple[str, ...]] = {}
        for part in use_cases.split():
            letter, _, names = part.partition(":")
            table[_DEVICE_LETTERS[letter]] = tuple(names.split(","))
        return cls(
            srv=ServiceReferenceVariant(srv),
            name=name,
            body=body,
            critical="c" in flags,
            on_demand="o" in flags,
            dcc_scheduled="s" in flags,
            non_device="n" in flags,
            future_dated=future_dated,
            roles=frozenset(UserRole(r) for r in roles.split()),
            use_cases=MappingProxyType(table),
        )


@dataclass(frozen=True, slots=True)
class Command:
    """What a codec's ``build`` is given: the typed request and the command's parties."""

    request: Any
    """The typed request the codec's ``read`` made."""
    use_case: UseCase
    counter: int
    """The GBCS originator counter (the RequestID's, or the ACB's for ACB-sent use cases)."""
    originator: bytes
    """The GBCS business originator: the user, or the ACB."""
    device: bytes
    """The target device."""
    now: datetime
    """The gateway's clock when the request was accepted."""
    execution: datetime | None = None
    """A future-dated Device-pattern request's execution date-time (``3000-12-31``: cancel
    the pending one); only given to codecs that say ``future_dated``."""
    esme_variant: str | None = None
    """The target ESME's variant as the inventory holds it (DUIS ``ESMEVariant``: ``A..``
    single element, ``B..`` twin element, ``C..`` polyphase; the device service fills it from
    the SMI); None for another device type or when it is not known, taken as a single-element,
    single-phase meter."""

    @property
    def twin_element(self) -> bool:
        """The target is a twin-element ESME (its secondary element has its own tariff)."""
        return (self.esme_variant or "").startswith("B")

    @property
    def polyphase(self) -> bool:
        """The target is a polyphase ESME (variant ``C..``: its per-phase alerts exist)."""
        return (self.esme_variant or "").startswith("C")


@dataclass(frozen=True, slots=True)
class Codec:
    """How this project serves a device SR: the DUIS body to a typed request (``read``,
    raising :class:`~gateway.errors.ServiceError` ``duis_invalid_element`` with a sentence),
    the typed request to the command's GBCS content (``build``), and - where the body decides
    between several use cases of one device type - which one (``choose``, given the request
    and the candidate names of the device's type)."""

    read: Callable[[etree._Element], Any]
    build: Callable[[Command], bytes]
    builds: frozenset[str]
    """The use cases whose content ``build`` makes: a row's other use cases (another device
    type's, say) are not served yet and are refused with ``E47`` naming the use case."""
    choose: Callable[[Any, tuple[str, ...]], str] | None = None
    choose_by_variant: Callable[[tuple[str, ...], str | None], str] | None = None
    """Which use case when the target ESME's variant decides, not the body (SR6.27: ECS29f
    for a polyphase meter); given the candidate names and the SMI's ``ESMEVariant`` (None
    for another device type or when it is not known)."""
    choose_by_role: Callable[[tuple[str, ...], frozenset[UserRole]], str] | None = None
    """Which use case when the sender's role decides, not the body (SR6.2.10: ECS25r2, the
    network operator's behaviour objects, when the sender acts as the network operator;
    :func:`acts_as_network_operator`); given the candidate names and the sender's DCC User
    roles (empty when not known, taken as a supplier's request)."""
    acb_use_cases: frozenset[str] = field(default_factory=frozenset)
    """Use cases the ACB originates (its own counter; the user and its counter go in the
    other-information, as GBCS says of CCS01/CCS02)."""
    example: Example | None = None
    """A body a user can send (``smetsim request`` writes it); every served SR has one."""
    future_dated: bool = False
    """``build`` puts ``Command.execution`` in the command (a Device-pattern future-dated
    request); a codec without it refuses an ExecutionDateTime of that pattern (``E47``)."""
    reads_execution: bool = False
    """``read`` takes the body with its ``ExecutionDateTime`` and carries the execution (or a
    cancellation) in the typed request itself, for a Device-pattern SR whose content holds
    it (the tariff and account family); the front door leaves the element in place."""

    def use_case_for(
        self,
        request: Any,
        names: tuple[str, ...],
        esme_variant: str | None = None,
        roles: frozenset[UserRole] = frozenset(),
    ) -> str:
        if self.choose_by_variant is not None:
            return self.choose_by_variant(names, esme_variant)
        if self.choose_by_role is not None:
            return self.choose_by_role(names, roles)
        if self.choose is not None:
            return self.choose(request, names)
        return names[0]


def acts_as_network_operator(roles: frozenset[UserRole]) -> bool:
    """The sender acts as the electricity network operator: it holds the Electricity
    Distributor role and no supplier role. The DCC gives a User one User ID a role, so a
    sender is one or the other; a sandbox user registered with both is taken as the
    supplier, whose use cases are the DUIS default."""
    return UserRole.ED in roles and not roles & SUPPLIER_ROLES

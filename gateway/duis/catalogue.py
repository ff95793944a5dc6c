"""The catalogue of DUIS service requests: service reference variants, command variants, endpoints.

Facts from the DUIS 5.4 schema: the ``ServiceReferenceVariant`` enumeration and, from the
comment beside each value, the command variants (CV) it may be sent with. The endpoint of each
CV is the one DCC Boxed uses (``docs/gateway.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Final


class CommandVariant(IntEnum):
    """The DUIS ``CommandVariant`` (9 exists in the schema but is internal to the DCC)."""

    SR_TO_COMMAND = 1
    """SR to command, sent to the device over the WAN."""
    SR_TO_LOCAL_COMMAND = 2
    """SR to command for local delivery (returned to the user, not sent)."""
    SR_TO_COMMAND_AND_LOCAL = 3
    """Both of the above."""
    SR_TO_PRECOMMAND = 4
    """SR to pre-command (Transform): the first step of a critical SR."""
    SIGNED_PRECOMMAND = 5
    """Signed pre-command to command, sent over the WAN."""
    SIGNED_PRECOMMAND_LOCAL = 6
    """Signed pre-command to command for local delivery."""
    SIGNED_PRECOMMAND_AND_LOCAL = 7
    """Both of the above."""
    NON_DEVICE = 8
    """A non-device service: the DCC answers from its own systems (inventory, ...)."""


class Endpoint(StrEnum):
    """The three DUIS web services, as DCC Boxed lays them out under ``/api/v1/``."""

    SERVICE_S = "serviceS"
    """Send: commands over the WAN (CV 1, 3, 5, 7)."""
    SERVICE_D = "serviceD"
    """DCC only / local delivery: non-device services and local commands (CV 2, 6, 8)."""
    SERVICE_T = "serviceT"
    """Transform: SR to pre-command (CV 4)."""

    @property
    def path(self) -> str:
        return f"/api/v1/{self.value}"


ENDPOINT_OF: Final[Mapping[CommandVariant, Endpoint]] = MappingProxyType(
    {
        CommandVariant.SR_TO_COMMAND: Endpoint.SERVICE_S,
        CommandVariant.SR_TO_LOCAL_COMMAND: Endpoint.SERVICE_D,
        CommandVariant.SR_TO_COMMAND_AND_LOCAL: Endpoint.SERVICE_S,
        CommandVariant.SR_TO_PRECOMMAND: Endpoint.SERVICE_T,
        CommandVariant.SIGNED_PRECOMMAND: Endpoint.SERVICE_S,
        CommandVariant.SIGNED_PRECOMMAND_LOCAL: Endpoint.SERVICE_D,
        CommandVariant.SIGNED_PRECOMMAND_AND_LOCAL: Endpoint.SERVICE_S,
        CommandVariant.NON_DEVICE: Endpoint.SERVICE_D,
    }
)
"""Which endpoint each command variant must be POSTed to (the CV table of ``docs/gateway.md``)."""


class ServiceReferenceVariant(StrEnum):
    """Every ``ServiceReferenceVariant`` of the DUIS 5.4 schema; the router's typed key."""

    SR_1_1_1 = "1.1.1"
    SR_1_1_2 = "1.1.2"
    SR_1_2_1 = "1.2.1"
    SR_1_2_2 = "1.2.2"
    SR_1_5 = "1.5"
    SR_1_6 = "1.6"
    SR_1_7 = "1.7"
    SR_2_1 = "2.1"
    SR_2_2 = "2.2"
    SR_2_3 = "2.3"
    SR_2_5 = "2.5"
    SR_3_1 = "3.1"
    SR_3_2 = "3.2"
    SR_3_3 = "3.3"
    SR_3_4 = "3.4"
    SR_3_5 = "3.5"
    SR_4_1_1 = "4.1.1"
    SR_4_1_2 = "4.1.2"
    SR_4_1_3 = "4.1.3"
    SR_4_1_4 = "4.1.4"
    SR_4_2 = "4.2"
    SR_4_3 = "4.3"
    SR_4_4_2 = "4.4.2"
    SR_4_4_3 = "4.4.3"
    SR_4_4_4 = "4.4.4"
    SR_4_4_5 = "4.4.5"
    SR_4_6_1 = "4.6.1"
    SR_4_6_2 = "4.6.2"
    SR_4_8_1 = "4.8.1"
    SR_4_8_2 = "4.8.2"
    SR_4_8_3 = "4.8.3"
    SR_4_10 = "4.10"
    SR_4_11_1 = "4.11.1"
    SR_4_11_2 = "4.11.2"
    SR_4_12_1 = "4.12.1"
    SR_4_12_2 = "4.12.2"
    SR_4_13 = "4.13"
    SR_4_14 = "4.14"
    SR_4_15 = "4.15"
    SR_4_16 = "4.16"
    SR_4_17 = "4.17"
    SR_4_18 = "4.18"
    SR_5_1 = "5.1"
    SR_5_2 = "5.2"
    SR_5_3 = "5.3"
    SR_6_2_1 = "6.2.1"
    SR_6_2_2 = "6.2.2"
    SR_6_2_3 = "6.2.3"
    SR_6_2_4 = "6.2.4"
    SR_6_2_5 = "6.2.5"
    SR_6_2_7 = "6.2.7"
    SR_6_2_8 = "6.2.8"
    SR_6_2_9 = "6.2.9"
    SR_6_2_10 = "6.2.10"
    SR_6_4_1 = "6.4.1"
    SR_6_4_2 = "6.4.2"
    SR_6_5 = "6.5"
    SR_6_6 = "6.6"
    SR_6_7 = "6.7"
    SR_6_8 = "6.8"
    SR_6_11 = "6.11"
    SR_6_12 = "6.12"
    SR_6_13 = "6.13"
    SR_6_14_1 = "6.14.1"
    SR_6_14_2 = "6.14.2"
    SR_6_14_3 = "6.14.3"
    SR_6_15_1 = "6.15.1"
    SR_6_15_2 = "6.15.2"
    SR_6_17 = "6.17"
    SR_6_18_1 = "6.18.1"
    SR_6_18_2 = "6.18.2"
    SR_6_20_1 = "6.20.1"
    SR_6_20_2 = "6.20.2"
    SR_6_21 = "6.21"
    SR_6_22 = "6.22"
    SR_6_23 = "6.23"
    SR_6_24_1 = "6.24.1"
    SR_6_24_2 = "6.24.2"
    SR_6_25 = "6.25"
    SR_6_26 = "6.26"
    SR_6_27 = "6.27"
    SR_6_28 = "6.28"
    SR_6_29 = "6.29"
    SR_6_30 = "6.30"
    SR_6_31 = "6.31"
    SR_6_32 = "6.32"
    SR_7_1 = "7.1"
    SR_7_2 = "7.2"
    SR_7_3 = "7.3"
    SR_7_4 = "7.4"
    SR_7_5 = "7.5"
    SR_7_6 = "7.6"
    SR_7_7 = "7.7"
    SR_7_8 = "7.8"
    SR_7_9 = "7.9"
    SR_7_10 = "7.10"
    SR_7_11 = "7.11"
    SR_7_12 = "7.12"
    SR_7_13 = "7.13"
    SR_7_14 = "7.14"
    SR_7_15 = "7.15"
    SR_7_16 = "7.16"
    SR_8_1_1 = "8.1.1"
    SR_8_2 = "8.2"
    SR_8_3 = "8.3"
    SR_8_4 = "8.4"
    SR_8_5 = "8.5"
    SR_8_6 = "8.6"
    SR_8_7_1 = "8.7.1"
    SR_8_7_2 = "8.7.2"
    SR_8_8_1 = "8.8.1"
    SR_8_8_2 = "8.8.2"
    SR_8_9 = "8.9"
    SR_8_11 = "8.11"
    SR_8_12_1 = "8.12.1"
    SR_8_12_2 = "8.12.2"
    SR_8_13 = "8.13"
    SR_8_14_1 = "8.14.1"
    SR_8_14_2 = "8.14.2"
    SR_8_14_3 = "8.14.3"
    SR_8_14_4 = "8.14.4"
    SR_9_1 = "9.1"
    SR_11_1 = "11.1"
    SR_11_2 = "11.2"
    SR_11_3 = "11.3"
    SR_11_4 = "11.4"
    SR_12_1 = "12.1"
    SR_12_2 = "12.2"
    SR_14_1 = "14.1"

    @property
    def service_reference(self) -> str:
        """The ``ServiceReference`` this variant belongs to (``"8.1.1"`` -> ``"8.1"``)."""
        return SERVICE_REFERENCE_OF[self]

    @property
    def command_variants(self) -> frozenset[CommandVariant]:
        """The command variants the schema allows for this variant."""
        return COMMAND_VARIANTS[self]

    @property
    def is_non_device(self) -> bool:
        """True when the variant is a non-device service (CV8)."""
        return CommandVariant.NON_DEVICE in COMMAND_VARIANTS[self]


_CV_TABLE: Final[dict[str, tuple[int, ...]]] = {
    "1.1.1": (4, 5, 6, 7),
    "1.1.2": (4, 5, 6, 7),
    "1.2.1": (4, 5, 6, 7),
    "1.2.2": (4, 5, 6, 7),
    "1.5": (4, 5, 6, 7),
    "1.6": (4, 5, 6, 7),
    "1.7": (4, 5, 6, 7),
    "2.1": (4, 5, 6, 7),
    "2.2": (1, 2, 3),
    "2.3": (4, 5, 6, 7),
    "2.5": (4, 5, 6, 7),
    "3.1": (1, 2, 3),
    "3.2": (1, 2, 3),
    "3.3": (1, 2, 3),
    "3.4": (1, 2, 3),
    "3.5": (1, 2, 3),
    "4.1.1": (1, 2, 3),
    "4.1.2": (1, 2, 3),
    "4.1.3": (1, 2, 3),
    "4.1.4": (1, 2, 3),
    "4.2": (1, 2, 3),
    "4.3": (1, 2, 3),
    "4.4.2": (1, 2, 3),
    "4.4.3": (1, 2, 3),
    "4.4.4": (1, 2, 3),
    "4.4.5": (1, 2, 3),
    "4.6.1": (1, 2, 3),
    "4.6.2": (1, 2, 3),
    "4.8.1": (1, 2, 3),
    "4.8.2": (1, 2, 3),
    "4.8.3": (1, 2, 3),
    "4.10": (1, 2, 3),
    "4.11.1": (1, 2, 3),
    "4.11.2": (1, 2, 3),
    "4.12.1": (1, 2, 3),
    "4.12.2": (1, 2, 3),
    "4.13": (1, 2, 3),
    "4.14": (1, 2, 3),
    "4.15": (1, 2, 3),
    "4.16": (1, 2, 3),
    "4.17": (1, 2, 3),
    "4.18": (1, 2, 3),
    "5.1": (8,),
    "5.2": (8,),
    "5.3": (8,),
    "6.2.1": (1, 2, 3),
    "6.2.2": (1, 2, 3),
    "6.2.3": (1, 2, 3),
    "6.2.4": (1, 2, 3),
    "6.2.5": (1, 2, 3),
    "6.2.7": (1, 2, 3),
    "6.2.8": (1, 2, 3),
    "6.2.9": (1, 2, 3),
    "6.2.10": (1, 2, 3),
    "6.4.1": (4, 5, 6, 7),
    "6.4.2": (1, 2, 3),
    "6.5": (1, 2, 3),
    "6.6": (4, 5, 6, 7),
    "6.7": (4, 5, 6, 7),
    "6.8": (4, 5, 6, 7),
    "6.11": (4, 5, 6, 7),
    "6.12": (1, 2, 3),
    "6.13": (1, 2, 3),
    "6.14.1": (4, 5, 6, 7),
    "6.14.2": (4, 5, 6, 7),
    "6.14.3": (4, 5, 6, 7),
    "6.15.1": (4, 5, 6, 7),
    "6.15.2": (4, 5, 6, 7),
    "6.17": (4, 5, 6, 7),
    "6.18.1": (1, 2, 3),
    "6.18.2": (1, 2, 3),
    "6.20.1": (1, 2, 3),
    "6.20.2": (1, 2, 3),
    "6.21": (1, 2, 3),
    "6.22": (1, 2, 3),
    "6.23": (1, 2, 3),
    "6.24.1": (1, 2, 3),
    "6.24.2": (4, 5, 6, 7),
    "6.25": (4, 5, 6, 7),
    "6.26": (4, 5, 6, 7),
    "6.27": (1, 2, 3),
    "6.28": (1, 2, 3),
    "6.29": (1, 2, 3),
    "6.30": (1, 2, 3),
    "6.31": (1, 2, 3),
    "6.32": (1, 2, 3),
    "7.1": (4, 5, 6, 7),
    "7.2": (4, 5, 6, 7),
    "7.3": (4, 5, 6, 7),
    "7.4": (1, 2, 3),
    "7.5": (4, 5, 6, 7),
    "7.6": (4, 5, 6, 7),
    "7.7": (1, 2, 3),
    "7.8": (4, 5, 6, 7),
    "7.9": (1, 2, 3),
    "7.10": (1, 2, 3),
    "7.11": (1, 2, 3),
    "7.12": (4, 5, 6, 7),
    "7.13": (4, 5, 6, 7),
    "7.14": (1, 2, 3),
    "7.15": (1, 2, 3),
    "7.16": (4, 5, 6, 7),
    "8.1.1": (4, 5),
    "8.2": (8,),
    "8.3": (8,),
    "8.4": (8,),
    "8.5": (1,),
    "8.6": (8,),
    "8.7.1": (4, 5, 6, 7),
    "8.7.2": (1, 2, 3),
    "8.8.1": (4, 5, 6, 7),
    "8.8.2": (1, 2, 3),
    "8.9": (1, 2, 3),
    "8.11": (1, 2, 3),
    "8.12.1": (1, 2, 3),
    "8.12.2": (1, 2, 3),
    "8.13": (8,),
    "8.14.1": (8,),
    "8.14.2": (8,),
    "8.14.3": (8,),
    "8.14.4": (8,),
    "9.1": (1, 2, 3),
    "11.1": (8,),
    "11.2": (1, 2, 3),
    "11.3": (4, 5, 6, 7),
    "11.4": (8,),
    "12.1": (8,),
    "12.2": (8,),
    "14.1": (1, 2, 3),
}

COMMAND_VARIANTS: Final[Mapping[ServiceReferenceVariant, frozenset[CommandVariant]]] = (
    MappingProxyType(
        {
            ServiceReferenceVariant(srv): frozenset(CommandVariant(cv) for cv in cvs)
            for srv, cvs in _CV_TABLE.items()
        }
    )
)
"""The command variants each service reference variant may be sent with (schema comments)."""

SERVICE_REFERENCES: Final[frozenset[str]] = frozenset(
    {
        "1.1", "1.2", "1.5", "1.6", "1.7", "2.1", "2.2", "2.3", "2.5", "3.1", "3.2", "3.3",
        "3.4", "3.5", "4.1", "4.2", "4.3", "4.4", "4.6", "4.8", "4.10", "4.11", "4.12", "4.13",
        "4.14", "4.15", "4.16", "4.17", "4.18", "5.1", "5.2", "5.3", "6.2", "6.4", "6.5", "6.6",
        "6.7", "6.8", "6.11", "6.12", "6.13", "6.14", "6.15", "6.17", "6.18", "6.20", "6.21",
        "6.22", "6.23", "6.24", "6.25", "6.26", "6.27", "6.28", "6.29", "6.30", "6.31", "6.32",
        "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.7", "7.8", "7.9", "7.10", "7.11", "7.12",
        "7.13", "7.14", "7.15", "7.16", "8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "8.7", "8.8",
        "8.9", "8.11", "8.12", "8.13", "8.14", "9.1", "11.1", "11.2", "11.3", "11.4", "12.1",
        "12.2", "14.1",
    }
)  # fmt: skip
"""The schema's ``ServiceReference`` enumeration."""


def _service_reference(srv: str) -> str:
    parts = srv.split(".")
    for cut in range(len(parts), 1, -1):
        candidate = ".".join(parts[:cut])
        if candidate in SERVICE_REFERENCES:
            return candidate
    raise ValueError(f"service reference variant {srv} belongs to no service reference")


SERVICE_REFERENCE_OF: Final[Mapping[ServiceReferenceVariant, str]] = MappingProxyType(
    {srv: _service_reference(srv.value) for srv in ServiceReferenceVariant}
)
"""The service reference of each variant."""

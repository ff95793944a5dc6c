"""The device vocabulary every layer shares: device types, fuels and ESME variants.

The values are the DUIS 5.4 schema's literals (``DeviceType``, ``ESMEVariant``), which are
also the names GBCS gives the devices its use cases address, so the gateway, the emulator,
the HIL adapter and the use-case table use these enumerations and no copies of them.
"""

from __future__ import annotations

from enum import StrEnum


class DeviceType(StrEnum):
    """The DUIS schema's ``DeviceType`` enumeration: the targets of GBCS commands and the
    sources of alerts (HCALCS: the HAN-connected auxiliary load control switch; CAD: a
    consumer access device)."""

    ESME = "ESME"
    GSME = "GSME"
    GPF = "GPF"
    CHF = "CHF"
    HCALCS = "HCALCS"
    PPMID = "PPMID"
    IHD = "IHD"
    CAD = "CAD"


class Fuel(StrEnum):
    """The fuel of a meter point (MPAN: electricity, MPRN: gas) and of the meter on it."""

    ELECTRICITY = "electricity"
    GAS = "gas"


ESME_VARIANTS: frozenset[str] = frozenset(
    {
        "A", "B", "C", "AD", "BD", "CD", "ADE", "BDE", "CDE", "ADF", "BDF", "CDF", "ADEF",
        "BDEF", "CDEF", "ADG", "ADEG", "AF", "BF", "CF", "AEF", "BEF", "CEF", "AG", "AEG",
    }
)  # fmt: skip
"""The DUIS schema's ``ESMEVariant`` enumeration."""

__all__ = ["ESME_VARIANTS", "DeviceType", "Fuel"]

"""Device behaviour by use-case family: what the emulated devices do with the commands of
each family, beside the handlers each device class holds itself.

A family module registers its handlers with :func:`emulator.devices.families.handles` (by device
type and message code) and keeps its state on the device with
:meth:`~emulator.devices.base.Device.family_state` (JSON-ready, saved with the device). It is
imported below, so that creating any device registers it. A device answers a use case only
when its firmware profile lists it (``firmware_profiles/*.toml``).
"""

from __future__ import annotations

from emulator.usecases import (  # noqa: F401 - registers
    auxiliary,
    billing,
    configuration,
    han,
    reading,
    reading_cin,
    reading_device,
    reading_gpf,
    reading_logs,
    reading_more,
    security,
    security_device,
)

FAMILIES: tuple[str, ...] = (
    "configuration",
    "auxiliary",
    "security",
    "security_device",
    "reading",
    "reading_more",
    "reading_logs",
    "reading_device",
    "reading_gpf",
    "reading_cin",
    "billing",
    "han",
)
"""The family modules imported (their names), in import order."""

from emulator.usecases import account_esme, tariff, tariff_esme  # noqa: E402, F401  (registers)

FAMILIES += (tariff.FAMILY, "tariff_esme", "account_esme")

from emulator.usecases import alerts  # noqa: E402  (registers its handlers and alert filter)

FAMILIES += (alerts.FAMILY,)

from emulator.usecases import prepay_log_esme  # noqa: E402  (registers ECS21b and its log)

FAMILIES += (prepay_log_esme.FAMILY,)

from emulator.usecases import sub_ghz  # noqa: E402  (registers its alert writers and observer)

FAMILIES += (sub_ghz.FAMILY,)

from emulator.usecases import unjoin_b  # noqa: E402, F401  (registers CS04b)

FAMILIES += ("unjoin_b",)

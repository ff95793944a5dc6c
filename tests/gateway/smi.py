"""Shared values and helpers of the gateway's non-device tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from gateway.model import NON_DEVICE_ACB, DevicePrenotification, PropertyFilter, RequestId
from gateway.services import NonDeviceService
from gateway.storage import Storage
from gateway.users import DEFAULT_NETWORK_OPERATOR, DEFAULT_SUPPLIER, DEFAULT_SUPPLIER_2
from gbcs.devices import DeviceType

S1 = DEFAULT_SUPPLIER
S2 = DEFAULT_SUPPLIER_2
NOP = DEFAULT_NETWORK_OPERATOR
OTHER = bytes.fromhex("90b3d51f30040000")  # an Other User

ELEC = "1312345678111"
ELEC_2 = "1312345678222"
ELEC_EXPORT = "1312345678333"
ELEC_S2 = "1412345678111"  # served by the second supplier
GAS = "2345678901"
GAS_S2 = "987654"
UPRN = "10023456789"
ADDRESS = PropertyFilter("AB1 2CD", "Flat 1")


class Clock:
    """A settable clock (UTC)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class Ids:
    """RequestIDs with a strictly increasing counter per originator."""

    def __init__(self) -> None:
        self._counters: dict[bytes, itertools.count[int]] = {}

    def __call__(self, originator: bytes, target: bytes = NON_DEVICE_ACB) -> RequestId:
        counter = self._counters.setdefault(originator, itertools.count(1000))
        return RequestId(originator, target, next(counter))


def snapshot(storage: Storage) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table: compare before and after to prove nothing changed."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with storage.transaction() as tx:
        tables = [
            r["name"]
            for r in tx.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for table in tables:
            rows = tx.all(f"SELECT * FROM {table}")
            out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out


def eui(last: int) -> bytes:
    """A device EUI of the test range 00-DB-12-34-56-78-90-xx."""
    return bytes.fromhex("00db1234567890") + bytes([last])


CHF = eui(0xA2)
GPF = eui(0xA3)
ESME = eui(0xA0)
GSME = eui(0xA1)
IHD = eui(0xA4)


def prenotification(device: bytes, kind: DeviceType, **fields: object) -> DevicePrenotification:
    values: dict[str, object] = {
        "device_type": kind,
        "manufacturer": "AB01",
        "model": "010A030B",
        "smets_chts_version": "SMETS V1.58" if kind is not DeviceType.CHF else "CHTS V1.2",
        "firmware_version": "0002012F",
        "esme_variant": "A" if kind is DeviceType.ESME else None,
    }
    values.update(fields)
    return DevicePrenotification(device, **values)  # type: ignore[arg-type]


def prenotify(
    service: NonDeviceService,
    ids: Ids,
    device: bytes,
    kind: DeviceType,
    sender: bytes = S1,
    **fields: object,
) -> None:
    service.handle(sender, ids(sender), prenotification(device, kind, **fields))


def install_hub(
    service: NonDeviceService, ids: Ids, sender: bytes = S1, chf: bytes = CHF, gpf: bytes = GPF
) -> None:
    """A commissioned communications hub (CHF + GPF)."""
    prenotify(service, ids, chf, DeviceType.CHF, sender, associated_gpf_id=gpf)
    service.on_installed_not_commissioned(chf)
    service.on_commissioned(chf)


def commissioned_esme(
    service: NonDeviceService,
    ids: Ids,
    device: bytes = ESME,
    mpxn: str | None = None,
    sender: bytes = S1,
) -> None:
    """Hub (if absent), ESME pre-notified, whitelisted with ``mpxn`` and commissioned."""
    if service.get_device(CHF) is None:
        install_hub(service, ids, sender)
    prenotify(service, ids, device, DeviceType.ESME, sender)
    service.on_whitelisted(device, CHF, import_mpxn=mpxn or ELEC)
    service.on_commissioned(device)

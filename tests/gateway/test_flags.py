"""DCC Service Flags per meter point, both rule sets (SEC modification MP077), and their queue."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.flags import FlagEvent, ServiceFlag, check_rules, next_flag
from gateway.model import DecommissionDevice, DeviceStatus, UpdateMPxN
from gateway.registration import queued
from gateway.services import NonDeviceService
from gbcs.devices import DeviceType
from tests.gateway.smi import (
    CHF,
    ELEC,
    ELEC_2,
    ESME,
    GAS,
    GSME,
    S1,
    Clock,
    Ids,
    commissioned_esme,
    eui,
    install_hub,
    prenotify,
)

A, N, I_ = ServiceFlag.ACTIVE, ServiceFlag.NOT_ACTIVE, ServiceFlag.INSTALLED_NOT_COMMISSIONED
ESME_2 = eui(0xB0)


def flag(service: NonDeviceService, mpxn: str) -> str | None:
    point = service.meter_points.get(mpxn)
    assert point is not None
    return point.service_flag


def sent(service: NonDeviceService) -> list[tuple[str, str, str]]:
    """The queued (not yet notified) changes, oldest first."""
    with service.storage.transaction() as tx:
        return [(r.mpxn, r.flag.value, r.effective_date) for r in queued(tx)]


def whitelisted(
    service: NonDeviceService,
    ids: Ids,
    device: bytes,
    mpxn: str,
    kind: DeviceType = DeviceType.ESME,
) -> None:
    if service.get_device(CHF) is None:
        install_hub(service, ids)
    prenotify(service, ids, device, kind)
    service.on_whitelisted(device, CHF, import_mpxn=mpxn)


# --- dsp (default) -------------------------------------------------------------------------------


def test_null_until_commissioned_then_active(service: NonDeviceService, ids: Ids) -> None:
    assert flag(service, ELEC) is None
    whitelisted(service, ids, ESME, ELEC)
    service.on_installed_not_commissioned(ESME)
    assert flag(service, ELEC) is None  # dsp: InstalledNotCommissioned changes nothing
    assert sent(service) == []
    service.on_commissioned(ESME)
    assert flag(service, ELEC) == "A"
    assert sent(service) == [(ELEC, "A", "20260301")]


def test_decommission_sets_not_active(service: NonDeviceService, ids: Ids, clock: Clock) -> None:
    commissioned_esme(service, ids)
    clock.advance(days=3)
    service.handle(S1, ids(S1), DecommissionDevice(ESME))
    assert flag(service, ELEC) == "N"
    assert sent(service) == [(ELEC, "A", "20260301"), (ELEC, "N", "20260304")]


def test_exception_meter_point_still_served_by_another_commissioned_meter(
    service: NonDeviceService, ids: Ids
) -> None:
    commissioned_esme(service, ids)
    whitelisted(service, ids, ESME_2, ELEC)
    service.on_commissioned(ESME_2)
    service.handle(S1, ids(S1), DecommissionDevice(ESME))
    assert flag(service, ELEC) == "A"  # ESME_2 still serves it
    service.handle(S1, ids(S1), DecommissionDevice(ESME_2))
    assert flag(service, ELEC) == "N"
    assert sent(service) == [(ELEC, "A", "20260301"), (ELEC, "N", "20260301")]


def test_never_active_meter_point_never_becomes_not_active(
    service: NonDeviceService, ids: Ids
) -> None:
    whitelisted(service, ids, ESME, ELEC)
    service.handle(S1, ids(S1), DecommissionDevice(ESME))
    assert flag(service, ELEC) is None
    assert sent(service) == []


def test_linking_a_commissioned_meter_by_update_mpxn(service: NonDeviceService, ids: Ids) -> None:
    commissioned_esme(service, ids)
    service.handle(S1, ids(S1), UpdateMPxN(ESME, import_mpxn=ELEC_2))  # corrects a wrong link
    assert flag(service, ELEC_2) == "A"
    assert flag(service, ELEC) == "N"  # unlinked from a commissioned meter, nothing else serves it
    assert sent(service)[-2:] == [(ELEC_2, "A", "20260301"), (ELEC, "N", "20260301")]


def test_unlinking_a_meter_not_commissioned_changes_nothing(
    service: NonDeviceService, ids: Ids
) -> None:
    commissioned_esme(service, ids)
    whitelisted(service, ids, ESME_2, ELEC)
    service.handle(S1, ids(S1), DecommissionDevice(ESME))  # ESME_2 is only Whitelisted
    assert flag(service, ELEC) == "N"
    before = sent(service)
    service.handle(S1, ids(S1), UpdateMPxN(ESME_2, import_mpxn=ELEC_2))
    assert flag(service, ELEC) == "N"
    assert flag(service, ELEC_2) is None
    assert sent(service) == before


def test_dsp_ignores_recovery_and_suspension(service: NonDeviceService, ids: Ids) -> None:
    commissioned_esme(service, ids)
    service.on_recovery(ESME)
    service.on_recovered(ESME)
    assert flag(service, ELEC) == "A"
    assert len(sent(service)) == 1


def test_gas_meter_flags_its_mprn(service: NonDeviceService, ids: Ids) -> None:
    whitelisted(service, ids, GSME, GAS, DeviceType.GSME)
    service.on_commissioned(GSME)
    assert flag(service, GAS) == "A"
    with service.storage.transaction() as tx:
        (record,) = queued(tx)
    assert record.line() == f"E45,{GAS},A,20260301"


def test_hub_devices_carry_no_flags(service: NonDeviceService, ids: Ids) -> None:
    install_hub(service, ids)
    assert sent(service) == []


# --- mp077 ---------------------------------------------------------------------------------------


def test_mp077_installed_not_commissioned_is_i(mp077: NonDeviceService, ids: Ids) -> None:
    whitelisted(mp077, ids, ESME, ELEC)
    mp077.on_installed_not_commissioned(ESME)
    assert flag(mp077, ELEC) == "I"
    mp077.on_commissioned(ESME)
    assert flag(mp077, ELEC) == "A"
    mp077.handle(S1, ids(S1), DecommissionDevice(ESME))
    assert flag(mp077, ELEC) == "N"
    assert [f for _, f, _ in sent(mp077)] == ["I", "A", "N"]


def test_mp077_recovery_is_not_active_and_suspension_is_not(
    mp077: NonDeviceService, ids: Ids
) -> None:
    commissioned_esme(mp077, ids)
    mp077.on_recovery(ESME)
    assert flag(mp077, ELEC) == "N"
    mp077.on_recovered(ESME)
    assert flag(mp077, ELEC) == "N"
    assert [f for _, f, _ in sent(mp077)] == ["A", "N"]  # no second N
    whitelisted(mp077, ids, ESME_2, ELEC_2)
    mp077.on_commissioned(ESME_2)
    mp077.on_suspended(ESME_2)
    assert flag(mp077, ELEC_2) == "A"


def test_mp077_keeps_the_exception(mp077: NonDeviceService, ids: Ids) -> None:
    commissioned_esme(mp077, ids)
    whitelisted(mp077, ids, ESME_2, ELEC)
    mp077.on_commissioned(ESME_2)
    mp077.handle(S1, ids(S1), DecommissionDevice(ESME))
    assert flag(mp077, ELEC) == "A"


def test_mp077_unlinked_last_meter_is_not_active(mp077: NonDeviceService, ids: Ids) -> None:
    whitelisted(mp077, ids, ESME, ELEC)
    mp077.on_installed_not_commissioned(ESME)
    mp077.handle(S1, ids(S1), UpdateMPxN(ESME, import_mpxn=ELEC_2))
    assert flag(mp077, ELEC) == "N"
    assert flag(mp077, ELEC_2) == "I"


# --- the pure function ---------------------------------------------------------------------------

STATUSES = st.lists(st.sampled_from(list(DeviceStatus)), max_size=4)
FLAGS = st.sampled_from([None, A, N, I_])


@settings(max_examples=200, deadline=None)
@given(
    rules=st.sampled_from(["dsp", "mp077"]),
    current=FLAGS,
    meters=STATUSES,
    event=st.sampled_from(list(FlagEvent)),
    status=st.sampled_from(list(DeviceStatus)),
)
def test_flag_invariants(
    rules: str,
    current: ServiceFlag | None,
    meters: list[DeviceStatus],
    event: FlagEvent,
    status: DeviceStatus,
) -> None:
    new = next_flag(check_rules(rules), current, meters, event, status)
    if DeviceStatus.COMMISSIONED in meters:
        assert new is A  # any commissioned meter keeps the meter point active
    if current is None:
        assert new in (None, A, I_)  # N only after a flag was set
    if new is N:
        assert current in (A, I_, N)  # only a meter point that had a flag becomes N
    if rules == "dsp":
        assert new is not I_ or current is I_


def test_unknown_rule_set_is_refused() -> None:
    with pytest.raises(ValueError, match="'mp999'"):
        check_rules("mp999")
    with pytest.raises(ValueError, match="unknown service flag rules"):
        next_flag("mp999", None, [], FlagEvent.LINKED, DeviceStatus.PENDING)  # type: ignore[arg-type]

"""RequestID rules: the sender, the originator, the ACB target, counters strictly increasing."""

from __future__ import annotations

import pytest

from gateway.errors import ServiceError
from gateway.model import NON_DEVICE_ACB, ReadInventory, RequestId, ServiceOptOut
from gateway.services import NonDeviceService
from gateway.storage import Storage
from gateway.users import last_request_counter
from gbcs.devices import DeviceType
from tests.gateway.smi import ESME, GSME, NOP, OTHER, S1, S2, Ids, prenotification, snapshot

UNKNOWN = bytes.fromhex("90b3d51f30990000")


def _counter(storage: Storage, originator: bytes) -> int | None:
    with storage.transaction() as tx:
        return last_request_counter(tx, originator)


def _refused(service: NonDeviceService, sender: bytes, rid: RequestId, request: object) -> str:
    before = snapshot(service.storage)
    with pytest.raises(ServiceError) as err:
        service.handle(sender, rid, request)  # type: ignore[arg-type]
    assert snapshot(service.storage) == before
    return err.value.code


def test_same_counter_twice_is_a_replay(service: NonDeviceService) -> None:
    rid = RequestId(S1, NON_DEVICE_ACB, 1000)
    service.handle(S1, rid, prenotification(ESME, DeviceType.ESME))
    code = _refused(service, S1, rid, prenotification(GSME, DeviceType.GSME))
    assert code == "E21"
    assert service.get_device(GSME) is None


def test_lower_counter_is_refused_and_names_both_counters(service: NonDeviceService) -> None:
    service.handle(S1, RequestId(S1, NON_DEVICE_ACB, 50), prenotification(ESME, DeviceType.ESME))
    with pytest.raises(ServiceError) as err:
        service.handle(S1, RequestId(S1, NON_DEVICE_ACB, 49), read_request(S1))
    assert err.value.rule == "request_id_replayed"
    assert "counter 49" in err.value.sentence
    assert "last accepted counter 50" in err.value.sentence


def read_request(_: bytes) -> ReadInventory:
    """A request every role may send."""
    return ReadInventory(mpxn="1312345678111")


def test_counters_are_per_originator(service: NonDeviceService) -> None:
    service.handle(S1, RequestId(S1, NON_DEVICE_ACB, 7), prenotification(ESME, DeviceType.ESME))
    service.handle(S2, RequestId(S2, NON_DEVICE_ACB, 7), prenotification(GSME, DeviceType.GSME))
    assert _counter(service.storage, S1) == 7
    assert _counter(service.storage, S2) == 7


def test_a_refused_request_does_not_consume_its_counter(service: NonDeviceService) -> None:
    rid = RequestId(S1, NON_DEVICE_ACB, 10)
    _refused(service, S1, rid, prenotification(ESME, DeviceType.ESME, manufacturer=""))
    assert _counter(service.storage, S1) is None
    service.handle(S1, rid, prenotification(ESME, DeviceType.ESME))  # corrected, same RequestID
    assert _counter(service.storage, S1) == 10


def test_the_largest_counter_is_accepted_and_beyond_it_refused(service: NonDeviceService) -> None:
    top = 2**64 - 1
    service.handle(S1, RequestId(S1, NON_DEVICE_ACB, top), prenotification(ESME, DeviceType.ESME))
    assert _counter(service.storage, S1) == top
    code = _refused(service, S2, RequestId(S2, NON_DEVICE_ACB, top + 1), read_request(S2))
    assert code == "E31"
    assert _refused(service, S2, RequestId(S2, NON_DEVICE_ACB, -1), read_request(S2)) == "E31"


def test_unknown_sender(service: NonDeviceService) -> None:
    assert (
        _refused(service, UNKNOWN, RequestId(UNKNOWN, NON_DEVICE_ACB, 1), read_request(S1)) == "E3"
    )


def test_originator_must_be_the_sender(service: NonDeviceService) -> None:
    assert _refused(service, S1, RequestId(S2, NON_DEVICE_ACB, 1), read_request(S1)) == "E5"


def test_non_device_target_must_be_the_acb(service: NonDeviceService) -> None:
    assert _refused(service, S1, RequestId(S1, ESME, 1), read_request(S1)) == "E11"


@pytest.mark.parametrize("sender", [S1, S2, NOP, OTHER])
def test_service_opt_out_is_always_refused(
    service: NonDeviceService, ids: Ids, sender: bytes
) -> None:
    service.handle(S1, ids(S1), prenotification(ESME, DeviceType.ESME))
    with pytest.raises(ServiceError) as err:
        service.handle(sender, ids(sender), ServiceOptOut(ESME))
    assert err.value.code == "E080501"
    assert "available to no DCC User" in err.value.sentence


def test_every_role_may_read_the_inventory(service: NonDeviceService, ids: Ids) -> None:
    service.handle(S1, ids(S1), prenotification(ESME, DeviceType.ESME))
    for sender in (S1, S2, NOP, OTHER):
        result = service.handle(sender, ids(sender), ReadInventory(device_id=ESME))
        assert [r.device_id for r in result.records] == [ESME]


def test_accept_request_id_for_device_requests(service: NonDeviceService) -> None:
    user = service.accept_request_id(S1, RequestId(S1, ESME, 5))
    assert user.eui == S1
    with pytest.raises(ServiceError) as err:
        service.accept_request_id(S1, RequestId(S1, ESME, 5))
    assert err.value.code == "E21"
    # device and non-device requests share the originator's counter
    with pytest.raises(ServiceError):
        service.handle(S1, RequestId(S1, NON_DEVICE_ACB, 4), read_request(S1))


def test_batch_gives_each_item_its_own_outcome_in_one_commit(service: NonDeviceService) -> None:
    items = [
        (S1, RequestId(S1, NON_DEVICE_ACB, 1), prenotification(ESME, DeviceType.ESME)),
        (S1, RequestId(S1, NON_DEVICE_ACB, 1), prenotification(GSME, DeviceType.GSME)),  # replay
        (S1, RequestId(S1, NON_DEVICE_ACB, 2), prenotification(ESME, DeviceType.ESME)),  # duplicate
        (S1, RequestId(S1, NON_DEVICE_ACB, 3), prenotification(GSME, DeviceType.GSME)),
    ]
    results = service.handle_batch(items)
    codes = [r.code if isinstance(r, ServiceError) else r.response_code for r in results]
    assert codes == ["I0", "E21", "E120201", "I0"]
    assert service.get_device(GSME) is not None
    assert _counter(service.storage, S1) == 3

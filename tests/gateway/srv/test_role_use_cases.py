"""The use cases one SR body maps to by the sender's DCC User role: SR6.2.10 reads the network
operator's behaviour objects (ECS25r2) when the network operator asks, the supplier's
(ECS25r1) otherwise. And every SR whose use cases on one device type are GBCS's supplier and
network-operator variants of each other is decided by the body or by the sender's role, never
silently sent as the supplier's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from gateway.srv.catalogue import CATALOGUE, entry
from gateway.srv.spec import Command, acts_as_network_operator
from gateway.users import UserRole
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.usecases import by_name

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
NETWORK_OPERATOR = bytes.fromhex("90B3D51F30020000")
ESME = bytes.fromhex("00DB1234567890C0")
GSME = bytes.fromhex("00DB1234567890A1")
BODY = "<sr:ReadDeviceConfigurationEventAndAlertBehaviours/>"

IS, ES, GS, ED, GT, OU, RSA = (
    UserRole.IS,
    UserRole.ES,
    UserRole.GS,
    UserRole.ED,
    UserRole.GT,
    UserRole.OU,
    UserRole.RSA,
)


def _read(xml: str) -> object:
    codec = entry("6.2.10").codec
    assert codec is not None
    return codec.read(etree.fromstring(f'<sr:B xmlns:sr="{SR}">{xml}</sr:B>')[0])


@pytest.mark.parametrize(
    ("roles", "wanted"),
    [
        (frozenset({ED}), "ECS25r2"),
        (frozenset({ED, GT}), "ECS25r2"),  # the sandbox's network operator
        (frozenset({IS}), "ECS25r1"),
        (frozenset({IS, ES, GS}), "ECS25r1"),  # the sandbox's supplier
        (frozenset({GS}), "ECS25r1"),
        (frozenset({IS, ED}), "ECS25r1"),  # one user holding both acts as the supplier
        (frozenset(), "ECS25r1"),  # not known: DUIS's default, the supplier's
    ],
)
def test_6_2_10_reads_the_behaviours_of_the_senders_role(
    roles: frozenset[UserRole], wanted: str
) -> None:
    found = entry("6.2.10")
    assert found.use_case(DeviceType.ESME, _read(BODY), ESME, "C", roles) == wanted


@pytest.mark.parametrize("roles", [frozenset({ED, GT}), frozenset({IS, ES, GS})])
def test_6_2_10_on_a_gas_meter_is_gcs20r_whoever_asks(roles: frozenset[UserRole]) -> None:
    assert entry("6.2.10").use_case(DeviceType.GSME, _read(BODY), GSME, None, roles) == "GCS20r"


@pytest.mark.parametrize(
    ("roles", "setters"),
    [
        (frozenset({ED, GT}), ("ECS25b", "ECS25b3")),
        (frozenset({IS, ES, GS}), ("ECS25a", "ECS25a1", "ECS25a2", "ECS25a3")),
    ],
)
def test_the_chosen_read_gets_the_objects_that_roles_settings_write(
    roles: frozenset[UserRole], setters: tuple[str, ...]
) -> None:
    """ECS25r2 gets exactly the objects ECS25b / ECS25b3 (SR6.22 from the network operator)
    write, ECS25r1 those of ECS25a..a3 - so what a role sets, the same role reads back."""
    found = entry("6.2.10")
    assert found.codec is not None
    request = _read(BODY)
    name = found.use_case(DeviceType.ESME, request, ESME, "C", roles)
    uc = by_name(name)
    content = found.codec.build(Command(request, uc, 41, NETWORK_OPERATOR, ESME, NOW))
    decoded = gc.decode_command(uc.code, content)
    assert isinstance(decoded, gc.DlmsRead)
    assert decoded.counter == 41
    by_setter = {o.use_case: o.read_obis for o in gc.BEHAVIOUR_OBJECTS.values()}
    assert [str(get.obis) for get in decoded.gets()] == [by_setter[s] for s in setters]


def test_the_network_operator_is_the_electricity_distributor_without_a_supplier_role() -> None:
    assert acts_as_network_operator(frozenset({ED}))
    assert not acts_as_network_operator(frozenset({GT}))
    assert not acts_as_network_operator(frozenset({OU, RSA}))
    for supplier in (IS, ES, GS):
        assert not acts_as_network_operator(frozenset({ED, supplier}))


def _party(name: str) -> str | None:
    title = by_name(name).title
    for party in ("Network Operator", "Supplier"):
        if title.endswith(f" - {party}"):
            return party
    return None


def test_every_supplier_and_network_operator_pair_is_chosen_by_body_or_role() -> None:
    """Where GBCS has a supplier's and a network operator's variant of the same use case on
    one device type (by its titles), the codec decides between them by the body (SR6.22's
    settings element) or by the sender's role: never the first name whatever is asked."""
    pairs = []
    for e in CATALOGUE.values():
        if e.codec is None:
            continue
        for device_type, names in e.row.use_cases.items():
            parties = {_party(n) for n in names}
            if {"Network Operator", "Supplier"} <= parties:
                pairs.append((e.srv.value, device_type))
                assert e.codec.choose is not None or e.codec.choose_by_role is not None, (
                    f"SR{e.srv.value} on a {device_type} sends one of {names} whoever asks"
                )
    # SR6.2.10 (by role) and SR6.22 (by the body's settings element) are the ESME's pairs.
    assert sorted(pairs) == [("6.2.10", DeviceType.ESME), ("6.22", DeviceType.ESME)]

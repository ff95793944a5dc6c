"""The admin API (users, meter points, RDP flush and inbox) and its effect on DUIS requests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from gbcs.devices import Fuel
from tests.gateway.duis.http import (
    A0,
    ELEC,
    S1,
    Client,
    client_for,
    code_of,
    running,
    settings_for,
)
from tests.gateway.duis.support import prenotification_body, read_inventory_body, signer_for

CHF = bytes.fromhex("00db1234567890c0")


def read_lines(path: str) -> list[str]:
    return Path(path).read_text().splitlines()


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async for c in client_for(tmp_path):
        yield c


OTHER = bytes.fromhex("90b3d51f30040000")
ACB = bytes.fromhex("90b3d51f30000002")


async def test_default_users_mirror_the_dcc_test_environment(client: Client) -> None:
    status, users = await client.admin("GET", "/admin/users")
    assert status == 200
    by_eui = {u["eui"]: u for u in users}
    assert by_eui["90-B3-D5-1F-30-01-00-00"]["roles"] == ["ES", "GS", "IS"]
    assert "90-B3-D5-1F-30-03-00-00" in by_eui
    assert by_eui["90-B3-D5-1F-30-02-00-00"]["roles"] == ["ED", "GT"]
    assert all(u["certificate"].startswith("-----BEGIN CERTIFICATE-----") for u in users)


async def test_a_new_user_can_send_signed_requests(client: Client) -> None:
    # An Other User with the ACB's test key as its signing key (any registered cert will do).
    pem = signer_for(ACB).certificate.public_bytes(Encoding.PEM).decode()
    status, body = await client.admin(
        "POST", "/admin/users", {"eui": "90-B3-D5-1F-30-04-00-00", "roles": ["Other User"]}
    )
    assert (status, body["roles"]) == (200, ["OU"])
    _, root, _ = await client.send("8.2", read_inventory_body(A0), originator=OTHER, signer=ACB)
    assert code_of(root) == "E45"  # no certificate registered yet
    status, _ = await client.admin(
        "POST", "/admin/users", {"eui": "90B3D51F30040000", "roles": ["OU"], "certificate": pem}
    )
    assert status == 200
    _, root, _ = await client.send("8.2", read_inventory_body(A0), originator=OTHER, signer=ACB)
    assert code_of(root) not in ("E44", "E45", "E46")  # authenticated: now the rules decide


async def test_a_certificate_belongs_to_one_user(client: Client) -> None:
    pem = signer_for(S1).certificate.public_bytes(Encoding.PEM).decode()
    status, body = await client.admin(
        "POST",
        "/admin/users",
        {"eui": "90-B3-D5-1F-30-04-00-00", "roles": ["OU"], "certificate": pem},
    )
    assert status == 400
    assert "already registered to 90-B3-D5-1F-30-01-00-00" in body["error"]


async def test_bad_json_names_the_field(client: Client) -> None:
    cases = [
        ({"roles": ["IS"]}, "'eui'"),
        ({"eui": "90-B3-D5", "roles": ["IS"]}, "'eui'"),
        ({"eui": "90-B3-D5-1F-30-04-00-00", "roles": "IS"}, "'roles'"),
        ({"eui": "90-B3-D5-1F-30-04-00-00", "roles": ["Plumber"]}, "Plumber"),
        (
            {"eui": "90-B3-D5-1F-30-04-00-00", "roles": ["IS"], "certificate": "nope"},
            "'certificate'",
        ),
        ({"eui": "90-B3-D5-1F-30-04-00-00", "roles": ["IS"], "colour": 1}, "'colour'"),
    ]
    for payload, needle in cases:
        status, body = await client.admin("POST", "/admin/users", payload)
        assert status == 400, payload
        assert needle in body["error"], (payload, body)
    status, body = await client.admin("POST", "/admin/users", raw=b"{not json")
    assert status == 400
    assert "not JSON" in body["error"]
    status, body = await client.admin("POST", "/admin/meter-points", raw=b"[1, 2]")
    assert (status, body["error"]) == (400, "the body must be a JSON object")
    status, users = await client.admin("GET", "/admin/users")
    assert len(users) == 4  # nothing was added


async def test_meter_points_and_change_of_supplier(client: Client) -> None:
    point = {"mpxn": ELEC, "fuel": "electricity", "supplier": "90-B3-D5-1F-30-01-00-00"}
    status, body = await client.admin(
        "POST", "/admin/meter-points", {**point, "uprn": "10023456789"}
    )
    assert (status, body["change_of_supplier"]) == (201, False)
    status, body = await client.admin(
        "POST", "/admin/meter-points", {**point, "supplier": "90-B3-D5-1F-30-03-00-00"}
    )
    assert (status, body["change_of_supplier"], body["supplier"]) == (
        200,
        True,
        "90-B3-D5-1F-30-03-00-00",
    )
    status, points = await client.admin("GET", "/admin/meter-points")
    assert [(p["mpxn"], p["supplier"], p["fuel"]) for p in points] == [
        (ELEC, "90-B3-D5-1F-30-03-00-00", "electricity")
    ]
    for bad, needle in (
        ({**point, "fuel": "water"}, "'fuel'"),
        ({**point, "mpxn": 1312345678111}, "'mpxn'"),
        ({**point, "supplier": None}, "'supplier'"),
        ({**point, "network_operator": "x"}, "'network_operator'"),
        ({**point, "mpxn": "123"}, "MPAN"),
        ({**point, "supplier": "90-B3-D5-1F-30-07-00-00"}, "not a registered DCC User"),
    ):
        status, body = await client.admin("POST", "/admin/meter-points", bad)
        assert status == 400, bad
        assert needle in body["error"], (bad, body)


async def test_rdp_flush_writes_the_flag_files(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    async with running(
        settings_for(tmp_path, rdp_outbox=outbox, rdp_flush_interval=0, rdp_inbox_interval=0)
    ) as c:
        await c.admin(
            "POST",
            "/admin/meter-points",
            {
                "mpxn": ELEC,
                "fuel": "electricity",
                "supplier": "90-B3-D5-1F-30-01-00-00",
                "network_operator": "90-B3-D5-1F-30-02-00-00",
            },
        )
        chf_body = (
            "<sr:DevicePrenotification><sr:DeviceID>00-DB-12-34-56-78-90-C0</sr:DeviceID>"
            "<sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>CH</sr:DeviceModel>"
            "<sr:DeviceType>CHF</sr:DeviceType><sr:SMETSCHTSVersion>CHTS V1.2</sr:SMETSCHTSVersion>"
            "</sr:DevicePrenotification>"
        )
        for body in (chf_body, prenotification_body(A0)):
            _, root, _ = await c.send("12.2", body)
            assert code_of(root) == "I0"
        status, body = await c.admin("POST", "/admin/rdp/flush")
        assert (status, body) == (200, {"files": []})
        # What the device SRs will drive (8.11 then 8.1.1), called directly here.
        c.gateway.service.on_whitelisted(A0, CHF, import_mpxn=ELEC)
        c.gateway.service.on_commissioned(A0)
        status, body = await c.admin("POST", "/admin/rdp/flush")
        assert status == 200
        [written] = body["files"]
        lines = read_lines(written)
        assert len(lines) == 1
        assert lines[0].startswith(f"D0350,{ELEC},A,")
        status, body = await c.admin("POST", "/admin/rdp/flush")
        assert body == {"files": []}  # never sent twice
        status, body = await c.admin("POST", "/admin/rdp/inbox")
        assert (status, body) == (200, {"reports": []})


async def test_periodic_flush(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    settings = settings_for(
        tmp_path, rdp_outbox=outbox, rdp_flush_interval=0.05, rdp_inbox_interval=0.05
    )
    async with running(settings) as c:
        await c.admin(
            "POST",
            "/admin/meter-points",
            {"mpxn": "2345678901", "fuel": "gas", "supplier": "90-B3-D5-1F-30-01-00-00"},
        )
        chf = (
            "<sr:DevicePrenotification><sr:DeviceID>00-DB-12-34-56-78-90-C0</sr:DeviceID>"
            "<sr:DeviceManufacturer>AB01</sr:DeviceManufacturer><sr:DeviceModel>CH</sr:DeviceModel>"
            "<sr:DeviceType>CHF</sr:DeviceType></sr:DevicePrenotification>"
        )
        await c.send("12.2", chf)
        await c.send("12.2", prenotification_body(A0, device_type="GSME", variant=None))
        c.gateway.service.on_whitelisted(A0, CHF, import_mpxn="2345678901")
        c.gateway.service.on_commissioned(A0)
        for _ in range(100):
            files = list(outbox.glob("*"))
            if any(f.is_file() for f in files):
                break
            await asyncio.sleep(0.02)
        gas = [f for f in outbox.iterdir() if f.is_file()]
        assert len(gas) == 1
        assert gas[0].read_text().startswith("E45,2345678901,A,")
        assert Fuel.GAS  # the gas flow: one E45 record a line


async def test_rdp_endpoints_without_an_outbox(client: Client) -> None:
    status, body = await client.admin("POST", "/admin/rdp/flush")
    assert status == 409
    assert "--rdp-outbox" in body["error"]


async def test_health(client: Client) -> None:
    status, body = await client.admin("GET", "/admin/health")
    assert (status, body["status"]) == (200, "ok")
    assert body["url"] == client.url
    assert body["pid"] == os.getpid()  # the gateway runs in this test's process


async def test_updating_one_field_of_a_user_keeps_the_others(client: Client) -> None:
    status, users = await client.admin("GET", "/admin/users")
    before = {u["eui"]: u for u in users}["90-B3-D5-1F-30-01-00-00"]
    assert before["certificate"] is not None
    url = "http://127.0.0.1:9/responses"
    status, body = await client.admin(
        "POST", "/admin/users", {"eui": "90-B3-D5-1F-30-01-00-00", "response_url": url}
    )
    assert status == 200, body
    assert (body["certificate"], body["roles"], body["response_url"]) == (
        before["certificate"],
        before["roles"],
        url,
    )
    _, users = await client.admin("GET", "/admin/users")
    after = {u["eui"]: u for u in users}["90-B3-D5-1F-30-01-00-00"]
    assert {**after, "last_request_counter": None} == {
        **before,
        "response_url": url,
        "last_request_counter": None,
    }
    # its signed requests are still recognised
    _, root, _ = await client.send("8.2", read_inventory_body(A0))
    assert code_of(root) not in ("E44", "E45", "E46")
    # null clears a field: without its certificate, the user's signed requests are refused
    status, body = await client.admin(
        "POST", "/admin/users", {"eui": "90-B3-D5-1F-30-01-00-00", "certificate": None}
    )
    assert (status, body["certificate"], body["response_url"]) == (200, None, url)
    _, root, _ = await client.send("8.2", read_inventory_body(A0))
    assert code_of(root) == "E45"


async def test_a_new_user_needs_roles(client: Client) -> None:
    status, body = await client.admin(
        "POST", "/admin/users", {"eui": "90-B3-D5-1F-30-04-00-00", "response_url": "http://x/"}
    )
    assert status == 400
    assert "'roles'" in body["error"]
    assert "new" in body["error"]
    _, users = await client.admin("GET", "/admin/users")
    assert "90-B3-D5-1F-30-04-00-00" not in {u["eui"] for u in users}


async def test_users_show_their_last_accepted_request_counter(client: Client) -> None:
    _, users = await client.admin("GET", "/admin/users")
    assert {u["last_request_counter"] for u in users} == {None}
    _, root, _ = await client.send("12.2", prenotification_body(A0), counter=10**15)
    assert code_of(root) == "I0"
    _, users = await client.admin("GET", "/admin/users")
    by_eui = {u["eui"]: u["last_request_counter"] for u in users}
    assert by_eui["90-B3-D5-1F-30-01-00-00"] == 10**15
    assert by_eui["90-B3-D5-1F-30-02-00-00"] is None

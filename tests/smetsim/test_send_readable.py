"""`smetsim send --wait` prints answers a person reads: registers as labelled values in their
units with the device's scaling, ISO dates, an 8.2 inventory as a table; the keys are found
through the sandbox's state folder, or the output says why the MAC is unknown."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from gbcs.explain import iso_date_time
from smetsim.cli import main
from smetsim.client import DuisClient
from smetsim.commands.send import _sandbox_keys
from smetsim.pytest_plugin import SandboxHandle
from smetsim.readable import inventory_table


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


def _request(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Path:
    path = tmp_path / "request.xml"
    code, _, err = run(["request", *args, "-o", str(path)], capsys)
    assert code == 0, err
    return path


def _tree_number(out: str, pattern: str) -> int:
    match = re.search(pattern, out)
    assert match, out
    return int(match.group(1))


def test_registers_in_kwh_with_the_devices_scaling(
    smetsim_sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(tmp_path, capsys, "4.1.1")
    url = smetsim_sandbox.url
    code, out, err = run(["send", str(request), "--url", url, "--wait", "--fresh"], capsys)
    assert code == 0, err
    assert "double-long-unsigned" not in out
    assert "MAC: valid" in out  # keys found by themselves: no --state given
    shown = re.search(r"active import: ([\d,]+\.\d{3}) kWh", out)
    assert shown, out
    # The same answer as a tree: the raw count and its scaler give the same kWh.
    code, tree, err = run(
        ["send", str(request), "--url", url, "--wait", "--fresh", "--tree"], capsys
    )
    assert code == 0, err
    count = _tree_number(tree, r"\[0\]: double-long-unsigned (\d+)")
    scaler = _tree_number(tree, r"\[0\]: integer (-?\d+)")
    shown_now = re.search(r"active import", tree)
    assert shown_now is None  # the tree shows no reading, only the data
    kwh = float(shown.group(1).replace(",", ""))
    # The meter advances between the two reads (a few Wh at most).
    assert 0 <= count * 10.0**scaler / 1000 - kwh < 1.0


def test_gas_volume_in_m3(
    smetsim_sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(tmp_path, capsys, "4.1.1", "--device", "00-DB-12-34-56-78-90-A1")
    code, out, err = run(["send", str(request), "--url", smetsim_sandbox.url, "--wait"], capsys)
    assert code == 0, err
    assert re.search(r"volume: [\d,]+\.\d{3} m3", out), out


def test_an_inventory_is_a_table_and_xml_the_raw_answer(
    smetsim_sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = _request(tmp_path, capsys, "8.2")
    code, out, err = run(["send", str(request), "--url", smetsim_sandbox.url], capsys)
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if line.strip().startswith("device"))
    assert "status" in header
    assert "MPxN" in header
    assert re.search(r"00-DB-12-34-56-78-90-A0\s+ESME\s+Commissioned\s", out), out
    assert "<sr:DSPInventory>" not in out
    code, out, err = run(
        ["send", str(request), "--url", smetsim_sandbox.url, "--xml", "--fresh"], capsys
    )
    assert code == 0, err
    assert "DSPInventory" in out
    assert not re.search(r"^\s+device\s+type", out, re.M)


def test_inventory_table_aligns_columns_and_drops_empty_ones() -> None:
    body = (
        b'<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"><sr:Body>'
        b"<sr:ResponseMessage><sr:DSPInventory>"
        b"<sr:Device><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID>"
        b"<sr:DeviceType>ESME</sr:DeviceType><sr:DeviceStatus>Pending</sr:DeviceStatus></sr:Device>"
        b"<sr:Device><sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID>"
        b"<sr:DeviceType>CHF</sr:DeviceType></sr:Device>"
        b"</sr:DSPInventory></sr:ResponseMessage></sr:Body></sr:Response>"
    )
    assert inventory_table(body) == [
        "device                   type  status",
        "00-DB-12-34-56-78-90-A0  ESME  Pending",
        "00-DB-12-34-56-78-90-A2  CHF   -",
    ]
    assert inventory_table(b"<a/>") is None


@pytest.mark.parametrize(
    ("hex_", "iso"),
    [
        ("07EA0C07FF130A0500000000", "2026-12-07T19:10:05Z"),
        ("07EA0C07FF130A05FF800000", "2026-12-07T19:10:05Z"),  # deviation not specified
        ("07EA0607FF130A0500FFC400", "2026-06-07T19:10:05+01:00"),  # BST: deviation -60
        ("FFFF0C07FF130A0500000000", None),  # a wildcard year has no ISO form
        ("07EA0D07FF130A0500000000", None),  # month 13
        ("07EA0C07", None),
    ],
)
def test_cosem_date_times_as_iso(hex_: str, iso: str | None) -> None:
    assert iso_date_time(hex_) == iso


@pytest.fixture
async def refusing_gateway() -> AsyncIterator[str]:
    """A gateway whose admin API refuses this client (as beyond loopback without a token)."""

    async def health(_: web.Request) -> web.Response:
        return web.Response(status=401)

    app = web.Application()
    app.router.add_get("/admin/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_without_keys_the_reason_is_given(refusing_gateway: str) -> None:
    async with DuisClient(refusing_gateway) as client:
        keys, why = await _sandbox_keys(client)
    assert keys is None
    assert why is not None
    assert "HTTP 401" in why
    assert "--state" in why
    async with DuisClient("http://127.0.0.1:9") as client:
        keys, why = await _sandbox_keys(client)
    assert keys is None
    assert why is not None
    assert "did not say where its state folder is" in why


def test_response_fields_read_as_words() -> None:
    from gbcs.payloads.dlms import AccessKind, AccessResult
    from smetsim.readable import _field

    results = (AccessResult(AccessKind.ACTION, 0), AccessResult(AccessKind.SET, 250))
    assert _field("results", results) == "action success, set other-reason (250)"
    assert _field("credit_remaining", 1234) == "12.34 GBP"
    assert _field("stamp", bytes.fromhex("07EA0C07FF130A0500000000")) == "2026-12-07T19:10:05Z"

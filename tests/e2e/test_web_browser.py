"""The web view in a real browser: Debian's Chromium driven by Playwright (skipped when either
is absent; no browser download). Each view is screenshot: into docs/img/ with
``SMETSIM_SCREENSHOTS=1`` (how the docs' images are made), else into the test's own folder, so
a test run leaves the tree as it was."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.admin_auth import COOKIE
from gateway.server import Gateway
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, Sandbox
from tests.e2e.support import request, request_id
from tests.gateway.duis.http import A0, Client, settings_for
from tests.gateway.duis.support import read_inventory_body
from tests.gateway.test_admin_auth import FAR, TOKEN, injected_peer

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="no system Chromium")


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            yield await context.new_page()
        finally:
            await browser.close()
    # The driver's default-executor threads: ended here, after the sandbox (requested after
    # this fixture) has closed, so nothing needs that executor any more.
    await asyncio.get_running_loop().shutdown_default_executor()


def _read(client: DuisClient) -> bytes:
    return request(client, "4.1.1", ESME, "<sr:ReadInstantaneousImportRegisters/>")


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = DOCS_IMAGES if os.environ.get("SMETSIM_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _shot(page: Any, folder: Path, name: str) -> None:
    image = await page.screenshot(path=str(folder / name), full_page=False)
    assert image.startswith(b"\x89PNG")


async def test_the_flow_the_request_the_devices_and_a_fault_in_a_browser(
    page: Any, sandbox: Sandbox, client: DuisClient, shots: Path
) -> None:
    expect = playwright_api.expect
    await page.goto(sandbox.url + "/")
    await expect(page.locator("#status")).to_have_text("live", timeout=10_000)

    # An SR appears in the flow without a reload, and its final answer after it.
    xml = _read(client)
    rid = request_id(xml)
    await client.send(xml, wait=True, within=5)
    row = page.locator("#flow tbody tr", has_text=rid)
    await expect(row).to_have_count(1, timeout=10_000)
    await expect(row.locator(".outcome")).to_have_text("response", timeout=10_000)
    await page.fill("input[name=srv]", "11.2")
    await expect(row).to_be_hidden()
    await page.fill("input[name=srv]", "4.1.1")
    await expect(row).to_be_visible()
    await _shot(page, shots, "web-flow.png")

    # Its page: the GBCS frames decoded, with a valid MAC.
    await row.locator("a").click()
    await expect(page.locator("h1")).to_contain_text(rid)
    frames = page.locator("pre.frame")
    await expect(frames).to_have_count(2)
    await expect(frames.first).to_contain_text("ECS17b")
    await expect(frames.first).to_contain_text("MAC: valid")
    await _shot(page, shots, "web-request.png")

    # The devices view shows the ESME's register as the fleet holds it.
    await page.goto(sandbox.url + "/devices")
    esme = page.locator("section.device[data-eui='00-DB-12-34-56-78-90-A0']")
    register = sandbox.fleet.device(ESME, sandbox.clock()).meter.total
    await expect(esme.locator(".register")).to_have_text(f"{register} Wh")
    await expect(esme.locator(".tariff")).to_contain_text("standing charge")
    await expect(esme.locator(".debt")).to_contain_text(" p")
    await _shot(page, shots, "web-devices.png")

    # Clock forward from the page: the sandbox's clock moves (the gateway's with the devices'),
    # and the section shows the device's new time without a reload.
    before = esme.locator(".device-clock")
    shown = await before.text_content()
    page.once("dialog", lambda dialog: dialog.accept("86400"))
    await esme.locator("button[data-action=clock]").click()
    await expect(esme.locator(".done")).to_contain_text("moved forward 86400 s")
    await expect(esme.locator(".device-clock")).not_to_have_text(shown or "")
    assert (sandbox.gateway.clock() - datetime.now(UTC)).total_seconds() > 86_000
    await expect(page.locator(".clock")).to_contain_text("moved forward 86400")

    # A fault injected from the page: the next request ends in a DCC alert.
    sandbox.devices.response_timeout = 0.3
    page.once("dialog", lambda dialog: dialog.accept("2"))
    await esme.locator("button[data-action=slow]").click()
    await expect(esme.locator(".done")).to_contain_text("delayed by 2 s")
    assert sandbox.wan.faults.delay == 2.0
    await page.goto(sandbox.url + "/")
    await expect(page.locator("#status")).to_have_text("live", timeout=10_000)
    slow = _read(client)
    await client.post(slow)
    slow_row = page.locator("#flow tbody tr", has_text=request_id(slow))
    await expect(slow_row.locator(".outcome")).to_have_text("dcc-alert", timeout=10_000)
    await expect(slow_row.locator(".final")).to_contain_text("N12")
    sandbox.wan.faults.delay = 0.0

    await page.goto(sandbox.url + "/inventory")
    await expect(page.locator("#smi")).to_contain_text("00-DB-12-34-56-78-90-A0")
    await expect(page.locator("#points")).to_contain_text("1312345678111")
    await _shot(page, shots, "web-inventory.png")


async def test_a_far_browser_opens_the_live_flow_with_the_token_once(
    page: Any, tmp_path: Path
) -> None:
    # A gateway with an admin token; the browser's requests carry the test-only header that
    # makes the gateway see them as coming from off this machine (nothing leaves loopback).
    gateway = Gateway.open(settings_for(tmp_path, admin_token=TOKEN))
    gateway.app.middlewares.insert(0, injected_peer)
    await gateway.start()
    try:
        assert gateway.listening is not None
        url = gateway.listening.url
        await page.set_extra_http_headers({"X-Test-Peer": FAR})
        refused = await page.goto(url + "/")
        assert refused is not None
        assert refused.status == 401
        await page.goto(f"{url}/?token={TOKEN}")
        assert page.url == url + "/"  # the token is not left in the address bar
        expect = playwright_api.expect
        # EventSource sends no Authorization header: the cookie lets the live stream in.
        await expect(page.locator("#status")).to_have_text("live", timeout=10_000)
        [cookie] = await page.context.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
            COOKIE,
            True,
            "Strict",
        )
        assert TOKEN not in cookie["value"]
        async with aiohttp.ClientSession() as session:
            status, _, _ = await Client(gateway, session).send("8.2", read_inventory_body(A0))
        assert status == 200
        row = page.locator("#flow tbody tr", has_text="8.2 Read Inventory")
        await expect(row).to_have_count(1, timeout=10_000)
    finally:
        await gateway.close()

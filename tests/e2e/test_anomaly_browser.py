"""The quarantine page in a real browser (Debian's Chromium driven by Playwright; skipped when
either is absent): clicking release and delete does what they say - the browser's own form
posts carry its ``Origin``, which the page lets in as its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from smetsim.client import DuisClient
from smetsim.sandbox import Sandbox
from tests.e2e.test_anomaly import _response_after_release
from tests.e2e.test_anomaly_web import _quarantine_two
from tests.e2e.test_web_browser import CHROMIUM, _shot, page, shots

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason="no system Chromium")

__all__ = ["page", "shots"]  # the fixtures, shared with the web view's browser test


async def test_release_and_delete_from_the_page_in_a_browser(
    page: Any, sandbox: Sandbox, client: DuisClient, shots: Path
) -> None:
    expect = playwright_api.expect
    (released_rid, released), (deleted_rid, deleted) = await _quarantine_two(sandbox, client)
    await page.goto(sandbox.url + "/")
    await page.click("header a[href='/quarantine']")
    rows = page.locator("#quarantine tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("ADUserThresholdBreach")
    await _shot(page, shots, "web-quarantine.png")

    await page.locator(f"tr[data-ref='{released}'] button", has_text="release").click()
    await expect(page.locator("#done")).to_have_text(
        f"QuarantineEventRef {released} released: sent on, its response follows as usual"
    )
    report = await _response_after_release(sandbox, released_rid)
    assert report is not None
    assert report["code"] == "I0"

    await page.locator(f"tr[data-ref='{deleted}'] button", has_text="delete").click()
    await expect(page.locator("#done")).to_contain_text(f"QuarantineEventRef {deleted} deleted")
    assert sandbox.devices.request_state(deleted_rid) == "failed"
    await expect(page.locator("#quarantine form")).to_have_count(0)  # nothing left to decide
    assert sandbox.wan.stats.sent_down == 1

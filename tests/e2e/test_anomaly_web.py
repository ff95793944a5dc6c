"""The web view's quarantine page over HTTP: held requests listed with their buttons, and the
buttons' form posts releasing (the meter answers) or deleting them."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from lxml import html

from gateway.web import quarantine
from gateway.web.quarantine import OVERTAKEN
from gbcs.codes import SUPPLIER
from gbcs.eui import eui_duis
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, Sandbox
from tests.e2e.support import request, request_id
from tests.e2e.test_anomaly import DISABLE, _admin, _ref, _response_after_release


async def _page(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as answer:
        assert answer.content_type == "text/html"
        return answer.status, html.fromstring(await answer.text())


def _forms(page: Any, ref: int) -> dict[str, str]:
    """The buttons of the row of ``ref``: their label -> the form's action (each a POST)."""
    [row] = page.xpath(f'//table[@id="quarantine"]//tr[@data-ref="{ref}"]')
    out = {}
    for form in row.xpath(".//form"):
        assert form.get("method") == "post"
        out[form.xpath("string(.//button)")] = form.get("action")
    return out


async def _quarantine_two(sandbox: Sandbox, client: DuisClient) -> list[tuple[str, int]]:
    limit = {"user": eui_duis(SUPPLIER), "srv": "7.2", "limit": 0, "period_s": 3600}
    assert (await _admin(sandbox, "POST", "/admin/anomaly-thresholds", limit))[0] == 200
    held = []
    for _ in range(2):
        xml = request(client, "7.2", ESME, DISABLE, cv=4)
        outcome = await client.send(xml, wait=True, within=5)
        assert outcome.final is not None
        held.append(
            (request_id(xml), _ref(outcome.final.body, "ADUserThresholdBreach", request_id(xml)))
        )
    return held


async def test_the_page_lists_held_requests_and_its_buttons_release_and_delete(
    sandbox: Sandbox, client: DuisClient
) -> None:
    async with aiohttp.ClientSession() as session:
        status, page = await _page(session, sandbox.url + "/quarantine")
        assert status == 200
        assert "Nothing quarantined" in page.text_content()
        assert page.xpath('//header/a[@href="/quarantine"]')  # in the nav of every page
        (released_rid, released), (deleted_rid, deleted) = await _quarantine_two(sandbox, client)

        status, page = await _page(session, sandbox.url + "/quarantine")
        assert status == 200
        rows = page.xpath('//table[@id="quarantine"]/tbody/tr')
        assert [r.get("data-ref") for r in rows] == [str(released), str(deleted)]
        text = rows[0].text_content()
        for shown in (released_rid, "ADUserThresholdBreach", "7.2", eui_duis(ESME), "held"):
            assert shown in text
        assert "0 SR 7.2 sent by 90-B3-D5-1F-30-01-00-00" in text
        [link] = rows[0].xpath(".//a/@href")  # to the request's own page, AD1 and all
        status, request_page = await _page(session, sandbox.url + link)
        assert status == 200
        assert "AD1" in request_page.text_content()
        assert released_rid in request_page.text_content()
        buttons = _forms(page, released)
        assert buttons == {
            "release": f"/quarantine/{released}/release",
            "delete": f"/quarantine/{released}/delete",
        }

        # the release button: sent on, the meter answers, back to the page saying so
        async with session.post(sandbox.url + buttons["release"], allow_redirects=False) as a:
            assert a.status == 303
            assert a.headers["Location"] == f"/quarantine?released={released}"
        report = await _response_after_release(sandbox, released_rid)
        assert report is not None
        assert report["code"] == "I0"
        assert sandbox.wan.stats.sent_down == 1
        # the delete button of the other, following the redirect
        async with session.post(sandbox.url + _forms(page, deleted)["delete"]) as answer:
            assert answer.status == 200
            page = html.fromstring(await answer.text())
        assert page.get_element_by_id("done").text_content() == (
            f"QuarantineEventRef {deleted} deleted: dropped, its user told (DCC alert N12)"
        )
        assert sandbox.devices.request_state(deleted_rid) == "failed"
        assert sandbox.wan.stats.sent_down == 1  # the deleted one never left
        # decided: no buttons left; the states filter shows each
        rows = page.xpath('//table[@id="quarantine"]/tbody/tr')
        assert [r.get("data-state") for r in rows] == ["released", "deleted"]
        assert page.xpath('//table[@id="quarantine"]//form') == []
        status, page = await _page(session, sandbox.url + "/quarantine?state=held")
        assert "Nothing held" in page.text_content()
        status, page = await _page(session, sandbox.url + "/quarantine?state=deleted")
        rows = page.xpath('//table[@id="quarantine"]/tbody/tr')
        assert [r.get("data-ref") for r in rows] == [str(deleted)]


async def test_bad_posts_show_the_error_and_change_nothing(
    sandbox: Sandbox, client: DuisClient
) -> None:
    [(rid, ref)] = (await _quarantine_two(sandbox, client))[:1]
    url = sandbox.url
    async with aiohttp.ClientSession() as session:
        cases = [
            (f"/quarantine/{ref}/release", {"Origin": "http://evil.example"}, 403,
             "refused: the form was posted from another site (http://evil.example)"),
            ("/quarantine/99/release", {}, 404, "no quarantined request has QuarantineEventRef 99"),
            (f"/quarantine/{ref}/send", {}, 404, "unknown action 'send'"),
            ("/quarantine/x1/delete", {}, 400, "QuarantineEventRef 'x1' is not a whole number"),
        ]  # fmt: skip
        for path, headers, status, sentence in cases:
            async with session.post(url + path, headers=headers, allow_redirects=False) as answer:
                assert answer.status == status, path
                page = html.fromstring(await answer.text())
            assert sentence in page.get_element_by_id("error").text_content(), path
        status, page = await _page(session, url + "/quarantine?state=nope")
        assert status == 400
        assert "state 'nope' is not one of held, released, deleted" in page.text_content()
        # nothing changed: both still held, nothing sent
        _, held = await _admin(sandbox, "GET", "/admin/quarantine?state=held")
        assert len(held) == 2
        assert sandbox.wan.stats.sent_down == 0
        # the same site's own form post is let in, and a second decision is a 409 page
        same = {"Origin": url}
        async with session.post(url + f"/quarantine/{ref}/delete", headers=same) as answer:
            assert answer.status == 200
        async with session.post(url + f"/quarantine/{ref}/delete", headers=same) as answer:
            assert answer.status == 409
            page = html.fromstring(await answer.text())
        assert "was deleted already" in page.get_element_by_id("error").text_content()
        assert sandbox.devices.request_state(rid) == "failed"


async def test_releasing_the_older_after_the_newer_says_the_meter_will_refuse_it(
    sandbox: Sandbox, client: DuisClient
) -> None:
    (_, older), (newer_rid, newer) = await _quarantine_two(sandbox, client)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{sandbox.url}/quarantine/{newer}/release", allow_redirects=False
        ) as answer:
            assert answer.headers["Location"] == f"/quarantine?released={newer}"
        assert (await _response_after_release(sandbox, newer_rid)) is not None
        async with session.post(
            f"{sandbox.url}/quarantine/{older}/release", allow_redirects=False
        ) as answer:
            assert answer.headers["Location"] == f"/quarantine?released={older}&overtaken=1"
        location = f"{sandbox.url}/quarantine?released={older}&overtaken=1"
        status, page = await _page(session, location)
    assert status == 200
    assert page.get_element_by_id("done").text_content() == (
        f"QuarantineEventRef {older} released: sent on, {OVERTAKEN}"
    )


async def test_the_page_is_bounded_held_first(
    sandbox: Sandbox, client: DuisClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quarantine, "PAGE_ROWS", 1)
    (_, older), (_, newer) = await _quarantine_two(sandbox, client)
    assert (await _admin(sandbox, "POST", f"/admin/quarantine/{older}/delete"))[0] == 200
    async with aiohttp.ClientSession() as session:
        status, page = await _page(session, sandbox.url + "/quarantine")
    assert status == 200
    rows = page.xpath('//table[@id="quarantine"]/tbody/tr')
    assert [r.get("data-ref") for r in rows] == [str(newer)]  # held, though newer
    assert "GET /admin/quarantine lists them all" in page.get_element_by_id("more").text_content()

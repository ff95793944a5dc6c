"""`smetsim send FILE.xml`: send a DUIS request as the DCC User it names, and (``--wait``)
print the device's answer with its GBCS decoded."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import aiohttp
import typer

from gateway.config import ConfigError
from gbcs.explain import explain
from gbcs.keystore import Keystore, KeystoreError
from smetsim.client import DEFAULT_URL, ClientError, DuisClient, Outcome, describe_failure
from smetsim.readable import inventory_table, reading_lines
from smetsim.sandbox import sandbox_keystore


def _check_url(url: str) -> str:
    """Refuse a --url that is no http(s) URL before anything is read or sent."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for a port that is no number
    except ValueError as exc:
        raise typer.BadParameter(f"{url!r} is a malformed URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(
            f"{url!r} is a malformed URL: give http://HOST:PORT, e.g. {DEFAULT_URL}"
        )
    return url


def send(
    file: Annotated[
        Path,
        typer.Argument(
            help="The DUIS request (XML): from 'smetsim request', a template, or - for stdin."
        ),
    ],
    url: Annotated[
        str, typer.Option("--url", help=f"The gateway ({DEFAULT_URL}).", callback=_check_url)
    ] = DEFAULT_URL,
    sign: Annotated[
        bool,
        typer.Option("--sign", help="Sign the XML with the user's key (needs the keys)."),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait for the device's answer and print it, GBCS decoded."),
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Replace the RequestID counter with a fresh one, as a user would for every "
            "new request: epoch ms, or above the last one the gateway accepted from the user "
            "when that is higher (smetsim's GET /admin/users says).",
        ),
    ] = False,
    keystore: Annotated[
        Path | None,
        typer.Option("--keystore", help="Keys in the keystore convention (smetsim pki export)."),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Or: the sandbox's state folder, to use its keys."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for the answer.")
    ] = 60.0,
    xml: Annotated[
        bool, typer.Option("--xml", help="Also print the DUIS XML of every answer.")
    ] = False,
    tree: Annotated[
        bool,
        typer.Option(
            "--tree",
            help="Print the answer's whole GBCS decoded as a tree, not just its values.",
        ),
    ] = False,
) -> None:
    """POST FILE to the endpoint of its CommandVariant. A critical SR written as CV4 runs
    CV4, signs the pre-command with the user's GBCS key and sends it as CV5, in one go."""
    try:
        body = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        typer.echo(f"smetsim: error: cannot read {str(file)!r}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    try:
        keys = _keys(keystore, state)
        found = asyncio.run(_send(url, body, keys, sign, wait, fresh, timeout))
    except (ClientError, ConfigError) as exc:
        typer.echo(f"smetsim: error: {exc}", err=True)
        raise typer.Exit(1) from None
    outcome, keys, why = found
    _print(outcome, keys, xml, why, tree)
    failure = describe_failure(outcome)
    if failure is not None:
        typer.echo(f"smetsim: error: {failure}", err=True)
        raise typer.Exit(1)


def _keys(keystore: Path | None, state: Path | None) -> Keystore | None:
    if keystore is not None and state is not None:
        raise ClientError("give --keystore or --state, not both")
    if keystore is not None:
        try:
            return Keystore.load(keystore)
        except KeystoreError as exc:
            raise ClientError(str(exc)) from None
    if state is not None:
        return sandbox_keystore(state)
    return None


async def _send(
    url: str,
    body: bytes,
    keys: Keystore | None,
    sign: bool,
    wait: bool,
    fresh: bool,
    within: float,
) -> tuple[Outcome, Keystore | None, str | None]:
    """The outcome, the keys it was sent and checked with, and (without keys) why none."""
    async with DuisClient(url, keys=keys, sign_xml=sign, timeout=within + 5) as client:
        why: str | None = None
        if keys is None:
            keys, why = await _sandbox_keys(client)
            client.keys = keys
        outcome = await client.send(body, fresh=fresh, wait=wait, within=within)
        return outcome, keys, why


async def _sandbox_keys(client: DuisClient) -> tuple[Keystore | None, str | None]:
    """The keys of the sandbox at the client's URL, found through its state folder (which
    ``GET /admin/health`` names), or None and the reason."""
    give = "give --state DIR or --keystore DIR (smetsim pki export)"
    try:
        async with client.session.get(f"{client.url}/admin/health") as response:
            if response.status != 200:
                return None, (
                    f"the gateway's /admin/health answered HTTP {response.status} (an admin "
                    f"token is needed beyond loopback): {give}"
                )
            health = await response.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, ValueError):
        return None, f"the gateway did not say where its state folder is: {give}"
    folder = health.get("state") if isinstance(health, dict) else None
    if not isinstance(folder, str):
        return None, f"the gateway did not say where its state folder is: {give}"
    try:
        return sandbox_keystore(Path(folder)), None
    except ConfigError as exc:
        return None, f"the gateway's state folder {folder!r} holds no keys here ({exc}): {give}"


def _print(
    outcome: Outcome, keys: Keystore | None, show_xml: bool, why: str | None, tree: bool
) -> None:
    typer.echo(f"RequestID {outcome.request_id}")
    for answer in outcome.answers:
        line = f"  {answer.endpoint}: HTTP {answer.status}, {answer.code}"
        if answer.reason:
            line += f" - {answer.reason}"
        typer.echo(line)
        if show_xml:
            typer.echo(answer.body.decode("utf-8", "replace"))
        elif answer.ok:
            for row in inventory_table(answer.body) or ():
                typer.echo(f"    {row}")
    last = outcome.answers[-1] if outcome.answers else None
    if not outcome.waited and last is not None and last.payload is not None:
        # a CV2 local command or a CV4 pre-command sent on its own
        for line in explain(last.payload, keys).render("GBCSPayload").splitlines():
            typer.echo(f"  {line}")
    if outcome.waited:
        final = outcome.final
        if final is None:
            typer.echo("  no answer in time")
            return
        typer.echo(f"  answer: {final.kind} {final.code}")
        if show_xml:
            typer.echo(final.body.decode("utf-8", "replace"))
        explanation = outcome.explain(keys)
        if explanation is not None:
            values = None if tree else reading_lines(explanation)
            if values is None:
                values = explanation.render("GBCSPayload").splitlines()
            for line in values:
                typer.echo(f"  {line}")
            if keys is None and why is not None:
                typer.echo(f"  (MAC unknown and payload not decrypted: no keys - {why})")


def register(app: typer.Typer) -> None:
    app.command("send")(send)

"""`smetsim decode`: GBCS messages explained, for people or (``--json``) for programs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import typer

from gbcs.crypto import SharedSecretCache
from gbcs.explain import Explanation, explain, explain_blocks
from gbcs.frames import is_gbt_block
from gbcs.keystore import Keystore, KeystoreError

_HEX = re.compile(r"[0-9A-Fa-f\s]*")


class InputError(Exception):
    """An INPUT that is neither a readable file, ``-`` nor a hex string."""


def _is(path: Path, kind: str) -> bool:
    """``path.is_file()`` / ``is_dir()``, false for names the OS rejects (a long hex string)."""
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except OSError:
        return False


def _read_input(arg: str) -> tuple[str, str]:
    """(label, text) of one INPUT: ``-`` (stdin), a file holding hex, or a hex string."""
    if arg == "-":
        return "-", sys.stdin.read()
    path = Path(arg)
    if _is(path, "file"):
        try:
            return arg, path.read_text(encoding="ascii", errors="strict")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {arg!r} as hex text: {exc}") from None
    if _is(path, "dir"):
        raise InputError(f"{arg!r} is a directory, not a file holding hex")
    return arg, arg


def _parse_hex(label: str, text: str) -> list[bytes]:
    """The bytes of an input: one message, or several GBT blocks (one per whitespace-separated
    hex string when every one of them is a GBT block)."""
    stripped = text.strip()
    if stripped.lower().startswith("0x"):
        stripped = stripped[2:]
    if not stripped:
        raise InputError(f"input {label!r} is empty")
    if not _HEX.fullmatch(stripped):
        bad = next(c for c in stripped if not (c.isspace() or c in "0123456789abcdefABCDEF"))
        shown = label if len(label) <= 40 else label[:37] + "..."
        raise InputError(
            f"input {shown!r} is neither a file nor a hex string (bad character {bad!r})"
        )
    tokens = stripped.split()
    if len(tokens) > 1:
        try:
            parts = [bytes.fromhex(t) for t in tokens]
        except ValueError:
            parts = []
        if parts and all(is_gbt_block(p) for p in parts):
            return parts
    joined = "".join(tokens)
    if len(joined) % 2:
        raise InputError(f"input {label!r} has an odd number of hex digits ({len(joined)})")
    return [bytes.fromhex(joined)]


def decode(
    inputs: list[str] = typer.Argument(  # noqa: B008  # typer declares arguments this way
        ...,
        metavar="INPUT...",
        help="A hex string, a file holding hex, or - for standard input.",
        show_default=False,
    ),
    keystore: Path | None = typer.Option(  # noqa: B008
        None,
        "--keystore",
        metavar="DIR",
        help="Keystore directory (GBCS.md convention) to check MACs and signatures and decrypt.",
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line per input."),
) -> None:
    """Decode GBCS messages: use case, parties, counter, MAC and signature status, payload."""
    keys: Keystore | None = None
    if keystore is not None:
        try:
            keys = Keystore.load(keystore)
        except KeystoreError as exc:
            typer.echo(f"smetsim: error: {exc}", err=True)
            raise typer.Exit(1) from None
    cache = SharedSecretCache()
    failed = False
    first = True
    for arg in inputs:
        # Hex given on the command line is shortened in the text output; file names are not.
        label = arg if len(arg) <= 40 or _is(Path(arg), "file") else arg[:37] + "..."
        try:
            _, text = _read_input(arg)
            parts = _parse_hex(label, text)
        except InputError as exc:
            explanation = Explanation(data=b"", error=str(exc))
        else:
            if len(parts) > 1:
                explanation = explain_blocks(parts, keys, cache=cache)
            else:
                explanation = explain(parts[0], keys, cache=cache)
        if explanation.error is not None:
            failed = True
        if as_json:
            typer.echo(json.dumps(explanation.as_json(arg)))
        elif explanation.message is None:
            typer.echo(f"smetsim: error: {label}: {explanation.error}", err=True)
        else:
            if not first:
                typer.echo("")
            typer.echo(explanation.render(label))
            first = False
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("decode")(decode)

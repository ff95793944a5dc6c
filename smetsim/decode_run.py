"""`smetsim decode`, without typer: reading the inputs, explaining them, and the plain
command lines that :mod:`smetsim.cli` runs without building the typer app (whose option
parsing imports pydantic: most of a one-message decode's start-up)."""

from __future__ import annotations

import binascii
import os
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gbcs.crypto import SharedSecretCache
from gbcs.explain import Explanation, explain, explain_blocks
from gbcs.frames import is_gbt_block
from gbcs.verify import Verifier

if TYPE_CHECKING:
    from gbcs.keystore import Keystore

_HEX = re.compile(r"[0-9A-Fa-f\s]*")
_BASE64 = re.compile(r"[A-Za-z0-9+/\s]*={0,2}\s*")
_SHOWN = 40


class InputError(Exception):
    """An INPUT that is neither a readable file, ``-``, hex, base64 nor DUIS XML."""


def _is(path: Path, kind: str) -> bool:
    """``path.is_file()`` / ``is_dir()``, false for names the OS rejects (a long hex string)."""
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except OSError:
        return False


def _shown(label: str) -> str:
    """A value given on the command line, shortened for messages (file names are kept whole)."""
    if len(label) <= _SHOWN or "#GBCSPayload[" in label or _is(Path(label), "file"):
        return label
    return label[: _SHOWN - 3] + "..."


def _read_input(arg: str) -> tuple[str, bytes]:
    """(label, raw bytes) of one INPUT: ``-`` (stdin), a file, or the value itself."""
    if not arg.strip():
        raise InputError("the value is empty: give a hex or base64 string, a file, or -")
    if arg == "-":
        stream = getattr(sys.stdin, "buffer", None)  # a text-only stream (tests) has none
        return "-", stream.read() if stream is not None else sys.stdin.read().encode()
    # One stat, no Path: over the 863 conformance files these were a tenth of the reading.
    try:
        mode = os.stat(arg).st_mode
    except (OSError, ValueError):  # no such file, a name the OS rejects (a long hex string)
        mode = 0
    if stat.S_ISREG(mode):
        try:
            with open(arg, "rb") as file:
                return arg, file.read()
        except OSError as exc:
            raise InputError(f"cannot read {arg!r}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{arg!r} is a directory, not a file holding a message")
    return arg, arg.encode("utf-8", errors="replace")


def _gbcs_payloads(label: str, raw: bytes) -> list[tuple[str, str]]:
    """(label, base64 text) of every ``GBCSPayload`` of a DUIS XML document.

    lxml is imported here only: decoding hex or base64 never loads it. Entities, DTDs and the
    network are off, as everywhere the project reads XML."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{_shown(label)!r} is not well-formed XML: {exc}") from None
    found: list[tuple[str, str]] = []
    for element in root.iter("{*}GBCSPayload"):
        found.append((f"{label}#GBCSPayload[{len(found)}]", element.text or ""))
    if not found:
        raise InputError(f"{_shown(label)!r} is XML but holds no GBCSPayload element")
    return found


def _parse_text(label: str, text: str) -> list[bytes]:
    """The bytes of a hex or base64 input: one message, or several GBT blocks (one per
    whitespace-separated string when every one of them is a GBT block)."""
    stripped = text.strip()
    if stripped.lower().startswith("0x"):
        stripped = stripped[2:]
    if not stripped:
        raise InputError(f"input {_shown(label)!r} is empty")
    if _HEX.fullmatch(stripped):
        return _split(label, stripped, _from_hex)
    if _BASE64.fullmatch(stripped):
        return _split(label, stripped, _from_base64)
    bad = next((c for c in stripped if not (c.isalnum() or c.isspace() or c in "+/=")), None)
    if bad is None:
        raise InputError(f"input {_shown(label)!r} is not valid base64: '=' only ends it")
    raise InputError(
        f"input {_shown(label)!r} is neither a file nor a hex or base64 string "
        f"(bad character {bad!r})"
    )


def _from_hex(label: str, digits: str) -> bytes:
    if len(digits) % 2:
        raise InputError(f"input {_shown(label)!r} has an odd number of hex digits ({len(digits)})")
    return bytes.fromhex(digits)


def _from_base64(label: str, text: str) -> bytes:
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except binascii.Error as exc:
        raise InputError(f"input {_shown(label)!r} is not valid base64: {exc}") from None


def _split(label: str, text: str, convert: Callable[[str, str], bytes]) -> list[bytes]:
    tokens = text.split()
    if len(tokens) > 1:
        try:
            parts = [convert(label, t) for t in tokens]
        except InputError:
            parts = []
        if parts and all(is_gbt_block(p) for p in parts):
            return parts
    return [convert(label, "".join(tokens))]


def _messages(arg: str) -> list[tuple[str, list[bytes] | InputError]]:
    """(label, message parts or the reason there are none) of each message an INPUT holds."""
    try:
        label, raw = _read_input(arg)
        if raw.lstrip()[:1] == b"<":
            payloads = _gbcs_payloads(label, raw)
        else:
            try:
                text = raw.decode("ascii")
            except UnicodeDecodeError:
                raise InputError(
                    f"{_shown(label)!r} holds bytes that are not text: give hex, base64 or DUIS XML"
                ) from None
            payloads = [(label, text)]
    except InputError as exc:
        return [(arg, exc)]
    out: list[tuple[str, list[bytes] | InputError]] = []
    for name, text in payloads:
        try:
            out.append((name, _parse_text(name, text)))
        except InputError as exc:
            out.append((name, exc))
    return out


def run(inputs: list[str], keystore: Path | None, as_json: bool) -> int:
    """Decode every INPUT to standard output (errors to standard error); the exit code."""
    keys: Keystore | None = None
    if keystore is not None:
        # Imported here: a decode without keys never loads the keystore (nor x509).
        from gbcs.keystore import Keystore, KeystoreError

        try:
            keys = Keystore.load(keystore)
        except KeystoreError as exc:
            sys.stderr.write(f"smetsim: error: {exc}\n")
            return 1
    if as_json:
        import json  # only --json needs it

        # One encoder for the run (json.dumps with an argument makes one a call); the trees
        # are built fresh for each message, never cyclic: no check for cycles.
        encode = json.JSONEncoder(check_circular=False).encode
    # One verifier for the whole run: the keys agreed for a pair of parties (ECDH, the KDF's
    # fixed part) are derived once and kept for every later message between them.
    verifier = None if keys is None else Verifier(keys, cache=SharedSecretCache())
    failed = False
    first = True
    out = sys.stdout
    for arg in inputs:
        for label, parts in _messages(arg):
            if isinstance(parts, InputError):
                explanation = Explanation(data=b"", error=str(parts))
            elif len(parts) > 1:
                explanation = explain_blocks(parts, keys, verifier=verifier)
            else:
                explanation = explain(parts[0], keys, verifier=verifier)
            if explanation.error is not None:
                failed = True
            # One buffered write per message: flushing each line cost a quarter of the whole
            # run over the 863 conformance messages.
            if as_json:
                out.write(encode(explanation.as_json(label)) + "\n")
            elif explanation.message is None:
                out.flush()
                shown = _shown(label) if label.strip() else repr(label)
                sys.stderr.write(f"smetsim: error: {shown}: {explanation.error}\n")
                sys.stderr.flush()
            else:
                out.write(("" if first else "\n") + explanation.render(_shown(label)) + "\n")
                first = False
    out.flush()
    return 1 if failed else 0


def parse_fast(args: list[str]) -> tuple[list[str], Path | None, bool] | None:
    """(inputs, keystore, as_json) of ``smetsim decode ARGS`` when they are plain (INPUTs,
    ``--keystore DIR``, ``--json``); None for anything else (help, a mistake), which the
    full command line then handles - with its messages."""
    inputs: list[str] = []
    keystore: Path | None = None
    as_json = False
    options = True
    i = 0
    while i < len(args):
        arg = args[i]
        if options and arg == "--":
            options = False
        elif options and arg == "--json":
            as_json = True
        elif options and arg == "--keystore" and i + 1 < len(args) and keystore is None:
            keystore = Path(args[i + 1])
            i += 1
        elif options and arg.startswith("--keystore=") and keystore is None:
            keystore = Path(arg.partition("=")[2])
        elif options and arg.startswith("-") and arg != "-":
            return None
        else:
            inputs.append(arg)
        i += 1
    if not inputs:
        return None
    return inputs, keystore, as_json

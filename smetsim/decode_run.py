"""`smetsim decode`, without typer: reading the inputs, explaining them, and the plain
command lines that :mod:`smetsim.cli` runs without building the typer app (whose option
parsing imports pydantic: most of a one-message decode's start-up)."""

from __future__ import annotations

import binascii
import gc
import marshal
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

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


MIN_INPUTS_PER_JOB: Final = 100
"""The default ``--jobs`` gives each process at least this many inputs: a fork and the keys
each process agrees again (ECDH per pair of parties) cost more than a few inputs save."""

_Item = tuple[str, str, bool]
"""What one message prints - ("json", line), ("text", block) or ("error", message) - and
whether it failed (the exit code is then 1)."""


def default_jobs(inputs: list[str]) -> int:
    """The processes a decode of ``inputs`` uses when ``--jobs`` is not given: one per core
    this process may run on, fewer for fewer inputs, one for a handful."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, len(inputs) // MIN_INPUTS_PER_JOB))


def run(inputs: list[str], keystore: Path | None, as_json: bool, jobs: int | None = None) -> int:
    """Decode every INPUT to standard output (errors to standard error); the exit code.

    ``jobs`` > 1 splits the inputs into that many runs of consecutive inputs, decoded in
    forked processes (after the imports and the keystore, which they share); the output is
    the same, in the same order, as one process prints."""
    keys: Keystore | None = None
    if keystore is not None:
        # Imported here: a decode without keys never loads the keystore (nor x509).
        from gbcs.keystore import Keystore, KeystoreError

        try:
            keys = Keystore.load(keystore)
        except KeystoreError as exc:
            sys.stderr.write(f"smetsim: error: {exc}\n")
            return 1
    encode: Callable[[object], str] | None = None
    if as_json:
        import json  # only --json needs it

        # One encoder for the run (json.dumps with an argument makes one a call); the trees
        # are built fresh for each message, never cyclic: no check for cycles.
        encode = json.JSONEncoder(check_circular=False).encode
    if jobs is None:
        jobs = default_jobs(inputs)
    # Standard input can be read once only; without fork (not POSIX) there is no sharing.
    if "-" in inputs or not hasattr(os, "fork"):
        jobs = 1
    jobs = max(1, min(jobs, len(inputs)))
    size, extra = divmod(len(inputs), jobs)
    chunks, at = [], 0
    for index in range(jobs):
        step = size + (index < extra)
        chunks.append(inputs[at : at + step])
        at += step
    if jobs > 1:
        _preload()
        # What is loaded now stays out of the collector's sweeps, so the children do not
        # write (copy) the pages they share with this process. Put back after: run() is also
        # called within other programs (tests).
        gc.freeze()
    try:
        printer = _Printer()
        children = [_fork(chunk, keys, encode) for chunk in chunks[1:]]
        # This process decodes the first run itself, printing as it goes, then the others'.
        for item in _decoded(chunks[0], keys, encode):
            printer.print(item)
        for chunk, child in zip(chunks[1:], children, strict=True):
            done = _collect(child)
            # A process that failed (killed, out of memory) leaves its inputs to this one.
            for item in _decoded(chunk, keys, encode) if done is None else done:
                printer.print(item)
        sys.stdout.flush()
    finally:
        if jobs > 1:
            gc.unfreeze()
    return 1 if printer.failed else 0


def _preload() -> None:
    """Import, before forking, what decoding many messages soon imports on first use (the
    payload codecs, the ciphers), so each process does not import it again."""
    import importlib

    for module in (
        "gbcs.payloads.dlms",
        "gbcs.payloads.gbz",
        "gbcs.payloads.asn1",
        "gbcs.payloads.encrypted",
        "gbcs.payloads.read_values",
        "cryptography.hazmat.primitives.ciphers.aead",
        "cryptography.hazmat.primitives.serialization",
    ):
        importlib.import_module(module)


class _Printer:
    """Writes the messages' items as one process decoding them in order would."""

    def __init__(self) -> None:
        self.failed = False
        self.first = True

    def print(self, item: _Item) -> None:
        kind, text, failed = item
        self.failed = self.failed or failed
        out = sys.stdout
        # One buffered write per message: flushing each line cost a quarter of the whole
        # run over the 863 conformance messages.
        if kind == "json":
            out.write(text + "\n")
        elif kind == "error":
            out.flush()
            sys.stderr.write(text)
            sys.stderr.flush()
        else:
            out.write(("" if self.first else "\n") + text + "\n")
            self.first = False


def _decoded(
    inputs: list[str], keys: Keystore | None, encode: Callable[[object], str] | None
) -> Iterator[_Item]:
    """What each message of ``inputs`` prints, in order (see :data:`_Item`)."""
    # One verifier per process: the keys agreed for a pair of parties (ECDH, the KDF's fixed
    # part) are derived once and kept for every later message between them.
    verifier = None if keys is None else Verifier(keys, cache=SharedSecretCache())
    for arg in inputs:
        for label, parts in _messages(arg):
            if isinstance(parts, InputError):
                explanation = Explanation(data=b"", error=str(parts))
            elif len(parts) > 1:
                explanation = explain_blocks(parts, keys, verifier=verifier)
            else:
                explanation = explain(parts[0], keys, verifier=verifier)
            failed = explanation.error is not None
            if encode is not None:
                yield "json", encode(explanation.as_json(label)), failed
            elif explanation.message is None:
                shown = _shown(label) if label.strip() else repr(label)
                yield "error", f"smetsim: error: {shown}: {explanation.error}\n", failed
            else:
                yield "text", explanation.render(_shown(label)), failed


def _fork(
    inputs: list[str], keys: Keystore | None, encode: Callable[[object], str] | None
) -> tuple[int, int]:
    """(pid, read end of its pipe) of a child decoding ``inputs``; it sends what they print
    (marshal: a list of items) and exits."""
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    try:  # the child: it never returns, nor runs the parent's exit handlers
        os.close(read)
        data = marshal.dumps(list(_decoded(inputs, keys, encode)))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        code = 0
    except BaseException:
        code = 1
    os._exit(code)


def _collect(child: tuple[int, int]) -> list[_Item] | None:
    """What a child sent; None when it did not finish its work."""
    pid, read = child
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    try:
        items = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    return items if isinstance(items, list) else None


def parse_fast(args: list[str]) -> tuple[list[str], Path | None, bool, int | None] | None:
    """(inputs, keystore, as_json, jobs) of ``smetsim decode ARGS`` when they are plain
    (INPUTs, ``--keystore DIR``, ``--json``, ``--jobs N`` with N a whole number from 1); None
    for anything else (help, a mistake), which the full command line then handles - with its
    messages."""
    inputs: list[str] = []
    keystore: Path | None = None
    as_json = False
    jobs: int | None = None
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
        elif options and arg == "--jobs" and i + 1 < len(args) and jobs is None:
            jobs = _jobs(args[i + 1])
            if jobs is None:
                return None
            i += 1
        elif options and arg.startswith("--jobs=") and jobs is None:
            jobs = _jobs(arg.partition("=")[2])
            if jobs is None:
                return None
        elif options and arg.startswith("-") and arg != "-":
            return None
        else:
            inputs.append(arg)
        i += 1
    if not inputs:
        return None
    return inputs, keystore, as_json, jobs


def _jobs(text: str) -> int | None:
    """``--jobs``'s value when it is plain digits of at least 1 (typer reports the rest)."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        return None
    return int(text)

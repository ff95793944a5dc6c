"""Typed content of the GBCS use cases the emulated devices speak: the one code path the
gateway (DUIS -> command content, response content -> facts) and the devices (command
content -> action, action -> response content) share.

Every command, response and alert content here is a frozen dataclass with ``encode() ->
bytes``; :func:`decode_command`, :func:`decode_response` and :func:`decode_alert` turn
content bytes back into them. The shapes are those of the DCC reference test data (RTDS
4.5.0): same DLMS/GBZ/ASN.1 structure, OBIS codes, attributes and ZCL commands, so what
the emulator sends looks like what a real meter sends. A decoder only accepts content in
the exact form its encoder writes (it re-encodes and compares), so decoding then encoding
is always byte-exact; anything else is a :class:`gbcs.errors.DecodeError` (the generic
:func:`gbcs.payloads.decode_content` still shows it).

DLMS contents carry ``counter``: the originator counter, of which only the low 24 bits
travel (in the DLMS long-invoke-id ``0x20nnnnnn``); a decoded ``counter`` is those bits.
A response to a DLMS command must echo its invoke id, so build it ``for_command(cmd)``.

Encrypted responses (ECS17b, GCS13a) take an ``encrypt`` callable (plaintext -> ``31``
framing) to build and a ``decrypt`` callable (``31`` framing -> plaintext) to read; the
key lives in :mod:`gbcs.builders` (``Builder.encrypt_payload`` / ``decrypt_payload``),
never here. This package does no I/O and no cryptography.

**Layout.** One module per use-case family, each the codec of its use cases:
:mod:`~gbcs.content.reading` (and the tabled reads, :mod:`~gbcs.content.reads` and
:mod:`~gbcs.content.reads_gbz`), :mod:`~gbcs.content.tariff` (tariff and prepayment),
:mod:`~gbcs.content.account` (prepayment and account use cases beside the tariff; the
ESME's balance, debt, PIN and event log in :mod:`~gbcs.content.account_esme`),
:mod:`~gbcs.content.gas_tariff` (the GSME's prices and tariff),
:mod:`~gbcs.content.gas_prepay` (the GSME's prepayment configuration),
:mod:`~gbcs.content.gas_alerts` (the GSME's alert behaviours),
:mod:`~gbcs.content.tariff_prepay` (the ESME's payment mode and prepayment configuration),
:mod:`~gbcs.content.tariff_secondary` (a twin-element ESME's secondary tariff and prices),
:mod:`~gbcs.content.supply` (supply and load control), :mod:`~gbcs.content.configuration`,
:mod:`~gbcs.content.security` (security credentials), :mod:`~gbcs.content.han` (HAN and hub),
:mod:`~gbcs.content.firmware`, :mod:`~gbcs.content.alerts` (and
:mod:`~gbcs.content.alerts_config`, the alert behaviours; :mod:`~gbcs.content.alerts_logs`,
the alerts carrying a log). :mod:`~gbcs.content._common`
holds what they share: the decoder registry, the DLMS helpers, ``DlmsCommand``, the generic
``Outcome`` and ``ZclFailure`` responses. Everything a family module lists in its ``__all__``
is a name of this package (``gc.ReadImportRegisters``).

**Adding a use case** touches its family module only:

1. write the command and response dataclasses (``encode``, a ``decode`` classmethod that
   ends with ``_check_exact``; a DLMS command subclasses ``DlmsCommand``);
2. call ``register(message_code, Command.decode, Response.decode, ...)`` at the end of the
   module (responses are tried in order: success shape first, then failure shapes such as
   ``Outcome.decode`` or ``ZclFailure.decode``); :func:`decode_command`,
   :func:`decode_response` and ``SUPPORTED_COMMANDS`` then know it;
3. add the classes to the module's ``Command`` / ``Response`` unions and its ``__all__``.

A new family module is star-imported in :mod:`~gbcs.content._package` (what runs) and in
this module's ``TYPE_CHECKING`` block (what mypy reads), and its unions joined to ``Command``
/ ``Response`` in the first. The package's names are resolved from ``_package`` on first use,
so importing one family module alone does not load the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # mypy reads the names here: a star import of _package, which imports this package's
    # modules, is an import cycle mypy does not resolve star imports through.
    from gbcs.content._common import *  # noqa: F403
    from gbcs.content._package import (
        SUPPORTED_COMMANDS as SUPPORTED_COMMANDS,
    )
    from gbcs.content._package import (
        Command as Command,
    )
    from gbcs.content._package import (
        Content as Content,
    )
    from gbcs.content._package import (
        Response as Response,
    )
    from gbcs.content._package import (
        decode_command as decode_command,
    )
    from gbcs.content._package import (
        decode_response as decode_response,
    )
    from gbcs.content.account import *  # noqa: F403
    from gbcs.content.account_esme import *  # noqa: F403
    from gbcs.content.alerts import *  # noqa: F403
    from gbcs.content.alerts_config import *  # noqa: F403
    from gbcs.content.configuration import *  # noqa: F403
    from gbcs.content.firmware import *  # noqa: F403
    from gbcs.content.gas_alerts import *  # noqa: F403
    from gbcs.content.gas_prepay import *  # noqa: F403
    from gbcs.content.gas_tariff import *  # noqa: F403
    from gbcs.content.han import *  # noqa: F403
    from gbcs.content.reading import *  # noqa: F403
    from gbcs.content.reads import *  # noqa: F403
    from gbcs.content.reads_cin import *  # noqa: F403
    from gbcs.content.reads_gbz import *  # noqa: F403
    from gbcs.content.security import *  # noqa: F403
    from gbcs.content.supply import *  # noqa: F403
    from gbcs.content.tariff import *  # noqa: F403
    from gbcs.content.tariff_prepay import *  # noqa: F403
    from gbcs.content.tariff_secondary import *  # noqa: F403
else:
    from importlib import import_module

    def __getattr__(name: str) -> object:
        # The package's names come from every family module, whose dataclasses take about a
        # tenth of a second to create: they are loaded on the first use of one of them, so a
        # caller that needs one family (`smetsim decode`'s alerts) imports that one only.
        # Not `from gbcs.content import _package`: that asks this function for `_package` first.
        _package = import_module("gbcs.content._package")
        names = globals()
        names.update({n: getattr(_package, n) for n in _package.__all__}, __all__=_package.__all__)
        if name not in names:  # the family modules are attributes too, once imported
            raise AttributeError(f"module 'gbcs.content' has no attribute {name!r}")
        return names[name]

    def __dir__() -> list[str]:
        return sorted({*globals(), *import_module("gbcs.content._package").__all__})

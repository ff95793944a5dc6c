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

A new family module is imported below and its unions joined to ``Command`` / ``Response``.
"""

from __future__ import annotations

from gbcs.content import (
    _common,
    account,
    account_esme,
    alerts,
    alerts_config,
    configuration,
    firmware,
    gas_alerts,
    gas_prepay,
    gas_tariff,
    han,
    reading,
    reads,
    reads_cin,
    reads_gbz,
    security,
    supply,
    tariff,
    tariff_prepay,
    tariff_secondary,
)
from gbcs.content._common import *  # noqa: F403
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
from gbcs.errors import DecodeError

Command = (
    reading.Command
    | reads.Command
    | reads_cin.Command
    | reads_gbz.Command
    | tariff.Command
    | tariff_prepay.Command
    | tariff_secondary.Command
    | account.Command
    | account_esme.Command
    | gas_tariff.Command
    | gas_prepay.Command
    | gas_alerts.Command
    | supply.Command
    | configuration.Command
    | alerts_config.Command
    | security.Command
    | han.Command
    | firmware.Command
)
Response = (
    _common.Outcome
    | _common.ZclFailure
    | reading.Response
    | reads.Response
    | reads_gbz.Response
    | tariff.Response
    | account.Response
    | supply.Response
    | configuration.Response
    | security.Response
    | han.Response
    | firmware.Response
)
Content = Command | Response | alerts.Alert

SUPPORTED_COMMANDS: frozenset[int] = frozenset(_common.COMMAND_DECODERS)
"""Message codes :func:`decode_command` knows."""


def decode_command(message_code: int, content: bytes) -> Command:
    """The typed command in ``content``; DecodeError when the use case is not supported
    here or the content is not what GBCS sends for it."""
    decoder = _common.COMMAND_DECODERS.get(message_code)
    if decoder is None:
        raise DecodeError(f"no typed command content for message code 0x{message_code:04X}")
    found = _common.first_decoded((decoder,), content, f"command 0x{message_code:04X}")
    return found  # type: ignore[return-value]


def decode_response(message_code: int, content: bytes) -> Response:
    """The typed response in ``content`` (success and failure shapes both)."""
    decoders = _common.RESPONSE_DECODERS.get(message_code)
    if decoders is None:
        raise DecodeError(f"no typed response content for message code 0x{message_code:04X}")
    found = _common.first_decoded(decoders, content, f"response 0x{message_code:04X}")
    return found  # type: ignore[return-value]


__all__ = [
    "SUPPORTED_COMMANDS",
    "Command",
    "Content",
    "Response",
    "decode_command",
    "decode_response",
]
__all__ += _common.__all__
__all__ += account.__all__
__all__ += account_esme.__all__
__all__ += alerts.__all__
__all__ += alerts_config.__all__
__all__ += configuration.__all__
__all__ += firmware.__all__
__all__ += gas_prepay.__all__
__all__ += gas_tariff.__all__
__all__ += han.__all__
__all__ += reading.__all__
__all__ += reads.__all__
__all__ += reads_gbz.__all__
__all__ += security.__all__
__all__ += supply.__all__
__all__ += tariff.__all__
__all__ += tariff_prepay.__all__
__all__ += tariff_secondary.__all__

"""The whole namespace of :mod:`gbcs.content`: every family module imported (so each has
registered its decoders), their names, the ``Command`` / ``Response`` unions and the
registry lookups. :mod:`gbcs.content` loads this module on the first use of one of its
names, so importing one family module alone (``gbcs.content.alerts``) does not load the
others."""

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
__all__ += gas_alerts.__all__
__all__ += gas_prepay.__all__
__all__ += gas_tariff.__all__
__all__ += han.__all__
__all__ += reading.__all__
__all__ += reads.__all__
__all__ += reads_cin.__all__
__all__ += reads_gbz.__all__
__all__ += security.__all__
__all__ += supply.__all__
__all__ += tariff.__all__
__all__ += tariff_prepay.__all__
__all__ += tariff_secondary.__all__

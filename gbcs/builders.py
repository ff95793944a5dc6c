"""Building commands, responses and alerts: the one code path the gateway and the devices use.

A :class:`Builder` sets the transaction id, signs what is critical, MACs what travels in the
General-Ciphering shape and encrypts sensitive payloads, all with the keys of a
:class:`gbcs.keystore.KeyLookup`:

===============================  ==================  ==========================  ================
message                          shape               signature                   MAC
===============================  ==================  ==========================  ================
critical command                 DD(DF)              business originator's DS    ACB <-> device
non-critical command             DD(DF)              none (``00``)               ACB <-> device
pre-command (CV4)                DF, no signature    byte omitted                none
response to a critical command,  DF                  device DS                   none
critical alert
other responses and alerts       DD(DF)              none (``00``)               device <-> target
===============================  ==================  ==========================  ================
"""

from __future__ import annotations

import dataclasses
from typing import Any

from gbcs.codes import ACB, CRA, DATE_TIME_LENGTH, KeyPurpose
from gbcs.crypto import SharedSecretCache, encrypt_payload, sign
from gbcs.errors import EncodeError
from gbcs.frames import Message
from gbcs.keystore import KeyLookup
from gbcs.verify import KeyAgreement

__all__ = ["Builder"]


def _eui(name: str, value: bytes) -> bytes:
    if type(value) is not bytes or len(value) != 8:
        raise EncodeError(f"{name} must be an 8-byte EUI, got {value!r}")
    return value


_MAX_CONTENT = 0xFFFF
"""The longest content a Message takes (a two-byte BER length)."""


def _response_message(command: Message, content: bytes, date_time: bytes | None) -> Message:
    """``Message(cra=RESPONSE, counter echoed, parties swapped, message code and extensions
    of the command, content, date-time, signature None)`` without re-checking fields the
    command's own construction checked (the caller checked ``content`` and ``date_time``)."""
    message = object.__new__(Message)
    _SET_CRA(message, CRA.RESPONSE)
    _SET_COUNTER(message, command.originator_counter)
    _SET_ORIGINATOR(message, command.business_target)
    _SET_TARGET(message, command.business_originator)
    _SET_DATE_TIME(message, date_time)
    _SET_MESSAGE_CODE(message, command.message_code)
    _SET_EXTENSIONS(message, command.extensions)
    _SET_CONTENT(message, content)
    _SET_SIGNATURE(message, None)
    _SET_OMITTED(message, False)
    _SET_MAC(message, None)
    _SET_APDU(message, None)
    return message


def _slot_setter(name: str) -> Any:
    """The ``__set__`` of one of Message's slots (cheaper than object.__setattr__ by name)."""
    return Message.__dict__[name].__set__


_SET_CRA = _slot_setter("cra")
_SET_COUNTER = _slot_setter("originator_counter")
_SET_ORIGINATOR = _slot_setter("business_originator")
_SET_TARGET = _slot_setter("business_target")
_SET_DATE_TIME = _slot_setter("date_time")
_SET_MESSAGE_CODE = _slot_setter("message_code")
_SET_EXTENSIONS = _slot_setter("extensions")
_SET_CONTENT = _slot_setter("content")
_SET_SIGNATURE = _slot_setter("signature")
_SET_OMITTED = _slot_setter("signature_omitted")
_SET_MAC = _slot_setter("mac")
_SET_APDU = _slot_setter("_apdu")


class Builder:
    """Builds signed and MACed GBCS messages with the keys of ``keys``."""

    def __init__(
        self, keys: KeyLookup, *, acb: bytes = ACB, cache: SharedSecretCache | None = None
    ) -> None:
        self.keys = keys
        self.acb = acb
        self.agreement = KeyAgreement(keys, acb=acb, cache=cache)

    # ---- commands -------------------------------------------------------------------------

    def command(
        self,
        *,
        originator: bytes,
        target: bytes,
        counter: int,
        message_code: int,
        content: bytes,
        critical: bool,
        date_time: bytes | None = None,
        extensions: bytes = b"",
    ) -> Message:
        """A command as the device receives it: signed by ``originator`` (DS) when critical,
        then MACed by the ACB for the device."""
        message = Message(
            cra=CRA.COMMAND,
            originator_counter=counter,
            business_originator=_eui("originator", originator),
            business_target=_eui("target", target),
            date_time=date_time,
            message_code=message_code,
            extensions=extensions,
            content=content,
            signature=None,
        )
        return self._complete(message, signer=originator if critical else None, mac=True)

    def precommand(
        self,
        *,
        originator: bytes,
        target: bytes,
        counter: int,
        message_code: int,
        content: bytes,
        date_time: bytes | None = None,
        extensions: bytes = b"",
    ) -> Message:
        """A pre-command: the bare General-Signing shape without the signature byte, for the
        user to sign (DUIS CV4)."""
        return Message(
            cra=CRA.COMMAND,
            originator_counter=counter,
            business_originator=_eui("originator", originator),
            business_target=_eui("target", target),
            date_time=date_time,
            message_code=message_code,
            extensions=extensions,
            content=content,
            signature=None,
            signature_omitted=True,
        )

    def sign(self, message: Message, signer: bytes) -> Message:
        """``message`` signed with ``signer``'s DS private key (any MAC is dropped: it would no
        longer match). :class:`KeyNotFound` when the key is not held."""
        key = self.keys.private_key(signer, KeyPurpose.DS)
        # The signed span does not depend on the signature field.
        return message.with_signature(sign(key, message.signed_bytes()))

    def mac_as_acb(self, message: Message) -> Message:
        """``message`` (a command) in the General-Ciphering shape with the ACB's MAC."""
        if message.cra is not CRA.COMMAND:
            raise EncodeError("only commands are MACed by the ACB")
        return self.mac(message)

    def mac(self, message: Message) -> Message:
        """``message`` in the General-Ciphering shape with the MAC its CRA flag calls for.

        The MAC covers the General-Signing APDU, which the MAC does not change."""
        return message.with_mac(self.agreement.mac(message))

    # ---- responses and alerts ------------------------------------------------------------

    def response(
        self,
        command: Message,
        content: bytes,
        *,
        critical: bool,
        encrypt: bool = False,
        date_time: bytes | None = None,
        extensions: bytes | None = None,
    ) -> Message:
        """The device's response to ``command``: counter echoed, parties swapped.

        Critical: the bare General-Signing shape signed with the device's DS key. Otherwise:
        MACed device <-> business target. ``encrypt`` frames the whole content ``31 ..`` with the
        payload key (use :meth:`encrypt_payload` to encrypt a part of the content instead).
        ``extensions`` defaults to the command's (e.g. CCS01 echoes its supplementary remote
        party).
        """
        if command.cra is not CRA.COMMAND:
            raise EncodeError("a response answers a command")
        device = command.business_target
        if (
            (date_time is None or (type(date_time) is bytes and len(date_time) == DATE_TIME_LENGTH))
            and extensions is None
            and type(content) is bytes
            and len(content) <= _MAX_CONTENT
            and type(command) is Message
        ):
            # Every other field comes from the command, a Message checked when it was made:
            # skip Message.__post_init__'s checks (this is the devices' hot path; most reads
            # carry the device's date-time in their header).
            message = _response_message(command, content, date_time)
            if not critical and not encrypt:
                # = self._seal(message, critical=False, encrypt=False), the usual answer
                _SET_MAC(message, self.agreement.mac(message))
                return message
        else:
            message = Message(
                cra=CRA.RESPONSE,
                originator_counter=command.originator_counter,
                business_originator=device,
                business_target=command.business_originator,
                date_time=date_time,
                message_code=command.message_code,
                extensions=command.extensions if extensions is None else extensions,
                content=content,
                signature=None,
            )
        return self._seal(message, critical=critical, encrypt=encrypt)

    def alert(
        self,
        *,
        device: bytes,
        target: bytes,
        counter: int,
        message_code: int,
        content: bytes,
        critical: bool,
        date_time: bytes | None = None,
        extensions: bytes = b"",
        encrypt: bool = False,
    ) -> Message:
        """An alert from ``device`` to ``target`` with the device's own ``counter``."""
        message = Message(
            cra=CRA.ALERT,
            originator_counter=counter,
            business_originator=_eui("device", device),
            business_target=_eui("target", target),
            date_time=date_time,
            message_code=message_code,
            extensions=extensions,
            content=content,
            signature=None,
        )
        return self._seal(message, critical=critical, encrypt=encrypt)

    def _seal(self, message: Message, *, critical: bool, encrypt: bool) -> Message:
        if encrypt:
            message = dataclasses.replace(message, content=self.encrypt_content(message))
        if critical:
            return self._complete(message, signer=message.business_originator, mac=False)
        return self._complete(message, signer=None, mac=True)

    def _complete(self, message: Message, *, signer: bytes | None, mac: bool) -> Message:
        """Sign and/or MAC ``message`` in place. Only for a message this builder has just made
        and not yet returned (nobody else can see it change): it saves copying the message."""
        _set = object.__setattr__
        if signer is not None:
            key = self.keys.private_key(signer, KeyPurpose.DS)
            _set(message, "signature", sign(key, message.signed_bytes()))
            _set(message, "_apdu", None)  # the signature field changed
        if mac:
            _set(message, "mac", self.agreement.mac(message))
        return message

    # ---- payload encryption ---------------------------------------------------------------

    def encrypt_payload(
        self, *, device: bytes, target: bytes, counter: int, plaintext: bytes
    ) -> bytes:
        """``plaintext`` encrypted for ``target`` by ``device`` (``31`` framing), with the key of
        the message whose originator counter is ``counter``."""
        key = self.agreement.payload_key(device, target, counter)
        return encrypt_payload(key, device, plaintext)

    def encrypt_content(self, message: Message) -> bytes:
        """The content of ``message`` (a response or alert), encrypted whole."""
        return self.encrypt_payload(
            device=message.business_originator,
            target=self.agreement.payload_target(message),
            counter=message.originator_counter,
            plaintext=message.content,
        )

    def decrypt_content(self, message: Message) -> bytes:
        """The plaintext of a message whose whole content is ``31``-framed (for the receiver)."""
        return self.agreement.decrypt(message, message.content)

    def decrypt_payload(self, message: Message, framed: bytes) -> bytes:
        """The plaintext of a ``31``-framed blob found inside ``message``'s content."""
        return self.agreement.decrypt(message, framed)

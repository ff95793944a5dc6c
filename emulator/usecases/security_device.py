"""What a device does with its own certificates: CS02d Update Device Certificates on Device
installs the certificate the PKI issued for a key a CS02c made, CS02e Provide Device
Certificates from Device answers the certificate it holds.

Both come from the supplier only (refused before they run otherwise: alert 0x8F30). CS02d
checks, in this order, each failure answered with its status and nothing changed:

1. the certificate is X.509 with a P-256 key (``invalidCertificate``);
2. its key usage is digital signing or key agreement, one of them (``invalidKeyUsage``);
3. it names this device - the hwSerialNum of its subjectAltName's hardwareModuleName (GBCS's
   device certificate profile), or its subject's x500UniqueIdentifier (``wrongDeviceIdentity``);
4. a CS02c made a key pair of that usage, not yet certified
   (``noCorrespondingKeyPairGenerated``), and the certificate's key is that key's
   (``wrongPublicKey``).

On success the certificate replaces the device's one for that usage (family state
``security``: ``certificates`` - ``ds`` / ``ka``, the DER in hex) and the pending key is
spent. The device keeps signing and agreeing keys with the keys its host lends it (the test
PKI's): installing a new private key in the frames' cryptography is not emulated, so the
new certificate is what CS02e answers from then on, not what the ACB's MAC uses.

CS02e answers the installed certificate of the usage asked, else the one the PKI issued for
the device's key, else the status ``noCertificateHeld``.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.devices.families import Reply, handles
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.usecases.security import FAMILY
from gbcs import content as c
from gbcs.codes import KeyPurpose
from gbcs.devices import DeviceType
from gbcs.frames import Message

__all__ = ["HANDLED"]

Status = c.DeviceCertificateStatus


def _name(usage: bytes) -> str:
    return "ds" if usage == c.DS_USAGE else "ka"


def _status(device: Any, der: bytes) -> tuple[Status, bytes]:
    """The CS02d outcome for ``der`` on ``device``, and the usage it is for."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return Status.INVALID_CERTIFICATE, b""
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return Status.INVALID_CERTIFICATE, b""
    try:
        usage_ext = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return Status.INVALID_KEY_USAGE, b""
    if usage_ext.digital_signature == usage_ext.key_agreement:
        return Status.INVALID_KEY_USAGE, b""
    usage = c.DS_USAGE if usage_ext.digital_signature else c.KA_USAGE
    if c.device_identity(cert) != device.eui:
        return Status.WRONG_DEVICE_IDENTITY, usage
    pending = device.family_state(FAMILY).get("pending", {}).get(_name(usage))
    if pending is None:
        return Status.NO_CORRESPONDING_KEY_PAIR_GENERATED, usage
    made = ec.derive_private_key(int(pending, 16), ec.SECP256R1()).public_key()
    if made.public_numbers() != key.public_numbers():
        return Status.WRONG_PUBLIC_KEY, usage
    return Status.SUCCESS, usage


def _install(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = c.decode_command(command.message_code, command.content)
    if not isinstance(cmd, c.UpdateDeviceCertificate):  # pragma: no cover - registry
        raise CommandError("not an update of the device's certificate")
    status, usage = _status(device, cmd.certificate)
    if status is Status.SUCCESS:
        state = device.family_state(FAMILY)
        state.setdefault("certificates", {})[_name(usage)] = cmd.certificate.hex()
        state["pending"].pop(_name(usage))
        device._log(f"CS02d: new {_name(usage).upper()} certificate installed")
    else:
        device._log(f"CS02d refused: {status.name.lower()}")
    return Reply(c.DeviceCertificateUpdated(status).encode())


def _provide(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = c.decode_command(command.message_code, command.content)
    if not isinstance(cmd, c.ProvideDeviceCertificate):  # pragma: no cover - registry
        raise CommandError("not a request for the device's certificate")
    installed = device.family_state(FAMILY).get("certificates", {}).get(_name(cmd.usage))
    if installed is not None:
        return Reply(c.DeviceCertificate(bytes.fromhex(installed)).encode())
    purpose = KeyPurpose.DS if cmd.usage == c.DS_USAGE else KeyPurpose.KA
    issued = ctx.keys.own_certificate(purpose)
    if issued is None:
        return Reply(c.CredentialsRefused(Status.NO_CERTIFICATE_HELD).encode())
    return Reply(c.DeviceCertificate(issued.public_bytes(Encoding.DER)).encode())


HANDLED = frozenset(
    {c.UpdateDeviceCertificate.message_code, c.ProvideDeviceCertificate.message_code}
)

for _type in (DeviceType.ESME, DeviceType.GSME, DeviceType.CHF, DeviceType.GPF):
    handles(_type, c.UpdateDeviceCertificate.message_code)(_install)
    handles(_type, c.ProvideDeviceCertificate.message_code)(_provide)

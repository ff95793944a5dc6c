"""`smetsim gateway` settings: the TOML config file, command-line overrides, clear errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from gateway.config import ConfigError, GatewaySettings, load_settings
from gateway.server import Gateway
from gbcs.devices import Fuel
from smetsim.cli import main
from tests.gateway.duis.support import signer_for, state_with_pki

OTHER = bytes.fromhex("90b3d51f30040000")
ACB = bytes.fromhex("90b3d51f30000002")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


def test_a_full_config(tmp_path: Path) -> None:
    pem = signer_for(ACB).certificate.public_bytes(Encoding.PEM).decode()
    (tmp_path / "other.pem").write_text(pem)
    path = write(
        tmp_path,
        """
[gateway]
state = "st"
host = "0.0.0.0"
port = 9000
allow_unsigned = true
rdp_outbox = "out"
rdp_flush_interval = 5
rdp_inbox_interval = 0
flag_rules = "mp077"
n_export = ["gas"]
durability = "process"
max_body_bytes = 65536
signature_engine = "signxml"

[[users]]
eui = "90-B3-D5-1F-30-04-00-00"
roles = ["Other User"]
certificate_file = "other.pem"
response_url = "http://127.0.0.1:9999/responses"

[[meter_points]]
mpxn = "1312345678111"
fuel = "electricity"
supplier = "90-B3-D5-1F-30-01-00-00"
network_operator = "90-B3-D5-1F-30-02-00-00"
uprn = 10023456789
postcode = "AB1 2CD"
address_identifier = "Flat 1"
""",
    )
    settings = load_settings(path)
    assert settings.state == tmp_path / "st"
    assert (settings.host, settings.port, settings.allow_unsigned) == ("0.0.0.0", 9000, True)
    assert settings.rdp_outbox == tmp_path / "out"
    assert settings.inbox == tmp_path / "out" / "inbox"
    assert (settings.rdp_flush_interval, settings.rdp_inbox_interval) == (5.0, 0.0)
    assert settings.flag_rules == "mp077"
    assert settings.n_export == frozenset({Fuel.GAS})
    assert settings.signature_engine == "signxml"
    [user] = settings.users
    assert (user.eui, user.roles, user.certificate_pem) == (OTHER, ("Other User",), pem)
    [point] = settings.meter_points
    assert point.uprn == "10023456789"
    assert point.property_filter is not None
    overridden = settings.with_overrides(port=1234, host=None, state=tmp_path / "x")
    assert (overridden.port, overridden.host, overridden.state) == (1234, "0.0.0.0", tmp_path / "x")


async def test_the_config_registers_users_and_meter_points(tmp_path: Path) -> None:
    pem = signer_for(ACB).certificate.public_bytes(Encoding.PEM).decode()
    path = write(
        tmp_path,
        f"""
[[users]]
eui = "90B3D51F30040000"
roles = ["OU"]
certificate = '''{pem}'''

[[meter_points]]
mpxn = "2345678901"
fuel = "gas"
supplier = "90-B3-D5-1F-30-01-00-00"
""",
    )
    settings = load_settings(path).with_overrides(state=state_with_pki(tmp_path / "state"), port=0)
    gateway = Gateway.open(settings)
    try:
        other = gateway.users.get(OTHER)
        assert other is not None
        assert other.certificate_pem == pem
        registered = gateway.certificates.find(signer_for(ACB).issuer, signer_for(ACB).serial)
        assert registered is not None
        assert registered.owner == OTHER
        point = gateway.meter_points.get("2345678901")
        assert point is not None
        assert point.fuel is Fuel.GAS
    finally:
        await gateway.close()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[gateway\n", "not valid TOML"),
        ("[gateway]\ncolour = 1\n", "colour"),
        ("[gateway]\nport = 70000\n", "port = 70000"),
        ("[gateway]\nallow_unsigned = 'yes'\n", "allow_unsigned"),
        ("[gateway]\nflag_rules = 'other'\n", "flag_rules"),
        ("[gateway]\nrdp_flush_interval = -1\n", "rdp_flush_interval"),
        ("[gateway]\nn_export = ['water']\n", "n_export"),
        ("[gateway]\nsigning_eui = 'xyz'\n", "signing_eui"),
        ("[[users]]\neui = '90-B3'\nroles = ['IS']\n", "'90-B3'"),
        ("[[users]]\neui = '90-B3-D5-1F-30-04-00-00'\nroles = 'IS'\n", "roles"),
        (
            "[[users]]\neui = '90-B3-D5-1F-30-04-00-00'\nroles = ['IS']\n"
            "certificate_file = 'no.pem'\n",
            "certificate_file",
        ),
        ("[[meter_points]]\nmpxn = '1'\nfuel = 'gas'\n", "supplier"),
        (
            "[[meter_points]]\nmpxn = '1'\nfuel = 'oil'\nsupplier = '90-B3-D5-1F-30-01-00-00'\n",
            "fuel",
        ),
        (
            "[[meter_points]]\nmpxn = '1'\nfuel = 'gas'\nsupplier = '90-B3-D5-1F-30-01-00-00'\n"
            "postcode = 'AB1 2CD'\n",
            "postcode",
        ),
        ("[other]\n", "unknown table"),
    ],
)
def test_bad_settings_name_the_key_and_value(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(write(tmp_path, text))
    assert needle in str(exc.value)
    assert str(tmp_path / "gateway.toml") in str(exc.value)


def test_a_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["gateway", *args])
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("smetsim: error: ")
    return err[0]


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "nope.toml" in run_cli(["--config", str(tmp_path / "nope.toml")], capsys)
    assert "loud" in run_cli(["--log-level", "loud"], capsys)
    schema = tmp_path / "no-schema"
    line = run_cli(["--state", str(tmp_path / "s"), "--duis-schema", str(schema)], capsys)
    assert str(schema) in line


def test_cli_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        state = state_with_pki(tmp_path / "state")
        line = run_cli(
            ["--state", str(state), "--port", str(port), "--log-level", "warning"], capsys
        )
    assert f"127.0.0.1:{port}" in line


def test_defaults() -> None:
    settings = GatewaySettings()
    assert (settings.host, settings.port, settings.allow_unsigned) == ("127.0.0.1", 8079, False)
    assert settings.inbox is None

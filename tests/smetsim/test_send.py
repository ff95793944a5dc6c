"""`smetsim send` and `smetsim pki export` against a running sandbox."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gbcs.codes import SUPPLIER, KeyPurpose
from gbcs.keystore import Keystore
from smetsim.cli import main
from smetsim.client import build_request
from smetsim.pytest_plugin import SandboxHandle
from smetsim.sandbox import ESME


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


def test_send_a_template_and_print_the_decoded_answer(
    smetsim_sandbox: SandboxHandle, conformance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = conformance / "duis" / "templates" / "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"
    code, out, err = run(
        ["send", str(template), "--url", smetsim_sandbox.url, "--wait", "--tree",
         "--state", str(smetsim_sandbox.state)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "/api/v1/serviceS: HTTP 200, I99" in out
    assert "answer: response I0" in out
    assert "ECS17b (0x0027)" in out
    assert "MAC: valid" in out
    assert "encrypted block" in out
    assert "not decrypted" not in out
    assert "double-long-unsigned" in out  # the registers, decrypted with the supplier's key
    # the same file again is a replay, refused with its sentence
    code, out, err = run(["send", str(template), "--url", smetsim_sandbox.url], capsys)
    assert code == 1
    assert "E21" in out
    assert err.startswith("smetsim: error:")


def test_send_a_critical_template_runs_cv4_then_cv5(
    smetsim_sandbox: SandboxHandle, conformance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = conformance / "duis" / "templates" / "ECS42_7.1_SUCCESS_REQUEST_DUIS.XML"
    keys = smetsim_sandbox.state.parent / "keys"
    code, out, err = run(
        ["pki", "export", "--state", str(smetsim_sandbox.state), str(keys)], capsys
    )
    assert code == 0, err
    assert (keys / "90b3d51f30010000-ds.key").is_file()
    assert (keys / "00db1234567890a0-ka.pem").is_file()
    esme = bytes.fromhex("00db1234567890a0")
    assert Keystore.load(keys).certificate(esme, KeyPurpose.DS) is not None
    code, out, err = run(
        ["send", str(template), "--url", smetsim_sandbox.url, "--wait", "--fresh", "--sign",
         "--keystore", str(keys)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "/api/v1/serviceT: HTTP 200, I0" in out
    assert "/api/v1/serviceS: HTTP 200, I99" in out
    assert "ECS42 (0x004F)" in out
    assert "signature: valid" in out


def test_send_errors_name_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], conformance: Path
) -> None:
    code, _, err = run(["send", str(tmp_path / "missing.xml")], capsys)
    assert code == 1
    assert "missing.xml" in err
    template = conformance / "duis" / "templates" / "ECS42_7.1_SUCCESS_REQUEST_DUIS.XML"
    code, _, err = run(["send", str(template), "--url", "http://127.0.0.1:9"], capsys)
    assert code == 1
    assert err.strip().startswith("smetsim: error: cannot reach the gateway at http://127.0.0.1:9")
    code, _, err = run(["pki", "export", "--state", str(tmp_path), str(tmp_path / "o")], capsys)
    assert code == 1
    assert "is not a sandbox state folder" in err


def test_fresh_goes_above_a_counter_ahead_of_the_clock(
    smetsim_sandbox: SandboxHandle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ahead = int(time.time() * 1000) * 1000  # far above any epoch-ms counter
    request = tmp_path / "read.xml"
    request.write_bytes(
        build_request(
            service_reference_variant="4.1.1",
            command_variant=1,
            originator=SUPPLIER,
            target=ESME,
            counter=ahead,
            body="<sr:ReadInstantaneousImportRegisters/>",
        )
    )
    code, out, err = run(["send", str(request), "--url", smetsim_sandbox.url], capsys)
    assert code == 0, err
    assert "I99" in out
    for _ in range(2):  # and again: each fresh counter above the last accepted one
        code, out, err = run(
            ["send", str(request), "--url", smetsim_sandbox.url, "--fresh"], capsys
        )
        assert code == 0, (out, err)
        assert "I99" in out
        counter = int(out.split()[1].rsplit(":", 1)[1])  # "RequestID <orig>:<target>:<n>"
        assert counter > ahead
        ahead = counter

"""`smetsim decode`: text and JSON output, inputs from arguments, files and stdin, errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gbcs.frames import Message, gbt_blocks
from smetsim.cli import main
from tests.gbcs.vectors import V18_4

ECS17B = "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX"
ECS42 = "7.1_ECS42/ECS42_7.1_SUCCESS_COMMAND_GBCS.HEX"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["decode", *args])
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_json_fields_for_conformance_files(
    conformance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(conformance / "gbcs" / ECS17B), str(conformance / "gbcs" / ECS42)]
    code, out, err = run(["--json", "--keystore", str(conformance / "keystore"), *files], capsys)
    assert (code, err) == (0, "")
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["input"] == files[0]
    assert first["message_code"] == 0x27
    assert first["use_case"] == "ECS17b"
    assert first["cra"] == "response"
    assert first["originator_counter"] == 1000
    assert first["business_originator"] == "00db1234567890a0"
    assert first["business_target"] == "90b3d51f30010000"
    assert (first["mac"], first["signature"]) == ("valid", "absent")
    assert first["reencodes"] is True
    assert first["error"] is None
    assert first["decrypted"][0]["plaintext"]
    assert (second["cra"], second["mac"], second["signature"]) == ("command", "valid", "valid")


def test_text_tree_for_a_hex_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([V18_4.hex()], capsys)
    assert code == 0
    assert "ECS04b (0x00B3)" in out
    assert "business originator: 12-34-56-78-9A-BC-DE-F0" in out
    assert "MAC: unknown" in out
    assert "originator counter 1" in out


def test_stdin_and_file_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(V18_4.hex().upper() + "\n"))
    code, out, _ = run(["--json", "-"], capsys)
    assert code == 0
    assert json.loads(out)["input"] == "-"
    path = tmp_path / "blocks.hex"
    path.write_text("\n".join(b.hex() for b in gbt_blocks(Message.from_bytes(V18_4), 64)))
    code, out, _ = run(["--json", str(path)], capsys)
    assert code == 0
    fields = json.loads(out)
    assert (fields["use_case"], fields["gbt_blocks"]) == ("ECS04b", 3)


@pytest.mark.parametrize(
    ("arg", "needle"),
    [
        ("zz", "neither a file nor a hex string"),
        ("DD00", "truncated"),
        ("ABC", "odd number of hex digits"),
        ("00", "starts with 00"),
    ],
)
def test_bad_inputs_exit_non_zero_with_a_sentence(
    capsys: pytest.CaptureFixture[str], arg: str, needle: str
) -> None:
    code, out, err = run([V18_4.hex(), arg], capsys)
    assert code == 1
    assert "ECS04b" in out  # the good input is still decoded
    assert err.startswith("smetsim: error: ")
    assert needle in err
    assert "Traceback" not in err
    code, out, _ = run(["--json", arg], capsys)
    assert code == 1
    fields = json.loads(out)
    assert needle in fields["error"]
    assert fields["message_code"] is None


def test_bad_keystore_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--keystore", str(tmp_path / "nope"), V18_4.hex()], capsys)
    assert code == 1
    assert err.count("\n") == 1
    assert "does not exist" in err

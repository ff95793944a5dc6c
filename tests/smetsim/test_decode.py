"""`smetsim decode`: text and JSON output, inputs from arguments, files and stdin, errors."""

from __future__ import annotations

import base64
import gc
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gbcs.frames import Message, gbt_blocks
from smetsim.cli import main
from smetsim.decode_run import MIN_INPUTS_PER_JOB, default_jobs, parse_fast
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
        ("zz!", "neither a file nor a hex or base64 string (bad character '!')"),
        ("zz", "not valid base64"),
        ("3Q==x", "not valid base64: '=' only ends it"),
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


def test_base64_argument_and_files_of_hex_or_base64(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encoded = base64.b64encode(V18_4).decode()
    hex_file = tmp_path / "message.hex"
    hex_file.write_text(V18_4.hex().upper() + "\n")
    b64_file = tmp_path / "message.b64"
    b64_file.write_text(encoded[:40] + "\n" + encoded[40:] + "\n")  # wrapped lines
    code, out, err = run(["--json", encoded, str(hex_file), str(b64_file)], capsys)
    assert (code, err) == (0, "")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["input"] for r in rows] == [encoded, str(hex_file), str(b64_file)]
    assert {r["content"] for r in rows} == {Message.from_bytes(V18_4).content.hex()}
    assert all(r["use_case"] == "ECS04b" and r["error"] is None for r in rows)


def test_duis_xml_file_decodes_each_gbcs_payload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = base64.b64encode(V18_4).decode()
    blocks = gbt_blocks(Message.from_bytes(V18_4), 64)
    second = base64.b64encode(blocks[0]).decode()
    xml = tmp_path / "response.xml"
    xml.write_text(
        '<?xml version="1.0"?>'
        '<sr:Response xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"'
        ' xmlns:ra="http://www.dccinterface.co.uk/ResponseAndAlert">'
        f"<sr:Body><ra:GBCSPayload>{first}</ra:GBCSPayload>"
        f"<ra:GBCSPayload>\n  {second}\n</ra:GBCSPayload></sr:Body></sr:Response>"
    )
    code, out, _ = run(["--json", str(xml)], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["input"] for r in rows] == [f"{xml}#GBCSPayload[0]", f"{xml}#GBCSPayload[1]"]
    assert rows[0]["use_case"] == "ECS04b"
    assert rows[1]["error"] is not None  # one GBT block alone is not a whole message
    assert code == 1
    code, out, _ = run([str(xml)], capsys)
    assert f"{xml}#GBCSPayload[0]" in out


def test_duis_xml_of_the_conformance_set(
    conformance: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xml = conformance / "duis" / "templates" / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML"
    code, out, err = run(["--json", "--keystore", str(conformance / "keystore"), str(xml)], capsys)
    assert (code, err) == (0, "")
    (row,) = (json.loads(line) for line in out.splitlines())
    assert (row["use_case"], row["cra"], row["error"]) == ("ECS52", "response", None)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("<a><b>", "not well-formed XML"),
        ("<a><b>DD00</b></a>", "holds no GBCSPayload element"),
        # An entity is never resolved: the payload stays as written, and is not base64.
        (
            '<!DOCTYPE a [<!ENTITY e "3Q==">]><a><GBCSPayload>&e;</GBCSPayload></a>',
            "is empty",
        ),
    ],
)
def test_bad_xml_files_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(text)
    code, _, err = run([str(path)], capsys)
    assert code == 1
    assert needle in err
    assert "Traceback" not in err


def test_an_empty_value_is_called_empty(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([""], capsys)
    assert code == 1
    assert "the value is empty" in err
    assert "directory" not in err
    code, out, _ = run(["--json", "  "], capsys)
    assert code == 1
    assert "the value is empty" in json.loads(out)["error"]


def test_decode_does_not_import_lxml_for_hex(tmp_path: Path) -> None:
    """Decoding hex or base64 never loads lxml; a DUIS XML input does. The command module is
    loaded on its own (not through the command package, which other commands share), with
    lxml made unimportable."""
    module = Path(__file__).resolve().parents[2] / "smetsim" / "decode_run.py"
    xml = tmp_path / "r.xml"
    xml.write_text("<a><GBCSPayload>3Q==</GBCSPayload></a>")
    code = (
        "import importlib.util, sys\n"
        "sys.modules['lxml'] = None\n"
        f"spec = importlib.util.spec_from_file_location('decode_alone', {str(module)!r})\n"
        "mod = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(mod)\n"
        f"print(len(mod._messages({V18_4.hex()!r})[0][1]))\n"
        "try:\n"
        f"    mod._messages({str(xml)!r})\n"
        "except ImportError:\n"
        "    print('xml needs lxml')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "xml", "needs", "lxml"]


@pytest.mark.parametrize("as_json", [True, False])
def test_jobs_print_what_one_process_prints(
    conformance: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    messages = sorted(str(p) for p in (conformance / "gbcs").glob("*/*.HEX"))[:40]
    xml = str(conformance / "duis" / "templates" / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML")
    # Errors in the first and the last run of inputs, a DUIS document in the middle.
    inputs = ["zz", *messages[:20], xml, "0011", *messages[20:], "/no/such/file"]
    common = ["--keystore", str(conformance / "keystore"), *(["--json"] if as_json else [])]
    collector = (gc.get_threshold(), gc.get_freeze_count())
    one = run([*common, "--jobs", "1", *inputs], capsys)
    assert (gc.get_threshold(), gc.get_freeze_count()) == collector  # put back
    assert one[0] == 1
    assert one[1].count("ECS") > 40
    assert all(bad in one[1] + one[2] for bad in ("'zz'", "0011", "/no/such/file"))
    for jobs in ("2", "3", str(len(inputs) + 5)):
        assert run([*common, "--jobs", jobs, *inputs], capsys) == one
        assert (gc.get_threshold(), gc.get_freeze_count()) == collector


def test_jobs_option_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("0", "two", "-1"):
        code, out, err = run(["--jobs", bad, "DD00"], capsys)
        assert (code, out) == (2, "")
        assert "--jobs" in err
    assert parse_fast(["--jobs", "3", "--json", "a"]) == (["a"], None, True, 3)
    assert parse_fast(["--jobs=0", "a"]) is None  # typer's message then


def test_default_jobs_one_for_few_inputs() -> None:
    assert default_jobs(["x"] * (MIN_INPUTS_PER_JOB - 1)) == 1
    many = default_jobs(["x"] * (MIN_INPUTS_PER_JOB * 64))
    assert 1 <= many <= (os.cpu_count() or 1)

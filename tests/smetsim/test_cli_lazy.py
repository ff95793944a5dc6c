"""The CLI imports a command's module only when that command runs (issue 19 aim 1), and
every group answers ``-h`` and a bare call with its help (issue 18 item 9)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.core import TyperGroup

from smetsim.cli import main
from smetsim.commands import COMMANDS
from smetsim.commands._root import load_command

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("aiohttp", "lxml", "emulator", "gateway", "hil", "xmlschema", "signxml")
# The GBCS 18.4 message, a fact of the standard: something `decode` can explain with no keys.
V18_4 = (
    "DD00000000000081A91100000000DF0901000000000000000108123456789ABCDEF008FFFFFFFFFFFFFFFE00"
    "0200B335D92000000100030300700000130A00FF020300700000130A01FF020300700000130A02FF0203050000"
    "0000050000000005000000004059045AB0F554622B0360340B9D87B5A23ED5723B41DE3F206E58CDD10F915B9F"
    "E2E12E2DA3632478A8DF678E418895869AC1E55318CCE04D120D2D6B44DC167B5D832D15B57A56D620F198B3"
)


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``, with the top-level
    package of each."""
    probe = (
        "import contextlib, json, sys\n"
        f"with contextlib.suppress(SystemExit):\n    {code}\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    names: list[str] = json.loads(result.stderr.strip().splitlines()[-1])
    return set(names) | {name.split(".")[0] for name in names}


def test_importing_the_cli_imports_no_command_dependencies() -> None:
    loaded = modules_after("import smetsim.cli")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    assert "typer" not in loaded  # --version answers without it


@pytest.mark.parametrize(
    ("args", "commands"),
    [
        (["--help"], set()),
        (["--version"], set()),
        (["decode", V18_4], set()),  # run without the typer command (below)
        (["decode", "--help"], {"decode"}),
    ],
)
def test_help_version_and_decode_import_no_server_or_emulator(
    args: list[str], commands: set[str]
) -> None:
    loaded = modules_after(f"from smetsim.cli import main; main({args!r})")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    imported = {name for name in COMMANDS if f"smetsim.commands.{name}" in loaded}
    assert imported == commands


def test_a_plain_decode_imports_neither_typer_nor_what_its_message_does_not_need() -> None:
    # Issue 19 aim 1: no typer (its option parsing loads pydantic), no keystore (x509) without
    # --keystore, and only the payload codec of the message's kind (18.4 is DLMS).
    loaded = modules_after(f"from smetsim.cli import main; main(['decode', {V18_4!r}])")
    assert "smetsim.decode_run" in loaded
    unwanted = {"typer", "pydantic", "gbcs.keystore", "cryptography.x509"}
    unwanted |= {"gbcs.payloads.gbz", "gbcs.payloads.asn1", "gbcs.content"}
    unwanted |= {"gbcs.payloads.encrypted"}  # a command carries no encrypted block
    assert not loaded & unwanted, loaded & unwanted
    assert "gbcs.payloads.dlms" in loaded  # the probe does see what a decode imports


def test_decode_options_parsed_without_typer_act_as_with_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from smetsim.decode_run import parse_fast

    assert parse_fast([V18_4, "--json"]) == ([V18_4], None, True, None)
    assert parse_fast(["--keystore", "k", "x"]) == (["x"], Path("k"), False, None)
    assert parse_fast(["--keystore=k", "-"]) == (["-"], Path("k"), False, None)
    assert parse_fast(["--", "--json"]) == (["--json"], None, False, None)
    assert parse_fast(["--jobs", "2", "x"]) == (["x"], None, False, 2)
    for handed_on in (
        [],
        ["--json"],
        ["-h", "x"],
        ["x", "--keystore"],
        ["x", "--bogus"],
        ["x", "--jobs", "0"],
    ):
        assert parse_fast(handed_on) is None, handed_on
    # What is handed on gets the full command line's messages.
    with pytest.raises(SystemExit) as exit_:
        main(["decode", V18_4, "--bogus"])
    assert exit_.value.code == 2
    assert "No such option: --bogus" in capsys.readouterr().err


def test_the_probe_sees_a_command_that_does_import_the_server() -> None:
    # The check above could pass by never seeing anything: `gateway --help` must be seen.
    loaded = modules_after("from smetsim.cli import main; main(['gateway', '--help'])")
    assert {"aiohttp", "gateway", "smetsim.commands.gateway"} <= loaded


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_summary_is_its_commands_own_first_sentence(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    help_text = " ".join((command.help or "").split())
    assert help_text.startswith(COMMANDS[name].summary), (help_text, COMMANDS[name].summary)


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["-h"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"\n  {name} " in out


@pytest.mark.parametrize(
    "args",
    [[], ["decode"], ["send"], ["gateway"], ["sandbox"], ["pki"], ["pki", "export"], ["hil"],
     ["hil", "read"], ["asn"], ["fleet"], ["fleet", "profiles"]],
)  # fmt: skip
def test_dash_h_is_help_everywhere(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*args, "-h"])
    short = capsys.readouterr().out
    assert exc.value.code == 0
    with pytest.raises(SystemExit):
        main([*args, "--help"])
    assert capsys.readouterr().out == short
    assert short.startswith(f"Usage: smetsim {' '.join(args)}".rstrip())
    assert "-h, --help" in short


@pytest.mark.parametrize("group", ["pki", "hil", "asn", "fleet"])
def test_a_group_with_no_subcommand_lists_its_subcommands(
    group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([group])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: smetsim {group} [OPTIONS] COMMAND")
    assert "Commands:" in out
    command = load_command(group)
    assert isinstance(command, TyperGroup)
    subcommands = list(command.commands)
    assert subcommands
    for sub in subcommands:
        assert f"\n  {sub} " in out


def test_a_mistyped_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sandbx"])
    assert exc.value.code == 2
    assert "Did you mean 'sandbox'" in capsys.readouterr().err


def test_a_decoded_read_response_shows_its_values_without_the_typed_content_package() -> None:
    # The labelled values of a read's answer live in gbcs.payloads.read_values: importing
    # gbcs.content (every use case's codec) for them cost a whole-set decode a sixth of its time.
    conformance = ROOT.parent / "shared" / "conformance"
    response = conformance / "gbcs/4.8.1_ECS22b/ECS22b_4.8.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX"
    if not response.is_file():
        pytest.skip("the DCC reference messages (../shared/conformance) are absent")
    args = ["decode", "--keystore", str(conformance / "keystore"), "--json", str(response)]
    probe = (
        "import contextlib, json, sys\n"
        "from smetsim.cli import main\n"
        f"with contextlib.suppress(SystemExit):\n    main({args!r})\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)["values"]
    assert values
    assert all(v.endswith(" Wh") for v in values), values
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "gbcs.payloads.read_values" in loaded
    assert not {m for m in loaded if m == "gbcs.content" or m.startswith("gbcs.content.")}

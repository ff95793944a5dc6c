"""Test vectors: the vector of GBCS section 18.4 and the names of the conformance messages."""

from __future__ import annotations

from pathlib import Path

from gbcs.usecases import UseCase, by_name
from tests.conftest import CONFORMANCE

GBCS_DIR = CONFORMANCE / "gbcs"

CONFORMANCE_MESSAGES: list[str] = (
    sorted(str(p.relative_to(GBCS_DIR)) for p in GBCS_DIR.glob("*/*.HEX"))
    if GBCS_DIR.is_dir()
    else []
)
"""Relative paths of the conformance messages (empty when ../shared is absent)."""


def read_message(conformance: Path, name: str) -> bytes:
    return bytes.fromhex((conformance / "gbcs" / name).read_text().strip())


# GBCS 18.4: ECS04b critical command, supplier 123456789ABCDEF0 (counter 1) to FFFFFFFFFFFFFFFE.
V18_4 = bytes.fromhex(
    "DD00000000000081A91100000000DF0901000000000000000108123456789ABCDEF008FFFFFFFFFFFFFFFE00"
    "0200B335D92000000100030300700000130A00FF020300700000130A01FF020300700000130A02FF0203050000"
    "0000050000000005000000004059045AB0F554622B0360340B9D87B5A23ED5723B41DE3F206E58CDD10F915B9F"
    "E2E12E2DA3632478A8DF678E418895869AC1E55318CCE04D120D2D6B44DC167B5D832D15B57A56D620F198B3"
)
V18_4_SUPPLIER = bytes.fromhex("123456789ABCDEF0")
V18_4_DEVICE = bytes.fromhex("FFFFFFFFFFFFFFFE")
V18_4_SUPPLIER_DS_PRIVATE = bytes.fromhex(
    "3A6B2EAA0D9F25A9E455983FEB5BB947528121911BF3B76BE5661C89DBF24B26"
)
V18_4_SUPPLIER_DS_PUBLIC = bytes.fromhex(
    "76628E1C84EF7935548AE5D62C7BB3AD28964CF794F0387A697EEC19CDD98F46"
    "0A4D5E19087EF7216ED89C29831A6EE838C8DE88EF34F11D3F41F36D80B2A5D5"
)
V18_4_ACB_KA_PRIVATE = bytes.fromhex(
    "E4A6CFB431471CFCAE491FD566D19C87082CF9FA7722D7FA24B2B3F5669DBEFB"
)
V18_4_DEVICE_KA_PUBLIC = bytes.fromhex(
    "2DB45A3F21889438B42C8F464C75292BACF5FDDB5DA0B492501B299CBFE92D8F"
    "DB90FC8FF4026129838B1BCAD1402CAE47FE7D8084E409A41AFCE16D63579C5F"
)
V18_4_Z = bytes.fromhex("9aacf2e6d51bd5ff8f37bf368019a691cb5b2fcb7b5f030a00063647b20e13fe")
V18_4_OTHER_INFO = bytes.fromhex(
    "60857406080300123456789abcdef009010000000000000001fffffffffffffffe"
)
V18_4_KEY = bytes.fromhex("859b846a24e1ea70a168409a1180676b")
V18_4_MAC = bytes.fromhex("5d832d15b57a56d620f198b3")


def _starts_with_dd(name: str) -> bool:
    return (GBCS_DIR / name).read_text().startswith("DD")


MACED_MESSAGES = [name for name in CONFORMANCE_MESSAGES if _starts_with_dd(name)]
"""The conformance messages in the General-Ciphering (MAC'd) shape."""
PROTECTED_MESSAGES = [name for name in CONFORMANCE_MESSAGES if "PRECOMMAND" not in name]
"""The conformance messages carrying a MAC, a signature or both (all but the pre-commands)."""


def _plain(name: str) -> str:
    return name.lower().replace("-", "").replace("/", "")


def assert_filed_under_its_use_case(name: str, uc: UseCase) -> None:
    """The conformance file ``name`` starts with the DCC's name for ``uc`` (``CS03A2NonCritical``,
    ``ECS47Activate``, ``CCS05CCS04``, ``CS02bACBByACB``: one of the row's names or aliases
    begins it, ignoring case and the table's ``-``/``/``), or it is an alert that the named
    command made (8F66/8F67 future-dated outcomes, DBCH09 after DBCH04): an alert row of that
    command's payload kind."""
    token = name.split("/")[-1].split("_")[0].removesuffix("Commission")
    spellings = {_plain(n) for n in (*uc.names, uc.name, *uc.aliases)}
    if any(_plain(token).startswith(s) for s in spellings):
        return
    raised_by = by_name(token)
    assert "ALERT" in name, f"{token} is not {uc}"
    assert uc.alert, f"{uc} is not an alert"
    assert not raised_by.alert, f"{raised_by} is not a command"
    assert uc.kind == raised_by.kind

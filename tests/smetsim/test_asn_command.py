"""`smetsim asn import FILE --as EUI --state DIR`: one line out, one-line errors, exit codes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.inventory import MIGRATIONS
from gateway.model import DeviceStatus
from gateway.services.nondevice import NonDeviceService
from gateway.storage import DATABASE_NAME, Storage
from gateway.users import seed_default_identities
from smetsim.cli import main

ESME_ROW = "00-DB-12-34-56-78-90-A0,AB01,010A030B,ESME,SMETS V1.58,0002012F,AD\n"
HEADER = (
    "DeviceID,DeviceManufacturer,DeviceModel,DeviceType,SMETSCHTSVersion,FirmwareVersion,"
    "ESMEVariant\n"
)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    with Storage.open(folder / DATABASE_NAME, migrations=MIGRATIONS) as storage:
        seed_default_identities(storage)
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    code = exc.value.code
    assert isinstance(code, int)
    return code, out.out, out.err


def test_import_pre_notifies_the_shipment(
    state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asn = tmp_path / "shipment.csv"
    asn.write_text(HEADER + ESME_ROW)
    code, out, err = run(
        capsys, "asn", "import", str(asn), "--as", "90-B3-D5-1F-30-01-00-00", "--state", str(state)
    )
    assert (code, err) == (0, "")
    assert out == f"pre-notified 1 device from {asn} as 90-B3-D5-1F-30-01-00-00: status Pending\n"
    with Storage.open(state / DATABASE_NAME, migrations=MIGRATIONS) as storage:
        service = NonDeviceService(storage, clock=lambda: datetime.now(UTC))
        record = service.get_device(bytes.fromhex("00db1234567890a0"))
    assert record is not None
    assert record.status is DeviceStatus.PENDING


@pytest.mark.parametrize(
    ("content", "sender", "message"),
    [
        (HEADER + ESME_ROW, "90-B3", "--as: not an EUI-64: '90-B3'"),
        (
            HEADER + ESME_ROW.replace("ESME,", "WATER,"),
            "90b3d51f30010000",
            "row 1 (line 2), field DeviceType",
        ),
        (HEADER + ESME_ROW, "90-B3-D5-1F-30-02-00-00", "E4: DCC User 90-B3-D5-1F-30-02-00-00"),
    ],
)
def test_user_errors_are_one_line_and_change_nothing(
    state: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    sender: str,
    message: str,
) -> None:
    asn = tmp_path / "shipment.csv"
    asn.write_text(content)
    code, out, err = run(capsys, "asn", "import", str(asn), "--as", sender, "--state", str(state))
    assert code == 1
    assert out == ""
    assert err.startswith("smetsim: error: ")
    assert message in err
    assert err.count("\n") == 1
    with Storage.open(state / DATABASE_NAME) as storage, storage.transaction() as tx:
        assert tx.all("SELECT * FROM devices") == []


def test_missing_state_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asn = tmp_path / "shipment.csv"
    asn.write_text(HEADER + ESME_ROW)
    code, _, err = run(
        capsys,
        "asn",
        "import",
        str(asn),
        "--as",
        "90b3d51f30010000",
        "--state",
        str(tmp_path / "nowhere"),
    )
    assert code == 1
    assert "no gateway state in" in err
    assert not (tmp_path / "nowhere").exists()


def test_missing_as_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "asn", "import", str(tmp_path / "x.csv"))
    assert code == 2
    assert "--as" in err

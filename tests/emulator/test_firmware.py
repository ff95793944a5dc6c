from __future__ import annotations

from pathlib import Path

import pytest

from emulator.errors import ProfileError
from emulator.firmware import load_profile, load_profiles, parse_profile
from gbcs.devices import DeviceType

GOOD = """
schema = 1
manufacturer = "Test Meters"
manufacturer_id = "ab01"
model = "T1"
model_id = "010A030B"
device_type = "ESME"
smets_version = "SMETS2 V4.2"
initial_firmware = "0002012F"

[quirks]
latency_ms = [10, 20]
drop_rate = 0.5
corrupt_mac_rate = 0.25

[[firmware]]
version = "0002012F"
esme_variant = "A"
use_cases = ["ECS17b", "CS06"]

[[firmware]]
version = "00030000"
esme_variant = "AD"
use_cases = ["ECS17b", "CS06"]
upgrades_from = ["0002012F"]
"""


def test_bundled_profiles_load_and_cover_the_required_models() -> None:
    catalogue = load_profiles()
    types = [p.device_type for p in catalogue.values()]
    assert types.count(DeviceType.ESME) >= 2
    assert DeviceType.GSME in types
    assert {DeviceType.CHF, DeviceType.GPF, DeviceType.IHD} <= set(types)
    variant_changes = [
        p
        for p in catalogue.values()
        if p.device_type is DeviceType.ESME
        and {f.esme_variant for f in p.firmware.values()} >= {"A", "AD"}
    ]
    assert variant_changes, "one ESME's firmware upgrade must turn variant A into AD (MP125)"


def test_bundled_profiles_load_from_a_directory_too(tmp_path: Path) -> None:
    (tmp_path / "t1.toml").write_text(GOOD)
    catalogue = load_profiles(tmp_path)
    assert list(catalogue) == ["t1"]
    profile = catalogue["t1"]
    assert profile.manufacturer_id == "AB01"
    assert profile.version("0002012f").esme_variant == "A"
    assert profile.quirks.latency_ms == (10, 20)
    assert catalogue.by_model("ab01", "010a030b") is profile
    with pytest.raises(KeyError, match="t1"):
        catalogue["missing"]


def test_images_are_deterministic_and_hash_back_to_their_version() -> None:
    profile = parse_profile(GOOD, name="t1", source="t1.toml")
    image = profile.image("00030000")
    assert image == profile.image("00030000")
    assert image != profile.image("0002012F")
    assert len(image) == 4096
    found = profile.version_for_hash(profile.image_hash("00030000"))
    assert found is not None
    assert found.esme_variant == "AD"
    assert profile.version_for_hash(b"\x00" * 32) is None


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("schema = 1", "schema = 2", "schema"),
        ('device_type = "ESME"', 'device_type = "TOASTER"', "device_type"),
        ('manufacturer_id = "ab01"', 'manufacturer_id = "xyz"', "manufacturer_id"),
        ('model = "T1"', 'model = ""', "model"),
        ('model = "T1"', 'colour = "red"', "colour"),
        ("drop_rate = 0.5", "drop_rate = 1.5", "quirks.drop_rate"),
        ("latency_ms = [10, 20]", "latency_ms = [20, 10]", "quirks.latency_ms"),
        ('esme_variant = "A"', 'esme_variant = "Z"', "firmware[0].esme_variant"),
        ('["ECS17b", "CS06"]\n\n', '["GCS13a"]\n\n', "firmware[0].use_cases"),
        ('version = "00030000"', 'version = "0002012F"', "firmware[1].version"),
        ('upgrades_from = ["0002012F"]', 'upgrades_from = ["99999999"]', "upgrades_from"),
        ('initial_firmware = "0002012F"', 'initial_firmware = "00000001"', "initial_firmware"),
        ('version = "0002012F"', 'version = "2.1"', "firmware[0].version"),
    ],
)
def test_errors_name_the_file_and_the_key(old: str, new: str, key: str) -> None:
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, name="t1", source="profiles/t1.toml")
    message = str(caught.value)
    assert message.startswith("profiles/t1.toml: ")
    assert key in caught.value.key


def test_a_non_esme_may_not_have_a_variant() -> None:
    text = GOOD.replace('device_type = "ESME"', 'device_type = "GSME"').replace(
        '["ECS17b", "CS06"]', '["GCS13a"]'
    )
    with pytest.raises(ProfileError, match=r"firmware\[0\]\.esme_variant"):
        parse_profile(text, name="t1", source="t1.toml")


def test_unreadable_and_invalid_toml_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema = [")
    with pytest.raises(ProfileError, match=r"bad\.toml: \(file\): not valid TOML"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "absent.toml")

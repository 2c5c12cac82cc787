"""Format auto-detection: every sample in the repository and every real-data excerpt, plus made-up layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fusioncheck.errors import InputError
from fusioncheck.loaders import FORMATS, detect_format, open_source
from fusioncheck.loaders.detect import DETECTED_LAYOUTS, is_kitti_folder, is_openlabel_file, matching_layouts

REPO = Path(__file__).resolve().parents[2]

#: Real-data excerpts and the format each is in (``../shared/realdata/README.md``).
REALDATA_FORMATS = {
    "nuscenes/mmdet3d-nuscenes": "nuscenes",
    "nuscenes/pandaset-public": "nuscenes",
    "nuscenes/aimotive-public": "nuscenes",
    "kitti": "kitti",
    "kitti/training": "kitti",
    "av2": "av2",
    "av2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede": "av2",
}


def test_repository_sample_is_nuscenes() -> None:
    assert detect_format(REPO / "data" / "sample") == "nuscenes"
    assert matching_layouts(REPO / "data" / "sample") == ["nuscenes"]


@pytest.mark.realdata
@pytest.mark.parametrize(("relative", "expected"), sorted(REALDATA_FORMATS.items()))
def test_every_realdata_excerpt(realdata: Path, relative: str, expected: str) -> None:
    path = realdata / relative
    if not path.exists():
        pytest.skip(f"{path} not found")
    assert detect_format(path) == expected
    assert matching_layouts(path) == [expected]


@pytest.mark.realdata
def test_realdata_excerpts_are_all_listed(realdata: Path) -> None:
    """A new excerpt in ../shared/realdata must be added to REALDATA_FORMATS (and so be detected)."""
    tops = {p.name for p in realdata.iterdir() if p.is_dir()}
    listed = {r.split("/")[0] for r in REALDATA_FORMATS}
    assert tops <= listed
    nuscenes = {f"nuscenes/{p.name}" for p in (realdata / "nuscenes").iterdir() if p.is_dir()}
    assert nuscenes <= set(REALDATA_FORMATS)


def test_kitti_layout_without_its_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "kitti"
    for folder in ("calib", "velodyne", "label_2", "image_2"):
        (root / "training" / folder).mkdir(parents=True)
    assert is_kitti_folder(root) and is_kitti_folder(root / "training")
    assert detect_format(root) == "kitti"
    monkeypatch.delitem(FORMATS, "kitti", raising=False)
    with pytest.raises(
        InputError, match="kitti format, but this installation of fusioncheck has no kitti loader"
    ):
        open_source(root)


def test_kitti_tracking_layout(tmp_path: Path) -> None:
    for folder in ("calib", "velodyne", "label_02"):
        (tmp_path / folder).mkdir()
    assert detect_format(tmp_path) == "kitti"
    (tmp_path / "label_02").rmdir()
    assert is_kitti_folder(tmp_path)  # unlabelled (testing-like) data is still KITTI
    (tmp_path / "velodyne").rmdir()
    assert not is_kitti_folder(tmp_path)


def test_openlabel_file_and_folder(tmp_path: Path) -> None:
    doc = tmp_path / "scene.json"
    doc.write_text(json.dumps({"openlabel": {"metadata": {"schema_version": "1.0.0"}}}), encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"metadata": {}, "openlabel": {}}), encoding="utf-8")
    assert is_openlabel_file(doc) and not is_openlabel_file(other)
    assert detect_format(doc) == "openlabel"
    assert detect_format(tmp_path) == "openlabel"


def test_unknown_and_ambiguous(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        detect_format(tmp_path / "nope")
    with pytest.raises(InputError, match="no known dataset format") as info:
        detect_format(tmp_path)
    for name, _, what in DETECTED_LAYOUTS:
        assert what in str(info.value), name
    (tmp_path / "v1.0-mini").mkdir()
    (tmp_path / "v1.0-mini" / "scene.json").write_text("[]", encoding="utf-8")
    (tmp_path / "labels.json").write_text('{"openlabel": {}}', encoding="utf-8")
    with pytest.raises(InputError, match=r"several formats \(nuscenes, openlabel\)"):
        detect_format(tmp_path)


def test_av2_search_skips_crowded_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection must stay fast on big datasets: folders of many files are not searched for AV2 logs."""
    from fusioncheck.loaders import av2

    log = tmp_path / "sensor" / "val" / "log1"
    (log / "calibration").mkdir(parents=True)
    (log / "city_SE3_egovehicle.feather").write_bytes(b"")
    (log / "calibration" / "egovehicle_SE3_sensor.feather").write_bytes(b"")
    assert av2.find_av2_logs(tmp_path) == [log]
    for i in range(4):
        (tmp_path / "sensor" / "val" / f"file{i}").write_bytes(b"")
    monkeypatch.setattr(av2, "MAX_FOLDER_ENTRIES", 4)
    assert av2.find_av2_logs(tmp_path) == []

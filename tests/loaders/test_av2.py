"""The Argoverse 2 loader on the real AV2 excerpt in ``../shared/realdata/av2`` (skipped when absent).

The reference is the dataset's own ``num_interior_pts`` per box: recounting the LiDAR points in each loaded
box (global frame -> ego frame at the sweep -> points moved from ``up_lidar``'s frame back to the ego frame)
only agrees when the quaternion order, the size order, the ego-frame convention and the pose lookup are
all right.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.errors import InputError
from fusioncheck.geometry.boxes import transform_boxes
from fusioncheck.kernels.points_in_boxes import points_in_boxes
from fusioncheck.loaders import AV2Source, detect_format, open_source
from fusioncheck.loaders.av2_categories import AV2_CATEGORIES, AV2_FROM_CATEGORY
from fusioncheck.pipeline import check_sequence
from fusioncheck.policy import Policy
from fusioncheck.scene import Modality, Sequence
from fusioncheck.scene.boxes import boxes_to_arrays

pytestmark = pytest.mark.realdata

pa = pytest.importorskip("pyarrow")
feather = pytest.importorskip("pyarrow.feather")

LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"


@pytest.fixture(scope="session")
def av2_root(realdata: Path) -> Path:
    root = realdata / "av2"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    return root


@pytest.fixture(scope="session")
def av2_source(av2_root: Path) -> AV2Source:
    return AV2Source(av2_root)


@pytest.fixture(scope="session")
def av2_sequence(av2_source: AV2Source) -> Sequence:
    return av2_source.load_sequence(LOG)


def test_log_found_and_detected(av2_root: Path, av2_source: AV2Source) -> None:
    assert av2_source.sequence_names() == [LOG]
    assert detect_format(av2_root) == "av2"
    log = av2_root / "sensor" / "val" / LOG
    assert detect_format(log) == "av2"
    assert isinstance(open_source(log), AV2Source)


def test_sequence_contents(av2_sequence: Sequence) -> None:
    seq = av2_sequence
    # README: 156 annotated sweeps at 10 Hz, 114 tracks, 2 LiDAR sweeps, no images.
    assert len(seq.keyframes) == 156
    assert len(seq.tracks) == 114
    assert len(seq.annotations) == 11364
    assert list(seq.samples) == ["LIDAR_TOP"]
    assert len(seq.samples["LIDAR_TOP"]) == 2
    assert all(s.is_keyframe for s in seq.samples["LIDAR_TOP"])
    times = np.array([kf.timestamp_us for kf in seq.keyframes])
    assert np.all(np.abs(np.diff(times) - 100_000) < 5_000)
    assert {b.category for b in seq.annotations} <= set(AV2_FROM_CATEGORY)
    assert {b.category for b in seq.annotations} >= {"vehicle.car", "human.pedestrian.pedestrian"}
    lidar = seq.sensors["LIDAR_TOP"]
    # up_lidar's extrinsic: 1.35 m forward, 1.64 m up.
    assert np.allclose(lidar.ego_from_sensor.translation, [1.35018, 0.0, 1.64042], atol=1e-5)


def test_point_counts_equal_num_interior_pts(av2_source: AV2Source, av2_sequence: Sequence) -> None:
    seq = av2_sequence
    sensor = seq.sensors["LIDAR_TOP"]
    agree = total = 0
    for keyframe in seq.keyframes:
        sample = keyframe.samples.get("LIDAR_TOP")
        if sample is None:
            continue
        sweep = av2_source.read_lidar(sample)
        assert sweep.points.shape[1] == 5 and sweep.point_times_s is not None
        # offset_ns spans one 10 Hz revolution.
        assert float(sweep.point_times_s.min()) >= 0.0 and float(sweep.point_times_s.max()) < 0.11
        points_ego = sensor.ego_from_sensor.transform_points(sweep.xyz.astype(np.float64))
        boxes = transform_boxes(boxes_to_arrays(keyframe.annotations), sample.global_from_ego.inverse())
        counts = points_in_boxes(points_ego, boxes).counts
        reference = np.array([b.num_lidar_pts for b in keyframe.annotations])
        agree += int(np.sum(counts == reference))
        total += reference.size
    assert total == 162
    assert agree / total >= 0.99, f"{agree}/{total} boxes agree with num_interior_pts"


def test_whole_log_runs_through_every_check(av2_source: AV2Source) -> None:
    result = check_sequence(av2_source, LOG, Policy.default())
    assert result.error is None
    assert result.frames == 156 and result.annotations == 11364
    # 2 of 156 sweeps ship with the excerpt: the others are named as not evaluated, not skipped silently.
    for check in ("box_fit", "missing_boxes"):
        assert sum(n.startswith(f"{check}: ") and "has no LIDAR_TOP sample" in n for n in result.notes) == 154


def test_category_table_is_one_to_one() -> None:
    assert len(AV2_CATEGORIES) == 30
    assert len(AV2_FROM_CATEGORY) == 30
    assert AV2_CATEGORIES["PEDESTRIAN"].startswith("human.")
    assert AV2_CATEGORIES["BICYCLIST"].startswith("human.")
    assert AV2_CATEGORIES["BICYCLE"] == "vehicle.bicycle"


# ----------------------------------------------------------------------------- bad input


def _copy_log(av2_root: Path, tmp_path: Path) -> Path:
    src = av2_root / "sensor" / "val" / LOG
    dst = tmp_path / LOG
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("map"))
    return dst


def _rewrite(path: Path, column: str, row: int, value: object) -> None:
    table = feather.read_table(str(path))
    values = table.column(column).to_pylist()
    values[row] = value
    index = table.column_names.index(column)
    table = table.set_column(index, column, pa.array(values, type=table.schema.field(column).type))
    feather.write_feather(table, str(path))


@pytest.mark.parametrize(
    ("file", "column", "row", "value", "message"),
    [
        ("annotations.feather", "qw", 7, 0.5, "not of unit norm"),
        ("annotations.feather", "category", 3, "SPACESHIP", "unknown Argoverse 2 category 'SPACESHIP'"),
        ("annotations.feather", "length_m", 5, -1.0, "non-positive"),
        ("annotations.feather", "tx_m", 9, float("nan"), "not finite"),
        ("city_SE3_egovehicle.feather", "qz", 11, 0.9, "not of unit norm"),
    ],
)
def test_bad_tables_name_file_and_row(
    av2_root: Path, tmp_path: Path, file: str, column: str, row: int, value: object, message: str
) -> None:
    log = _copy_log(av2_root, tmp_path)
    _rewrite(log / file, column, row, value)
    with pytest.raises(InputError, match=message) as info:
        AV2Source(log).load_sequence(LOG)
    assert info.value.path is not None and info.value.path.endswith(file)
    assert info.value.record == f"row {row}"


def test_missing_column_is_named(av2_root: Path, tmp_path: Path) -> None:
    log = _copy_log(av2_root, tmp_path)
    path = log / "annotations.feather"
    feather.write_feather(feather.read_table(str(path)).drop_columns(["track_uuid"]), str(path))
    with pytest.raises(InputError, match=r"missing column.*track_uuid"):
        AV2Source(log).load_sequence(LOG)


def test_non_numeric_column_is_named(av2_root: Path, tmp_path: Path) -> None:
    log = _copy_log(av2_root, tmp_path)
    path = log / "annotations.feather"
    table = feather.read_table(str(path))
    index = table.column_names.index("length_m")
    table = table.set_column(
        index, "length_m", pa.array([str(v) for v in table.column("length_m").to_pylist()])
    )
    feather.write_feather(table, str(path))
    with pytest.raises(InputError, match="column length_m holds object, not numbers"):
        AV2Source(log).load_sequence(LOG)


def test_corrupt_sweep_is_an_input_error(av2_root: Path, tmp_path: Path, av2_sequence: Sequence) -> None:
    log = _copy_log(av2_root, tmp_path)
    source = AV2Source(log)
    seq = source.load_sequence(LOG)
    sample = seq.samples["LIDAR_TOP"][0]
    sample.path.write_bytes(b"not arrow")
    with pytest.raises(InputError, match="not a readable feather") as info:
        source.read_lidar(sample)
    assert info.value.path == str(sample.path)
    with pytest.raises(InputError, match="no radar"):
        source.read_radar(sample)
    assert seq.sensors["LIDAR_TOP"].modality is Modality.LIDAR


def test_without_pyarrow_the_message_says_how_to_install(
    av2_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow.feather", None)
    with pytest.raises(InputError, match=r"fusioncheck\[av2\]"):
        AV2Source(av2_root)


def test_ring_camera_images(av2_root: Path, tmp_path: Path) -> None:
    """The excerpt has no images: add two for ring_front_center (one near a keyframe, one not)."""
    import cv2

    log = _copy_log(av2_root, tmp_path)
    folder = log / "sensors" / "cameras" / "ring_front_center"
    folder.mkdir(parents=True)
    sweep_ns = 315966265259836000  # the first LiDAR sweep, an annotated keyframe
    image = np.zeros((2048, 1550, 3), dtype=np.uint8)
    for offset_ns in (
        -12_000_000,
        62_000_000,
    ):  # 12 ms before the sweep; 62 ms after it (38 ms before the next)
        assert cv2.imwrite(str(folder / f"{sweep_ns + offset_ns}.jpg"), image)
    source = AV2Source(log)
    seq = source.load_sequence(LOG)
    camera = seq.sensors["ring_front_center"]
    assert camera.modality is Modality.CAMERA and camera.intrinsics is not None
    k1, k2, p1, p2, k3 = camera.intrinsics.distortion.tolist()
    assert k2 == pytest.approx(-0.21224344364217385)
    assert (p1, p2) == (0.0, 0.0) and k1 == pytest.approx(-0.24073199487285743)
    assert k3 == pytest.approx(0.32590167193407427)
    assert (camera.intrinsics.width_px, camera.intrinsics.height_px) == (1550, 2048)
    samples = seq.samples["ring_front_center"]
    assert [s.is_keyframe for s in samples] == [True, True]
    keyframe = next(k for k in seq.keyframes if k.timestamp_us == sweep_ns // 1000)
    assert keyframe.samples["ring_front_center"] is samples[0]
    following = next(k for k in seq.keyframes if k.timestamp_us > keyframe.timestamp_us)
    assert following.samples["ring_front_center"] is samples[1]
    decoded = source.read_image(samples[0], scale=0.25, grey=True)
    assert decoded.pixels.shape == (512, 388)


def test_log_without_annotations_has_a_keyframe_per_sweep(av2_root: Path, tmp_path: Path) -> None:
    """The AV2 test split ships no annotations.feather: every sweep is then an unlabelled keyframe."""
    log = _copy_log(av2_root, tmp_path)
    (log / "annotations.feather").unlink()
    seq = AV2Source(log).load_sequence(LOG)
    assert len(seq.keyframes) == 2 and seq.annotations == []
    assert all(k.samples["LIDAR_TOP"].is_keyframe for k in seq.keyframes)

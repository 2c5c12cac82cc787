"""The nuScenes loader on the real-data excerpts in ``../shared/realdata/nuscenes`` (skipped when absent).

Reference numbers come from ``../shared/realdata/README.md`` and each dataroot's ``fusioncheck_source.json``
(counts written by the converters and by the datasets' own tooling), never from this loader. The strongest
check: ``sample_annotation.num_lidar_pts`` (nuscenes-devkit's ``points_in_box`` on the stored sweep, or
nuScenes' own counts) is recomputed from the loaded boxes and points, which only agrees when the size
convention (w, l, h -> l, w, h), the quaternion order and every frame transform are right.
"""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.spatial import cKDTree

from fusioncheck.errors import InputError
from fusioncheck.geometry import quaternion
from fusioncheck.loaders import NuScenesSource, detect_format, open_source
from fusioncheck.loaders.pcd import RADAR_DTYPE
from fusioncheck.scene import Modality, Sequence
from fusioncheck.scene.samples import RADAR_FIELDS

pytestmark = pytest.mark.realdata

SIX_CAMERAS = {
    "CAM_FRONT",
    "CAM_FRONT_LEFT",
    "CAM_FRONT_RIGHT",
    "CAM_BACK",
    "CAM_BACK_LEFT",
    "CAM_BACK_RIGHT",
}
EXPECTED: dict[str, dict[str, Any]] = {
    "mmdet3d-nuscenes": {
        "samples": 1, "boxes": 68, "tracks": 68, "channels": {"LIDAR_TOP"} | SIX_CAMERAS,
    },
    "pandaset-public": {
        "samples": 10, "boxes": 1161, "tracks": 118,
        "channels": {"LIDAR_TOP", "CAM_FRONT", "CAM_FRONT_LEFT", "CAM_FRONT_RIGHT", "CAM_BACK", "CAM_LEFT",
                     "CAM_RIGHT"},
    },
    "aimotive-public": {
        "samples": 15, "boxes": 120, "tracks": 8,
        "channels": {"LIDAR_TOP", "CAM_FRONT", "CAM_BACK", "RADAR_FRONT", "RADAR_BACK"},
    },
}  # fmt: skip


def dataroot(realdata: Path, name: str) -> Path:
    root = realdata / "nuscenes" / name
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    return root


def only_sequence(source: NuScenesSource) -> Sequence:
    names = source.sequence_names()
    assert len(names) == 1
    return source.load_sequence(names[0])


def provenance(root: Path) -> dict[str, Any]:
    return dict(json.loads((root / "fusioncheck_source.json").read_text()))


def test_every_dataroot_loads_every_scene_and_reads_every_sensor_file(nuscenes_dataroots: list[Path]) -> None:
    for root in nuscenes_dataroots:
        assert detect_format(root) == "nuscenes"
        source = open_source(root)
        assert isinstance(source, NuScenesSource) and source.version == "v1.0-fusioncheck"
        assert source.sequence_names()
        for name in source.sequence_names():
            seq = source.load_sequence(name)
            assert seq.keyframes and seq.annotations
            for items in seq.samples.values():
                for sample in items:
                    if sample.modality is Modality.LIDAR:
                        sweep = source.read_lidar(sample)
                        assert sweep.points.shape[1] == 5 and sweep.points.shape[0] > 1000
                    elif sample.modality is Modality.RADAR:
                        assert source.read_radar(sample).records.dtype == RADAR_DTYPE
                    else:
                        assert sample.path.is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_match_the_readme(realdata: Path, name: str) -> None:
    expected = EXPECTED[name]
    seq = only_sequence(NuScenesSource(dataroot(realdata, name)))
    assert len(seq.keyframes) == expected["samples"]
    assert len(seq.annotations) == expected["boxes"]
    assert len(seq.tracks) == expected["tracks"]
    assert set(seq.sensors) == expected["channels"]
    assert set(seq.samples) == expected["channels"]
    # Every keyframe carries one sample of every channel (these excerpts have no sweeps).
    for kf in seq.keyframes:
        assert set(kf.samples) == expected["channels"]
    assert all(len(items) == expected["samples"] for items in seq.samples.values())
    timestamps = [kf.timestamp_us for kf in seq.keyframes]
    assert timestamps == sorted(timestamps)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_num_lidar_and_radar_pts_recomputed_from_loaded_boxes(realdata: Path, name: str) -> None:
    source = NuScenesSource(dataroot(realdata, name))
    seq = only_sequence(source)
    has_radar = bool(seq.channels(Modality.RADAR))
    lidar_ok = radar_ok = total = 0
    for kf in seq.keyframes:
        lidar = kf.samples["LIDAR_TOP"]
        xyz = source.read_lidar(lidar).xyz.astype(np.float64)
        # Boxes into the LiDAR frame at its own ego pose, as nuscenes-devkit's get_sample_data does.
        sensor_from_global = (lidar.global_from_ego @ seq.sensors["LIDAR_TOP"].ego_from_sensor).inverse()
        radar_global = [
            (kf.samples[ch].global_from_ego @ seq.sensors[ch].ego_from_sensor).transform_points(
                source.read_radar(kf.samples[ch]).xyz
            )
            for ch in seq.channels(Modality.RADAR)
        ]
        radar_xyz = np.concatenate(radar_global) if radar_global else np.zeros((0, 3))
        tree = cKDTree(xyz)
        for box in kf.annotations:
            center = sensor_from_global.transform_points(box.center_m[None])[0]
            rotation = sensor_from_global.rotation @ quaternion.to_matrix(box.quat_wxyz)
            candidates = xyz[tree.query_ball_point(center, float(np.linalg.norm(box.size_m)) / 2 + 1e-6)]
            lidar_ok += count_in_box(candidates, center, rotation, box.size_m) == box.num_lidar_pts
            in_radar = count_in_box(radar_xyz, box.center_m, quaternion.to_matrix(box.quat_wxyz), box.size_m)
            # Without radar files (mmdet3d keeps nuScenes' own counts) there is nothing to recount.
            radar_ok += in_radar == box.num_radar_pts or not has_radar
            total += 1
    assert total == EXPECTED[name]["boxes"]
    assert lidar_ok == total
    assert radar_ok == total
    if has_radar:
        assert sum(box.num_radar_pts or 0 for box in seq.annotations) > 0


def count_in_box(points: np.ndarray, center: np.ndarray, rotation: np.ndarray, size_lwh: np.ndarray) -> int:
    local = (points - center) @ rotation
    return int(np.sum(np.all(np.abs(local) <= size_lwh / 2, axis=1)))


def test_lidar_and_radar_counts_match_the_converters_records(realdata: Path) -> None:
    root = dataroot(realdata, "aimotive-public")
    source = NuScenesSource(root)
    seq = only_sequence(source)
    frames = provenance(root)["per_frame"]
    assert len(frames) == len(seq.keyframes) == 15
    for kf, frame in zip(seq.keyframes, frames, strict=True):
        assert source.read_lidar(kf.samples["LIDAR_TOP"]).points.shape[0] == frame["lidar_points"]
        for channel, count in frame["radar_targets"].items():
            assert source.read_radar(kf.samples[channel]).records.shape == (count,)
        assert len(kf.annotations) == frame["boxes"]
    pandaset = dataroot(realdata, "pandaset-public")
    source = NuScenesSource(pandaset)
    seq = only_sequence(source)
    for kf, frame in zip(seq.keyframes, provenance(pandaset)["per_frame"], strict=True):
        assert source.read_lidar(kf.samples["LIDAR_TOP"]).points.shape[0] == frame["lidar_points"]
        assert len(kf.annotations) == frame["boxes"]


def test_aimotive_radar_fields(realdata: Path) -> None:
    source = NuScenesSource(dataroot(realdata, "aimotive-public"))
    seq = only_sequence(source)
    scan = source.read_radar(seq.keyframes[0].samples["RADAR_FRONT"])
    records = scan.records
    assert records.dtype.names == RADAR_FIELDS and records.shape == (39,)
    # Per fusioncheck_source.json: dyn_prop=4, ambig_state=3, invalid_state=0, is_quality_valid=1,
    # rms fields 0, id = target index, vx_comp = vx (not compensated).
    assert set(records["dyn_prop"].tolist()) == {4}
    assert set(records["ambig_state"].tolist()) == {3}
    assert set(records["invalid_state"].tolist()) == {0}
    assert set(records["is_quality_valid"].tolist()) == {1}
    assert not np.any(records["x_rms"]) and not np.any(records["vy_rms"])
    assert records["id"].tolist() == list(range(39))
    np.testing.assert_array_equal(records["vx_comp"], records["vx"])
    # Stationary world at ~30 m/s: most front returns approach at about -30 m/s radially.
    assert np.median(records["vx"]) == pytest.approx(-29.5, abs=1.5)
    assert np.all(records["x"] > 0)


def test_camera_images_decode_at_half_scale(nuscenes_dataroots: list[Path]) -> None:
    for root in nuscenes_dataroots:
        source = NuScenesSource(root)
        for name in source.sequence_names():
            seq = source.load_sequence(name)
            for channel in seq.channels(Modality.CAMERA):
                intrinsics = seq.sensors[channel].intrinsics
                assert intrinsics is not None and intrinsics.width_px > 0
                sample = seq.samples[channel][0]
                image = source.read_image(sample, scale=0.5)
                assert image.pixels.shape == (intrinsics.height_px // 2, intrinsics.width_px // 2, 3)
                assert image.pixels.std() > 1.0  # a real picture, not a blank decode


def test_image_sizes_from_sample_data(realdata: Path) -> None:
    sizes = {"mmdet3d-nuscenes": (1600, 900), "pandaset-public": (1920, 1080)}
    for name, size in sizes.items():
        seq = only_sequence(NuScenesSource(dataroot(realdata, name)))
        for channel in seq.channels(Modality.CAMERA):
            intrinsics = seq.sensors[channel].intrinsics
            assert intrinsics is not None
            assert (intrinsics.width_px, intrinsics.height_px) == size
            assert not intrinsics.has_distortion
    seq = only_sequence(NuScenesSource(dataroot(realdata, "aimotive-public")))
    front, back = seq.sensors["CAM_FRONT"].intrinsics, seq.sensors["CAM_BACK"].intrinsics
    assert front is not None and back is not None
    assert (front.width_px, front.height_px, back.width_px, back.height_px) == (1280, 704, 1920, 1216)
    # K_undistorted of fusioncheck_source.json.
    assert front.matrix[0, 0] == pytest.approx(1054.6785, abs=1e-3)


def test_mmdet3d_camera_timestamps_precede_the_lidar(realdata: Path) -> None:
    root = dataroot(realdata, "mmdet3d-nuscenes")
    seq = only_sequence(NuScenesSource(root))
    kf = seq.keyframes[0]
    recovery = provenance(root)["camera_ego_pose_recovery"]
    for channel, record in recovery.items():
        dt_ms = (kf.samples[channel].timestamp_us - kf.samples["LIDAR_TOP"].timestamp_us) / 1000
        assert dt_ms == pytest.approx(record["dt_cam_minus_lidar_ms"], abs=0.01)
        shift = (
            kf.samples[channel].global_from_ego.translation
            - kf.samples["LIDAR_TOP"].global_from_ego.translation
        )
        assert float(np.linalg.norm(shift)) == pytest.approx(record["ego_shift_m"], abs=2e-3)
    # The ego track merges the 7 sensors' poses.
    assert seq.ego_poses.timestamps_us.size == 7


def test_real_source_pickles(realdata: Path) -> None:
    source = NuScenesSource(dataroot(realdata, "pandaset-public"))
    clone = pickle.loads(pickle.dumps(source))
    a, b = only_sequence(source), only_sequence(clone)
    assert [x.token for x in a.annotations] == [x.token for x in b.annotations]
    np.testing.assert_array_equal(a.ego_poses.translations_m, b.ego_poses.translations_m)


def copy_dataroot(root: Path, target: Path) -> Path:
    """Copy the tables of ``root`` into ``target``, symlink everything else (real data stays read-only)."""
    target.mkdir()
    for entry in root.iterdir():
        if entry.name == "v1.0-fusioncheck":
            shutil.copytree(entry, target / entry.name)
        else:
            (target / entry.name).symlink_to(entry)
    return target


def edit_table(root: Path, table: str, edit: Any) -> None:
    path = root / "v1.0-fusioncheck" / f"{table}.json"
    records = json.loads(path.read_text())
    path.write_text(json.dumps(edit(records)))


def test_corrupted_copy_of_real_data(realdata: Path, tmp_path: Path) -> None:
    original = dataroot(realdata, "aimotive-public")
    copy = copy_dataroot(original, tmp_path / "clean")
    seq = only_sequence(NuScenesSource(copy))
    source = NuScenesSource(copy)
    assert source.read_lidar(seq.keyframes[3].samples["LIDAR_TOP"]).points.shape[0] == 129606

    shrunk = copy_dataroot(original, tmp_path / "shrunk")
    victim: dict[str, str] = {}

    def zero_width(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        records[17]["size"][0] = 0.0
        victim["token"] = records[17]["token"]
        return records

    edit_table(shrunk, "sample_annotation", zero_width)
    with pytest.raises(InputError, match="non-positive") as err:
        only_sequence(NuScenesSource(shrunk))
    assert victim["token"] in str(err.value)

    no_pose = copy_dataroot(original, tmp_path / "no_pose")
    sample_data = json.loads((original / "v1.0-fusioncheck" / "sample_data.json").read_text())
    dropped = sample_data[40]["ego_pose_token"]
    edit_table(no_pose, "ego_pose", lambda records: [r for r in records if r["token"] != dropped])
    with pytest.raises(InputError, match=f"ego_pose_token '{dropped}' not found") as err:
        only_sequence(NuScenesSource(no_pose))
    assert sample_data[40]["token"] in str(err.value)

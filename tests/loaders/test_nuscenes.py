"""The nuScenes loader on a tiny hand-made dataroot whose every number is known.

``TinyNuScenes`` builds the dataroot (JSON tables, LiDAR ``.pcd.bin``, radar ``.pcd``, camera ``.jpg``);
``tests/loaders/test_bad_input.py`` reuses it to corrupt one thing at a time.

Layout of the tiny dataset:

- scene ``scene-b`` (listed first in scene.json), 3 samples at T0, T0+0.5 s, T0+1.0 s.
  - LIDAR_TOP: keyframes at the sample times, sweeps at +0.2 s, +0.7 s, +1.1 s (6 sample_data).
  - CAM_FRONT: keyframes at sample time + 10 ms, one sweep at +0.26 s; OpenCV distortion extension.
  - RADAR_FRONT: keyframes at sample time + 20 ms.
  - boxes: a car in all 3 samples (size stored w, l, h = 2.0, 4.5, 1.6), a pedestrian in samples 1 and 2.
- scene ``scene-a``, 1 sample at T0 + 100 s, LIDAR_TOP only, one box.
- Ego: x = 10 m/s * t, yaw = 0.1 rad/s * t (t seconds after T0), at every sample_data timestamp.
"""

from __future__ import annotations

import json
import pickle
import zlib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from fusioncheck.geometry import quaternion
from fusioncheck.loaders import NuScenesSource, detect_format, open_source
from fusioncheck.loaders.nuscenes import TABLES
from fusioncheck.loaders.pcd import RADAR_DTYPE
from fusioncheck.scene import Modality
from fusioncheck.scene.samples import RADAR_FIELDS

T0 = 1_600_000_000_000_000
VERSION = "v1.0-tiny"
EGO_SPEED_MPS = 10.0
EGO_YAW_RATE = 0.1
CAR_SIZE_WLH = (2.0, 4.5, 1.6)
PED_SIZE_WLH = (0.6, 0.8, 1.8)
CAM_K = [[50.0, 0.0, 32.0], [0.0, 50.0, 24.0], [0.0, 0.0, 1.0]]
CAM_DISTORTION = [-0.1, 0.01, 0.001, -0.002, 0.0005]
IMAGE_W, IMAGE_H = 64, 48

# nuScenes' own radar field types (SIZE, TYPE) as the devkit writes them.
RADAR_PCD_TYPES = {
    "x": (4, "F"), "y": (4, "F"), "z": (4, "F"), "dyn_prop": (1, "I"), "id": (2, "I"), "rcs": (4, "F"),
    "vx": (4, "F"), "vy": (4, "F"), "vx_comp": (4, "F"), "vy_comp": (4, "F"), "is_quality_valid": (1, "I"),
    "ambig_state": (1, "I"), "x_rms": (1, "I"), "y_rms": (1, "I"), "invalid_state": (1, "I"),
    "pdh0": (1, "I"), "vx_rms": (1, "I"), "vy_rms": (1, "I"),
}  # fmt: skip
_NUMPY_OF = {
    (4, "F"): "<f4",
    (8, "F"): "<f8",
    (1, "I"): "i1",
    (2, "I"): "<i2",
    (4, "I"): "<i4",
    (1, "U"): "u1",
}


def write_radar_pcd(
    path: Path,
    records: np.ndarray,
    *,
    types: dict[str, tuple[int, str]] | None = None,
    points_in_header: int | None = None,
    trailer: bytes = b"",
) -> None:
    """Write ``records`` (any structured array) as a binary PCD v0.7 with the given field types."""
    types = types or {name: RADAR_PCD_TYPES.get(name, (4, "F")) for name in records.dtype.names or ()}
    names = list(types)
    dtype = np.dtype([(n, _NUMPY_OF[types[n]]) for n in names])
    data = np.empty(records.shape[0], dtype=dtype)
    for n in names:
        data[n] = records[n]
    n_points = records.shape[0] if points_in_header is None else points_in_header
    header = (
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n"
        f"FIELDS {' '.join(names)}\nSIZE {' '.join(str(types[n][0]) for n in names)}\n"
        f"TYPE {' '.join(types[n][1] for n in names)}\nCOUNT {' '.join('1' for _ in names)}\n"
        f"WIDTH {n_points}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n_points}\nDATA binary\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode("ascii") + data.tobytes() + trailer)


def radar_records(n: int, seed: int) -> np.ndarray:
    """``n`` radar returns with distinct, exactly representable values (float32 / small ints)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=RADAR_DTYPE)
    for name in RADAR_FIELDS:
        if RADAR_DTYPE[name].kind == "f":
            out[name] = np.round(rng.uniform(-50, 50, n), 2).astype(np.float32)
        else:
            out[name] = rng.integers(0, 8, n)
    out["id"] = np.arange(n) + 100
    return out


def ego_at(t_us: int) -> tuple[list[float], list[float]]:
    """Ego translation and quaternion (wxyz) of the tiny dataset at ``t_us``."""
    t = (t_us - T0) * 1e-6
    return [EGO_SPEED_MPS * t, 0.0, 0.0], quaternion.from_yaw(EGO_YAW_RATE * t).tolist()


class TinyNuScenes:
    """Builder of the tiny nuScenes dataroot; mutate ``tables`` / the arrays before :meth:`write`."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self.lidar: dict[str, np.ndarray] = {}
        self.radar: dict[str, np.ndarray] = {}
        self.images: set[str] = set()
        self.point_times: dict[str, np.ndarray] = {}
        self._build()

    # ---- record access for tests
    def rec(self, table: str, token: str) -> dict[str, Any]:
        return next(r for r in self.tables[table] if r["token"] == token)

    def filename(self, sd_token: str) -> str:
        return str(self.rec("sample_data", sd_token)["filename"])

    def write(self, root: Path, version: str = VERSION) -> Path:
        """Write tables and sensor files under ``root``; returns ``root``."""
        folder = root / version
        folder.mkdir(parents=True, exist_ok=True)
        for table, records in self.tables.items():
            (folder / f"{table}.json").write_text(json.dumps(records, indent=1))
        for token, points in self.lidar.items():
            path = root / self.filename(token)
            path.parent.mkdir(parents=True, exist_ok=True)
            points.astype("<f4").tofile(path)
        for token, records in self.radar.items():
            write_radar_pcd(root / self.filename(token), records, trailer=b"\n")
        for token in self.images:
            path = root / self.filename(token)
            path.parent.mkdir(parents=True, exist_ok=True)
            gradient = np.add.outer(np.arange(IMAGE_H), np.arange(IMAGE_W)).astype(np.uint8)
            cv2.imwrite(str(path), np.dstack([gradient, gradient // 2, 255 - gradient]))
        if self.point_times:
            (root / "fusioncheck_point_times").mkdir(exist_ok=True)
            for token, times in self.point_times.items():
                np.save(root / "fusioncheck_point_times" / f"{token}.npy", times)
        return root

    # ---- construction
    def _add(self, table: str, **record: Any) -> dict[str, Any]:
        self.tables[table].append(record)
        return record

    def _build(self) -> None:
        self._add("log", token="log0", logfile="tiny", vehicle="v", date_captured="2020-09-13", location="x")
        self._add("map", token="map0", log_tokens=["log0"], category="semantic_prior", filename="")
        for token, name in (("cat_car", "vehicle.car"), ("cat_ped", "human.pedestrian.adult")):
            self._add("category", token=token, name=name, description="")
        for token, name in (("att_moving", "vehicle.moving"), ("att_walk", "pedestrian.moving")):
            self._add("attribute", token=token, name=name, description="")
        for i, level in enumerate(("v0-40", "v40-60", "v60-80", "v80-100"), start=1):
            self._add("visibility", token=str(i), level=level, description="")
        sensors = (("LIDAR_TOP", "lidar"), ("CAM_FRONT", "camera"), ("RADAR_FRONT", "radar"))
        for channel, modality in sensors:
            self._add("sensor", token=f"sensor_{channel}", channel=channel, modality=modality)
        self._add(
            "calibrated_sensor", token="cs_LIDAR_TOP", sensor_token="sensor_LIDAR_TOP",
            translation=[0.9, 0.0, 1.8], rotation=quaternion.from_yaw(np.pi / 2).tolist(),
            camera_intrinsic=[],
        )  # fmt: skip
        self._add(
            "calibrated_sensor", token="cs_CAM_FRONT", sensor_token="sensor_CAM_FRONT",
            translation=[1.7, 0.0, 1.5], rotation=[0.5, -0.5, 0.5, -0.5], camera_intrinsic=CAM_K,
            camera_distortion=CAM_DISTORTION,
        )  # fmt: skip
        self._add(
            "calibrated_sensor", token="cs_RADAR_FRONT", sensor_token="sensor_RADAR_FRONT",
            translation=[3.4, 0.0, 0.5], rotation=[1.0, 0.0, 0.0, 0.0], camera_intrinsic=[],
        )  # fmt: skip

        # scene-b: 3 samples
        sample_times = [T0, T0 + 500_000, T0 + 1_000_000]
        samples_b = self._samples("scene_b", "b", sample_times)
        self._add(
            "scene", token="scene_b", log_token="log0", nbr_samples=3, first_sample_token=samples_b[0],
            last_sample_token=samples_b[-1], name="scene-b", description="three samples",
        )  # fmt: skip
        lidar = [(T0, 0, True), (T0 + 200_000, 0, False), (T0 + 500_000, 1, True), (T0 + 700_000, 1, False),
                 (T0 + 1_000_000, 2, True), (T0 + 1_100_000, 2, False)]  # fmt: skip
        camera = [(T0 + 10_000, 0, True), (T0 + 260_000, 1, False), (T0 + 510_000, 1, True),
                  (T0 + 1_010_000, 2, True)]  # fmt: skip
        radar = [(T0 + 20_000, 0, True), (T0 + 520_000, 1, True), (T0 + 1_020_000, 2, True)]
        self._channel_data("b", "LIDAR_TOP", lidar, samples_b)
        self._channel_data("b", "CAM_FRONT", camera, samples_b)
        self._channel_data("b", "RADAR_FRONT", radar, samples_b)
        self.point_times["b_LIDAR_TOP_0"] = np.linspace(
            -0.05, 0.0, self.lidar["b_LIDAR_TOP_0"].shape[0]
        ).astype(np.float32)
        self._add("instance", token="inst_car", category_token="cat_car", nbr_annotations=3,
                  first_annotation_token="ann_car_0", last_annotation_token="ann_car_2")  # fmt: skip
        self._add("instance", token="inst_ped", category_token="cat_ped", nbr_annotations=2,
                  first_annotation_token="ann_ped_1", last_annotation_token="ann_ped_2")  # fmt: skip
        for i in range(3):
            self._add(
                "sample_annotation", token=f"ann_car_{i}", sample_token=samples_b[i],
                instance_token="inst_car", visibility_token="4", attribute_tokens=["att_moving"],
                translation=[20.0 + 5.0 * i, 3.0, 0.8],
                size=list(CAR_SIZE_WLH), rotation=quaternion.from_yaw(0.3).tolist(),
                prev=f"ann_car_{i - 1}" if i > 0 else "", next=f"ann_car_{i + 1}" if i < 2 else "",
                num_lidar_pts=100 + i, num_radar_pts=i,
            )  # fmt: skip
        for i in (1, 2):
            self._add(
                "sample_annotation", token=f"ann_ped_{i}", sample_token=samples_b[i],
                instance_token="inst_ped", visibility_token="", attribute_tokens=["att_walk"],
                translation=[10.0, -2.0 + 0.7 * i, 0.9],
                size=list(PED_SIZE_WLH), rotation=[1.0, 0.0, 0.0, 0.0],
                prev="ann_ped_1" if i == 2 else "", next="ann_ped_2" if i == 1 else "",
                num_lidar_pts=7, num_radar_pts=0,
            )  # fmt: skip

        # scene-a: 1 sample, LiDAR only
        samples_a = self._samples("scene_a", "a", [T0 + 100_000_000])
        self._add(
            "scene", token="scene_a", log_token="log0", nbr_samples=1, first_sample_token=samples_a[0],
            last_sample_token=samples_a[0], name="scene-a", description="one sample",
        )  # fmt: skip
        self._channel_data("a", "LIDAR_TOP", [(T0 + 100_000_000, 0, True)], samples_a)
        self._add("instance", token="inst_a", category_token="cat_car", nbr_annotations=1,
                  first_annotation_token="ann_a", last_annotation_token="ann_a")  # fmt: skip
        self._add(
            "sample_annotation", token="ann_a", sample_token=samples_a[0], instance_token="inst_a",
            visibility_token="2", attribute_tokens=[], translation=[1000.0, 1.0, 1.0], size=[1.9, 4.2, 1.5],
            rotation=[1.0, 0.0, 0.0, 0.0], prev="", next="", num_lidar_pts=3, num_radar_pts=0,
        )  # fmt: skip

    def _samples(self, scene: str, prefix: str, times: list[int]) -> list[str]:
        tokens = [f"{prefix}_sample_{i}" for i in range(len(times))]
        for i, (token, t) in enumerate(zip(tokens, times, strict=True)):
            self._add(
                "sample", token=token, timestamp=t, scene_token=scene,
                prev=tokens[i - 1] if i > 0 else "", next=tokens[i + 1] if i + 1 < len(tokens) else "",
            )  # fmt: skip
        return tokens

    def _channel_data(
        self, prefix: str, channel: str, stamps: list[tuple[int, int, bool]], samples: list[str]
    ) -> None:
        tokens = [f"{prefix}_{channel}_{i}" for i in range(len(stamps))]
        modality = channel.split("_")[0]
        for i, (token, (t, sample_index, key)) in enumerate(zip(tokens, stamps, strict=True)):
            folder = "samples" if key else "sweeps"
            ext = {"LIDAR": ".pcd.bin", "CAM": ".jpg", "RADAR": ".pcd"}[modality]
            translation, rotation = ego_at(t)
            self._add(
                "ego_pose", token=f"ego_{token}", timestamp=t, translation=translation, rotation=rotation
            )
            self._add(
                "sample_data", token=token, sample_token=samples[sample_index], ego_pose_token=f"ego_{token}",
                calibrated_sensor_token=f"cs_{channel}", timestamp=t, fileformat=ext.split(".")[1],
                is_key_frame=key, height=IMAGE_H if modality == "CAM" else 0,
                width=IMAGE_W if modality == "CAM" else 0, filename=f"{folder}/{channel}/{token}{ext}",
                prev=tokens[i - 1] if i > 0 else "", next=tokens[i + 1] if i + 1 < len(tokens) else "",
            )  # fmt: skip
            seed = zlib.crc32(token.encode())
            if modality == "LIDAR":
                rng = np.random.default_rng(seed)
                points = rng.uniform(-30, 30, (10 + i, 5)).astype(np.float32)
                points[:, 4] = np.arange(10 + i) % 32
                self.lidar[token] = points
            elif modality == "RADAR":
                self.radar[token] = radar_records(4 + i, seed)
            else:
                self.images.add(token)


@pytest.fixture()
def tiny() -> TinyNuScenes:
    return TinyNuScenes()


@pytest.fixture()
def tiny_root(tmp_path: Path, tiny: TinyNuScenes) -> Path:
    return tiny.write(tmp_path / "tiny")


@pytest.fixture()
def source(tiny_root: Path) -> NuScenesSource:
    return NuScenesSource(tiny_root)


def test_sequence_names_in_scene_json_order(source: NuScenesSource) -> None:
    assert source.sequence_names() == ["scene-b", "scene-a"]
    assert source.version == VERSION
    assert source.format_name == "nuscenes"


def test_keyframes_in_next_link_order_with_their_samples(source: NuScenesSource) -> None:
    seq = source.load_sequence("scene-b")
    assert seq.name == "scene-b" and seq.token == "scene_b" and seq.description == "three samples"
    assert [kf.token for kf in seq.keyframes] == ["b_sample_0", "b_sample_1", "b_sample_2"]
    assert [kf.timestamp_us - T0 for kf in seq.keyframes] == [0, 500_000, 1_000_000]
    kf1 = seq.keyframes[1]
    assert {c: s.token for c, s in kf1.samples.items()} == {
        "CAM_FRONT": "b_CAM_FRONT_2",
        "LIDAR_TOP": "b_LIDAR_TOP_2",
        "RADAR_FRONT": "b_RADAR_FRONT_1",
    }
    assert all(s.is_keyframe for kf in seq.keyframes for s in kf.samples.values())
    assert [a.token for a in kf1.annotations] == ["ann_car_1", "ann_ped_1"]


def test_box_size_is_converted_from_wlh_to_lwh(source: NuScenesSource) -> None:
    seq = source.load_sequence("scene-b")
    car = seq.keyframes[2].annotations[0]
    assert car.token == "ann_car_2"
    np.testing.assert_array_equal(car.size_m, [4.5, 2.0, 1.6])
    np.testing.assert_array_equal(car.center_m, [30.0, 3.0, 0.8])
    assert car.yaw_rad == pytest.approx(0.3)
    assert car.category == "vehicle.car" and car.instance == "inst_car"
    assert car.attributes == ("vehicle.moving",)
    assert car.visibility == "v80-100"
    assert (car.num_lidar_pts, car.num_radar_pts) == (102, 2)
    assert car.timestamp_us == T0 + 1_000_000 and car.keyframe_token == "b_sample_2"
    ped = seq.keyframes[1].annotations[1]
    np.testing.assert_array_equal(ped.size_m, [0.8, 0.6, 1.8])
    assert ped.visibility is None and ped.attributes == ("pedestrian.moving",)


def test_tracks_and_their_velocity(source: NuScenesSource) -> None:
    seq = source.load_sequence("scene-b")
    assert sorted(seq.tracks) == ["inst_car", "inst_ped"]
    car = seq.tracks["inst_car"]
    assert len(car) == 3
    # The car moves 5 m per 0.5 s along x.
    np.testing.assert_allclose(car.velocities_mps[1], [10.0, 0.0, 0.0])
    np.testing.assert_allclose(seq.tracks["inst_ped"].velocities_mps[0], [0.0, 1.4, 0.0])


def test_all_sweeps_per_channel_ordered_by_time(source: NuScenesSource) -> None:
    seq = source.load_sequence("scene-b")
    assert sorted(seq.samples) == ["CAM_FRONT", "LIDAR_TOP", "RADAR_FRONT"]
    lidar = seq.samples["LIDAR_TOP"]
    assert [s.timestamp_us - T0 for s in lidar] == [0, 200_000, 500_000, 700_000, 1_000_000, 1_100_000]
    assert [s.is_keyframe for s in lidar] == [True, False, True, False, True, False]
    assert [s.keyframe_token for s in lidar] == ["b_sample_0", "b_sample_0", "b_sample_1", "b_sample_1",
                                                  "b_sample_2", "b_sample_2"]  # fmt: skip
    assert len(seq.samples["CAM_FRONT"]) == 4 and len(seq.samples["RADAR_FRONT"]) == 3
    assert lidar[1].path == source.table_folder.parent / "sweeps" / "LIDAR_TOP" / "b_LIDAR_TOP_1.pcd.bin"
    assert lidar[0].modality is Modality.LIDAR and lidar[0].width_px == 0
    cam = seq.samples["CAM_FRONT"][0]
    assert (cam.width_px, cam.height_px) == (IMAGE_W, IMAGE_H)
    # The other scene sees only its own sample_data.
    other = source.load_sequence("scene-a")
    assert {c: len(v) for c, v in other.samples.items()} == {"LIDAR_TOP": 1}
    assert len(other.keyframes) == 1 and other.annotations[0].token == "ann_a"


def test_sensors_calibration_and_camera_distortion_extension(source: NuScenesSource) -> None:
    seq = source.load_sequence("scene-b")
    assert seq.channels(Modality.CAMERA) == ["CAM_FRONT"]
    assert seq.channels(Modality.RADAR) == ["RADAR_FRONT"]
    lidar = seq.sensors["LIDAR_TOP"]
    assert lidar.intrinsics is None and lidar.calibration_token == "cs_LIDAR_TOP"
    # Sensor x axis points along ego y (yaw 90 deg), origin at (0.9, 0, 1.8).
    np.testing.assert_allclose(
        lidar.ego_from_sensor.transform_points(np.array([[1.0, 0, 0]])), [[0.9, 1.0, 1.8]]
    )
    cam = seq.sensors["CAM_FRONT"]
    assert cam.intrinsics is not None
    np.testing.assert_array_equal(cam.intrinsics.matrix, CAM_K)
    np.testing.assert_array_equal(cam.intrinsics.distortion, CAM_DISTORTION)
    assert cam.intrinsics.has_distortion
    assert (cam.intrinsics.width_px, cam.intrinsics.height_px) == (IMAGE_W, IMAGE_H)
    # Camera z (optical axis) looks along ego x.
    np.testing.assert_allclose(
        cam.ego_from_sensor.rotate_vectors(np.array([[0, 0, 1.0]])), [[1.0, 0, 0]], atol=1e-12
    )


def test_camera_without_distortion_field_is_rectified(tiny: TinyNuScenes, tmp_path: Path) -> None:
    del tiny.rec("calibrated_sensor", "cs_CAM_FRONT")["camera_distortion"]
    seq = NuScenesSource(tiny.write(tmp_path / "r")).load_sequence("scene-b")
    intrinsics = seq.sensors["CAM_FRONT"].intrinsics
    assert intrinsics is not None and intrinsics.distortion.size == 0 and not intrinsics.has_distortion


def test_ego_pose_per_sample_and_interpolated_track(source: NuScenesSource) -> None:
    seq = source.load_sequence("scene-b")
    # 6 LiDAR + 4 camera + 3 radar sample_data, each with its own ego pose at a distinct time.
    assert seq.ego_poses.timestamps_us.size == 13
    assert (seq.ego_poses.start_us, seq.ego_poses.end_us) == (T0, T0 + 1_100_000)
    sweep = seq.samples["LIDAR_TOP"][3]
    np.testing.assert_allclose(sweep.global_from_ego.translation, [7.0, 0.0, 0.0])
    assert float(quaternion.yaw_of(sweep.global_from_ego.quat_wxyz)) == pytest.approx(0.07)
    # Between poses at 0.02 s (radar) and 0.2 s (LiDAR sweep): x = 10 m/s * 0.1 s, yaw = 0.1 rad/s * 0.1 s.
    pose = seq.ego_poses.at(T0 + 100_000)
    np.testing.assert_allclose(pose.translation, [1.0, 0.0, 0.0], atol=1e-9)
    assert float(quaternion.yaw_of(pose.quat_wxyz)) == pytest.approx(0.01)
    np.testing.assert_allclose(seq.ego_poses.velocity_at(T0 + 600_000), [10.0, 0.0, 0.0])


def test_read_lidar_points_and_point_times_extension(source: NuScenesSource, tiny: TinyNuScenes) -> None:
    seq = source.load_sequence("scene-b")
    first, second = seq.samples["LIDAR_TOP"][:2]
    sweep = source.read_lidar(first)
    assert sweep.points.dtype == np.float32 and sweep.points.shape == (10, 5)
    np.testing.assert_array_equal(sweep.points, tiny.lidar["b_LIDAR_TOP_0"])
    assert sweep.column_names == ("x", "y", "z", "intensity", "ring")
    assert sweep.point_times_s is not None and sweep.point_times_s.dtype == np.float32
    np.testing.assert_array_equal(sweep.point_times_s, tiny.point_times["b_LIDAR_TOP_0"])
    assert sweep.point_times_s[0] == pytest.approx(-0.05)
    other = source.read_lidar(second)
    assert other.points.shape == (11, 5) and other.point_times_s is None
    assert sweep.sample is first


def test_read_radar_records_with_fixed_dtype(source: NuScenesSource, tiny: TinyNuScenes) -> None:
    seq = source.load_sequence("scene-b")
    sample = seq.samples["RADAR_FRONT"][2]
    scan = source.read_radar(sample)
    assert scan.records.dtype == RADAR_DTYPE
    assert scan.records.dtype.names == RADAR_FIELDS
    assert scan.records.shape == (6,)
    expected = tiny.radar["b_RADAR_FRONT_2"]
    for name in RADAR_FIELDS:
        np.testing.assert_array_equal(scan.records[name], expected[name], err_msg=name)
    assert scan.records["id"].tolist() == [100, 101, 102, 103, 104, 105]
    np.testing.assert_array_equal(scan.xyz[:, 0], expected["x"].astype(np.float64))


@pytest.mark.parametrize(
    ("scale", "shape"), [(1.0, (48, 64)), (0.5, (24, 32)), (0.25, (12, 16)), (0.125, (6, 8))]
)
def test_read_image_at_reduced_scale(source: NuScenesSource, scale: float, shape: tuple[int, int]) -> None:
    seq = source.load_sequence("scene-b")
    sample = seq.samples["CAM_FRONT"][0]
    image = source.read_image(sample, scale=scale)
    assert image.pixels.shape == (*shape, 3) and image.pixels.dtype == np.uint8 and image.scale == scale
    grey = source.read_image(sample, scale=scale, grey=True)
    assert grey.pixels.shape == shape


def test_read_image_rejects_unsupported_scale_and_wrong_modality(source: NuScenesSource) -> None:
    seq = source.load_sequence("scene-b")
    with pytest.raises(ValueError, match="scale"):
        source.read_image(seq.samples["CAM_FRONT"][0], scale=0.3)
    with pytest.raises(ValueError, match="not lidar"):
        source.read_lidar(seq.samples["CAM_FRONT"][0])


def test_source_pickles_and_builds_the_same_sequence(source: NuScenesSource) -> None:
    clone = pickle.loads(pickle.dumps(source))
    a, b = source.load_sequence("scene-b"), clone.load_sequence("scene-b")
    assert [x.token for x in a.annotations] == [x.token for x in b.annotations]
    assert clone.root == source.root
    np.testing.assert_array_equal(clone.read_lidar(b.samples["LIDAR_TOP"][0]).points,
                                  source.read_lidar(a.samples["LIDAR_TOP"][0]).points)  # fmt: skip


def test_open_source_detects_nuscenes(tiny_root: Path) -> None:
    assert detect_format(tiny_root) == "nuscenes"
    src = open_source(tiny_root)
    assert isinstance(src, NuScenesSource) and src.sequence_names() == ["scene-b", "scene-a"]
    assert isinstance(open_source(str(tiny_root), format="nuscenes"), NuScenesSource)


def test_explicit_version_picks_one_of_several_folders(tiny: TinyNuScenes, tmp_path: Path) -> None:
    root = tiny.write(tmp_path / "two")
    tiny.tables["scene"] = tiny.tables["scene"][1:]
    tiny.write(root, version="v1.0-other")
    assert NuScenesSource(root, version="v1.0-other").sequence_names() == ["scene-a"]
    assert NuScenesSource(root, version=VERSION).sequence_names() == ["scene-b", "scene-a"]


def test_forty_keyframe_scene_with_sweeps(tmp_path: Path) -> None:
    """A 40-keyframe scene with 5 sweeps per keyframe builds with every sweep and box in place."""
    tiny = TinyNuScenes()
    # Extend scene-a to 40 samples of 1 LiDAR keyframe + 5 sweeps each.
    tables = tiny.tables
    tables["sample"] = [r for r in tables["sample"] if not r["token"].startswith("a_")]
    tables["sample_data"] = [r for r in tables["sample_data"] if not r["token"].startswith("a_")]
    tables["ego_pose"] = [r for r in tables["ego_pose"] if not r["token"].startswith("ego_a_")]
    tables["sample_annotation"] = [r for r in tables["sample_annotation"] if r["token"] != "ann_a"]
    tiny.lidar = {k: v for k, v in tiny.lidar.items() if not k.startswith("a_")}
    base = T0 + 100_000_000
    samples = tiny._samples("scene_a", "a", [base + 500_000 * i for i in range(40)])
    stamps = [(base + 500_000 * i + 83_000 * j, i, j == 0) for i in range(40) for j in range(6)]
    tiny._channel_data("a", "LIDAR_TOP", stamps, samples)
    scene = tiny.rec("scene", "scene_a")
    scene.update(nbr_samples=40, first_sample_token=samples[0], last_sample_token=samples[-1])
    tiny.rec("instance", "inst_a").update(first_annotation_token="ann_a_0", last_annotation_token="ann_a_39")
    for i, s in enumerate(samples):
        tiny._add(
            "sample_annotation", token=f"ann_a_{i}", sample_token=s, instance_token="inst_a",
            visibility_token="", attribute_tokens=[], translation=[float(i), 1.0, 1.0], size=[1.9, 4.2, 1.5],
            rotation=[1.0, 0.0, 0.0, 0.0], prev=f"ann_a_{i - 1}" if i else "",
            next=f"ann_a_{i + 1}" if i < 39 else "", num_lidar_pts=3, num_radar_pts=0,
        )  # fmt: skip
    seq = NuScenesSource(tiny.write(tmp_path / "long")).load_sequence("scene-a")
    assert len(seq.keyframes) == 40 and len(seq.samples["LIDAR_TOP"]) == 240
    assert len(seq.tracks["inst_a"]) == 40
    np.testing.assert_allclose(seq.tracks["inst_a"].velocities_mps[5], [2.0, 0.0, 0.0])

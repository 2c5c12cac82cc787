"""Corrupt one thing at a time in the tiny nuScenes dataroot: each must raise an InputError that names it.

Every case returns the action that must fail and the fragments its message must contain (the token, file
or value that is wrong), so that a user can find the bad record from the message alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.errors import InputError
from fusioncheck.loaders import NuScenesSource, detect_format, open_source
from fusioncheck.scene import SensorSample
from tests.loaders.test_nuscenes import T0, VERSION, TinyNuScenes, write_radar_pcd

Action = Callable[[], object]
Case = Callable[[TinyNuScenes, Path], tuple[Action, list[str]]]
CASES: dict[str, Case] = {}


def case(fn: Case) -> Case:
    CASES[fn.__name__] = fn
    return fn


def sample_of(source: NuScenesSource, token: str, scene: str = "scene-b") -> SensorSample:
    seq = source.load_sequence(scene)
    return next(s for items in seq.samples.values() for s in items if s.token == token)


def loading(tiny: TinyNuScenes, root: Path, scene: str = "scene-b") -> Action:
    tiny.write(root)
    return lambda: NuScenesSource(root).load_sequence(scene)


def table_file(table: str) -> str:
    return f"{VERSION}/{table}.json"


# ------------------------------------------------------------------------------------ sensor files


@case
def truncated_lidar_bin(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    path = root / tiny.filename("b_LIDAR_TOP_2")
    path.write_bytes(path.read_bytes()[:-7])
    src = NuScenesSource(root)
    sample = sample_of(src, "b_LIDAR_TOP_2")
    return lambda: src.read_lidar(sample), [
        "b_LIDAR_TOP_2",
        "samples/LIDAR_TOP/b_LIDAR_TOP_2.pcd.bin",
        "truncated",
    ]


@case
def lidar_nan_points(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.lidar["b_LIDAR_TOP_1"][[3, 7], 1] = np.nan
    tiny.write(root)
    src = NuScenesSource(root)
    sample = sample_of(src, "b_LIDAR_TOP_1")
    return lambda: src.read_lidar(sample), ["b_LIDAR_TOP_1", "2 of 11 points", "first at point index 3"]


@case
def radar_header_lies_about_point_count(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    path = root / tiny.filename("b_RADAR_FRONT_1")
    write_radar_pcd(path, tiny.radar["b_RADAR_FRONT_1"], points_in_header=9)
    src = NuScenesSource(root)
    sample = sample_of(src, "b_RADAR_FRONT_1")
    return lambda: src.read_radar(sample), [
        "b_RADAR_FRONT_1",
        "b_RADAR_FRONT_1.pcd",
        "header claims 9 points",
    ]


@case
def radar_junk_after_points(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    path = root / tiny.filename("b_RADAR_FRONT_0")
    write_radar_pcd(path, tiny.radar["b_RADAR_FRONT_0"], trailer=b"\x00\x01\x02")
    src = NuScenesSource(root)
    sample = sample_of(src, "b_RADAR_FRONT_0")
    return lambda: src.read_radar(sample), ["b_RADAR_FRONT_0", "3 more bytes follow"]


@case
def radar_missing_field(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    records = tiny.radar["b_RADAR_FRONT_2"]
    names = [n for n in records.dtype.names or () if n != "pdh0"]
    write_radar_pcd(root / tiny.filename("b_RADAR_FRONT_2"), records[names])
    src = NuScenesSource(root)
    sample = sample_of(src, "b_RADAR_FRONT_2")
    return lambda: src.read_radar(sample), ["b_RADAR_FRONT_2", "missing fields ['pdh0']"]


@case
def missing_lidar_file(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    (root / tiny.filename("b_LIDAR_TOP_3")).unlink()
    src = NuScenesSource(root)
    sample = sample_of(src, "b_LIDAR_TOP_3")
    return lambda: src.read_lidar(sample), [
        "b_LIDAR_TOP_3",
        "sweeps/LIDAR_TOP/b_LIDAR_TOP_3.pcd.bin",
        "missing",
    ]


@case
def undecodable_image(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    (root / tiny.filename("b_CAM_FRONT_0")).write_bytes(b"\xff\xd8 not really a jpeg")
    src = NuScenesSource(root)
    sample = sample_of(src, "b_CAM_FRONT_0")
    return lambda: src.read_image(sample, 0.5), ["b_CAM_FRONT_0", "b_CAM_FRONT_0.jpg", "could not be decoded"]


@case
def image_size_disagrees_with_sample_data(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    for record in tiny.tables["sample_data"]:
        if record["token"].startswith("b_CAM_FRONT"):
            record["width"] = 128
    tiny.write(root)
    src = NuScenesSource(root)
    sample = sample_of(src, "b_CAM_FRONT_2")
    return lambda: src.read_image(sample), ["b_CAM_FRONT_2", "image is 64x48 px", "sample_data says 128x48"]


@case
def point_times_length_mismatch(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.point_times["b_LIDAR_TOP_0"] = tiny.point_times["b_LIDAR_TOP_0"][:-1]
    tiny.write(root)
    src = NuScenesSource(root)
    sample = sample_of(src, "b_LIDAR_TOP_0")
    return lambda: src.read_lidar(sample), [
        "fusioncheck_point_times/b_LIDAR_TOP_0.npy",
        "record b_LIDAR_TOP_0",
        "hold (9,)",
        "10 points",
    ]


# ------------------------------------------------------------------------------------ tables and layout


@case
def malformed_json(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    path = root / VERSION / "sample.json"
    path.write_text(path.read_text().rstrip().rstrip("]") + ",]")
    return lambda: NuScenesSource(root), [table_file("sample"), "malformed JSON at line", "column"]


@case
def table_is_not_a_list(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    (root / VERSION / "log.json").write_text('{"token": "log0"}')
    return lambda: NuScenesSource(root), [table_file("log"), "expected a JSON list"]


@case
def missing_table(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    (root / VERSION / "visibility.json").unlink()
    return lambda: NuScenesSource(root), [table_file("visibility"), "missing nuScenes table visibility.json"]


@case
def empty_required_table(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.tables["sensor"] = []
    tiny.write(root)
    return lambda: NuScenesSource(root), [table_file("sensor"), "table is empty"]


@case
def record_without_token(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    del tiny.tables["category"][1]["token"]
    tiny.write(root)
    return lambda: NuScenesSource(root), [table_file("category"), "record #1 has no string 'token'"]


@case
def duplicate_token(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.tables["ego_pose"].append(dict(tiny.rec("ego_pose", "ego_b_LIDAR_TOP_2")))
    tiny.write(root)
    return lambda: NuScenesSource(root), [table_file("ego_pose"), "ego_b_LIDAR_TOP_2", "duplicate token"]


@case
def duplicate_scene_name(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("scene", "scene_a")["name"] = "scene-b"
    tiny.write(root)
    return lambda: NuScenesSource(root), ["scene_a", "'scene-b' is also used by scene scene_b"]


@case
def ambiguous_version_folder(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    tiny.write(root, version="v1.0-tiny2")
    return lambda: NuScenesSource(root), [
        "several nuScenes version folders: v1.0-tiny, v1.0-tiny2",
        "version=",
    ]


@case
def unknown_version_folder(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    return lambda: NuScenesSource(root, version="v1.0-trainval"), ["'v1.0-trainval' not found", "v1.0-tiny"]


@case
def no_dataset_at_path(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    (root / "v1.0-empty").mkdir(parents=True)
    return lambda: open_source(root), [str(root), "no known dataset format", "scene.json"]


@case
def unknown_format_name(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    return lambda: open_source(root, format="waymo"), ["unknown format 'waymo'", "nuscenes"]


@case
def unknown_scene_name(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.write(root)
    src = NuScenesSource(root)
    return lambda: src.load_sequence("scene-z"), ["unknown scene 'scene-z'", "available: scene-b, scene-a"]


# ------------------------------------------------------------------------------------ records


@case
def missing_key(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    del tiny.rec("sample_data", "b_RADAR_FRONT_0")["timestamp"]
    return loading(tiny, root), [table_file("sample_data"), "b_RADAR_FRONT_0", "missing key 'timestamp'"]


@case
def wrong_type(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample", "b_sample_1")["timestamp"] = str(T0 + 500_000)
    return loading(tiny, root), [table_file("sample"), "b_sample_1", "timestamp must be int, got str"]


@case
def keyframe_flag_not_bool(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_CAM_FRONT_1")["is_key_frame"] = 0
    return loading(tiny, root), ["b_CAM_FRONT_1", "is_key_frame must be bool"]


@case
def non_finite_translation(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("ego_pose", "ego_b_LIDAR_TOP_3")["translation"] = [7.0, float("nan"), 0.0]
    return loading(tiny, root), [table_file("ego_pose"), "ego_b_LIDAR_TOP_3", "translation has non-finite"]


@case
def non_unit_quaternion(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_car_1")["rotation"] = [1.0, 0.0, 0.0, 0.5]
    return loading(tiny, root), ["ann_car_1", "not a unit quaternion (norm 1.118034)", "normalise"]


@case
def non_unit_calibration_quaternion(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("calibrated_sensor", "cs_RADAR_FRONT")["rotation"] = [0.9, 0.0, 0.0, 0.0]
    return loading(tiny, root), [table_file("calibrated_sensor"), "cs_RADAR_FRONT", "not a unit quaternion"]


@case
def non_positive_box_size(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_ped_2")["size"] = [0.6, 0.0, 1.8]
    return loading(tiny, root), [
        "ann_ped_2",
        "size [0.6, 0.0, 1.8] (width, length, height) has a non-positive",
    ]


@case
def box_vector_wrong_length(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_car_0")["translation"] = [20.0, 3.0]
    return loading(tiny, root), ["ann_car_0", "translation must be a list of 3 numbers"]


@case
def negative_point_count(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_car_2")["num_lidar_pts"] = -1
    return loading(tiny, root), ["ann_car_2", "num_lidar_pts is negative"]


@case
def filename_escapes_dataroot(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_LIDAR_TOP_1")["filename"] = "sweeps/../../outside/x.pcd.bin"
    return loading(tiny, root), ["b_LIDAR_TOP_1", "'sweeps/../../outside/x.pcd.bin' escapes the dataroot"]


@case
def absolute_filename(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_LIDAR_TOP_1")["filename"] = "/data/sweeps/x.pcd.bin"
    return loading(tiny, root), ["b_LIDAR_TOP_1", "'/data/sweeps/x.pcd.bin' is absolute"]


@case
def windows_absolute_filename(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_CAM_FRONT_0")["filename"] = "C:\\data\\x.jpg"
    return loading(tiny, root), ["b_CAM_FRONT_0", "is absolute"]


@case
def unknown_modality(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sensor", "sensor_RADAR_FRONT")["modality"] = "sonar"
    return loading(tiny, root), [table_file("sensor"), "sensor_RADAR_FRONT", "modality 'sonar'"]


@case
def camera_without_intrinsics(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("calibrated_sensor", "cs_CAM_FRONT")["camera_intrinsic"] = []
    return loading(tiny, root), ["cs_CAM_FRONT", "camera_intrinsic must be a 3x3 matrix"]


@case
def distortion_of_wrong_length(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("calibrated_sensor", "cs_CAM_FRONT")["camera_distortion"] = [0.1, 0.2, 0.3]
    return loading(tiny, root), ["cs_CAM_FRONT", "camera_distortion has 3 values"]


@case
def two_calibrations_for_one_channel(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.tables["calibrated_sensor"].append(
        dict(tiny.rec("calibrated_sensor", "cs_CAM_FRONT"), token="cs_CAM_2")
    )
    tiny.rec("sample_data", "b_CAM_FRONT_3")["calibrated_sensor_token"] = "cs_CAM_2"
    return loading(tiny, root), ["channel CAM_FRONT uses 2 different calibrated_sensor records", "cs_CAM_2"]


@case
def camera_image_sizes_differ(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_CAM_FRONT_1")["width"] = 65
    return loading(tiny, root), [
        "CAM_FRONT has sample_data of different image sizes",
        "65x48 (b_CAM_FRONT_1)",
    ]


@case
def conflicting_ego_poses_at_one_time(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    # The radar keyframe is stamped like the LiDAR sweep, but its ego pose is 0.5 m away.
    tiny.rec("sample_data", "b_RADAR_FRONT_1")["timestamp"] = T0 + 500_000
    tiny.rec("ego_pose", "ego_b_RADAR_FRONT_1").update(timestamp=T0 + 500_000, translation=[5.5, 0.0, 0.0])
    return loading(tiny, root), [
        "ego_b_LIDAR_TOP_2",
        "ego_b_RADAR_FRONT_1",
        f"two ego poses at timestamp {T0 + 500_000} differ by 0.5000 m",
    ]


# ------------------------------------------------------------------------------------ links


@case
def dangling_calibrated_sensor(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_CAM_FRONT_1")["calibrated_sensor_token"] = "cs_nope"
    return loading(tiny, root), [
        table_file("sample_data"),
        "b_CAM_FRONT_1",
        "'cs_nope' not found",
        "dangling",
    ]


@case
def dangling_ego_pose(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.tables["ego_pose"] = [r for r in tiny.tables["ego_pose"] if r["token"] != "ego_b_RADAR_FRONT_2"]
    return loading(tiny, root), ["b_RADAR_FRONT_2", "ego_pose_token 'ego_b_RADAR_FRONT_2' not found"]


@case
def dangling_sensor(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("calibrated_sensor", "cs_LIDAR_TOP")["sensor_token"] = "sensor_gone"
    return loading(tiny, root), ["cs_LIDAR_TOP", "sensor_token 'sensor_gone' not found in sensor.json"]


@case
def dangling_sample_data_sample(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    # A sweep pointing at no sample would belong to no scene: it must fail, not vanish.
    tiny.rec("sample_data", "b_LIDAR_TOP_5")["sample_token"] = "b_sample_7"
    tiny.write(root)
    return lambda: NuScenesSource(root), [
        "b_LIDAR_TOP_5",
        "sample_token 'b_sample_7' not found in sample.json",
    ]


@case
def dangling_annotation_sample(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_ped_1")["sample_token"] = "b_sample_x"
    tiny.write(root)
    return lambda: NuScenesSource(root), [table_file("sample_annotation"), "ann_ped_1", "'b_sample_x'"]


@case
def dangling_instance(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_car_0")["instance_token"] = "inst_gone"
    return loading(tiny, root), ["ann_car_0", "instance_token 'inst_gone' not found in instance.json"]


@case
def dangling_category(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("instance", "inst_ped")["category_token"] = "cat_unicorn"
    return loading(tiny, root), [
        table_file("instance"),
        "inst_ped",
        "'cat_unicorn' not found in category.json",
    ]


@case
def dangling_attribute(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_car_2")["attribute_tokens"] = ["att_moving", "att_flying"]
    return loading(tiny, root), ["ann_car_2", "attribute token 'att_flying' not found"]


@case
def dangling_visibility(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_car_2")["visibility_token"] = "9"
    return loading(tiny, root), ["ann_car_2", "visibility_token '9' not found"]


@case
def dangling_first_sample(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("scene", "scene_a")["first_sample_token"] = "a_sample_9"
    return loading(tiny, root, "scene-a"), [table_file("scene"), "scene_a", "'a_sample_9' not found"]


@case
def dangling_instance_first_annotation(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("instance", "inst_car")["first_annotation_token"] = "ann_missing"
    return loading(tiny, root), ["inst_car", "first_annotation_token 'ann_missing' not found"]


@case
def broken_next_link(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample", "b_sample_1")["next"] = "b_sample_9"
    return loading(tiny, root), [table_file("sample"), "b_sample_1", "next 'b_sample_9' not found"]


@case
def broken_prev_back_link(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample", "b_sample_2")["prev"] = "b_sample_0"
    return loading(tiny, root), [
        "b_sample_2",
        "prev is 'b_sample_0'",
        "'b_sample_1'",
        "broken prev/next chain",
    ]


@case
def next_links_form_a_cycle(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample", "b_sample_2")["next"] = "b_sample_0"
    return loading(tiny, root), ["b_sample_0", "next links of scene scene_b form a cycle"]


@case
def sample_of_another_scene(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample", "b_sample_2")["scene_token"] = "scene_a"
    return loading(tiny, root), ["b_sample_2", "reached from scene scene_b but its scene_token is scene_a"]


@case
def scene_sample_count_disagrees(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("scene", "scene_b")["nbr_samples"] = 4
    return loading(tiny, root), ["scene_b", "nbr_samples is 4 but the next links reach 3 samples"]


@case
def sample_timestamps_not_increasing(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample", "b_sample_2")["timestamp"] = T0 + 400_000
    return loading(tiny, root), ["b_sample_2", f"timestamp {T0 + 400_000} is not after", "along next links"]


@case
def sweep_chain_broken(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_LIDAR_TOP_3")["prev"] = "b_LIDAR_TOP_0"
    return loading(tiny, root), ["b_LIDAR_TOP_", "broken prev/next chain"]


@case
def sweep_timestamps_not_increasing(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_LIDAR_TOP_4")["timestamp"] = T0 + 600_000
    return loading(tiny, root), ["b_LIDAR_TOP_", "timestamps do not increase along next links"]


@case
def annotation_chain_jumps_instance(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_annotation", "ann_ped_1")["instance_token"] = "inst_car"
    tiny.rec("sample_annotation", "ann_ped_1")["sample_token"] = "b_sample_0"
    return loading(tiny, root), ["ann_ped_1", "next ann_ped_2 belongs to instance 'inst_ped', not inst_car"]


@case
def track_with_two_boxes_at_one_time(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    duplicate = dict(tiny.rec("sample_annotation", "ann_car_1"), token="ann_car_dup", prev="", next="")
    tiny.tables["sample_annotation"].append(duplicate)
    return loading(tiny, root), [
        "ann_car_dup",
        f"instance inst_car has two boxes at timestamp {T0 + 500_000}: ann_car_1 and ann_car_dup",
    ]


@case
def two_keyframes_of_one_channel_in_a_sample(tiny: TinyNuScenes, root: Path) -> tuple[Action, list[str]]:
    tiny.rec("sample_data", "b_LIDAR_TOP_1")["is_key_frame"] = True
    return loading(tiny, root), ["b_LIDAR_TOP_1", "two keyframe sample_data of channel LIDAR_TOP"]


# ------------------------------------------------------------------------------------ the test


def test_at_least_forty_distinct_corruptions_are_covered() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_corrupt_input_raises_input_error_naming_it(name: str, tmp_path: Path) -> None:
    action, fragments = CASES[name](TinyNuScenes(), tmp_path / "root")
    with pytest.raises(InputError) as err:
        action()
    message = str(err.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_error_carries_file_table_and_record(tmp_path: Path) -> None:
    tiny = TinyNuScenes()
    tiny.rec("sample_annotation", "ann_ped_2")["size"] = [0.6, -0.8, 1.8]
    action = loading(tiny, tmp_path)
    with pytest.raises(InputError) as err:
        action()
    assert err.value.table == "sample_annotation"
    assert err.value.record == "ann_ped_2"
    assert err.value.path == str(tmp_path / VERSION / "sample_annotation.json")


def test_clean_tiny_dataroot_raises_nothing(tmp_path: Path) -> None:
    """The corruptions above are the only reason their actions fail."""
    root = TinyNuScenes().write(tmp_path)
    assert detect_format(root) == "nuscenes"
    src = NuScenesSource(root)
    for name in src.sequence_names():
        seq = src.load_sequence(name)
        for items in seq.samples.values():
            for sample in items:
                reader = {"lidar": src.read_lidar, "radar": src.read_radar, "camera": src.read_image}
                reader[sample.modality.value](sample)


def test_json_nan_literal_is_caught(tmp_path: Path) -> None:
    tiny = TinyNuScenes()
    root = tiny.write(tmp_path)
    path = root / VERSION / "sample_annotation.json"
    records = json.loads(path.read_text())
    records[0]["translation"][2] = float("inf")
    path.write_text(json.dumps(records))  # writes the non-standard literal Infinity
    assert "Infinity" in path.read_text()
    with pytest.raises(InputError, match=r"ann_car_0: translation has non-finite values \[20.0, 3.0, inf\]"):
        NuScenesSource(root).load_sequence("scene-b")

"""The written dataroot: nuScenes tables and fields, links, chains, files, sizes, counts, determinism."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from fusioncheck.errors import PolicyError
from fusioncheck.simulate import SimulationResult, simulate
from fusioncheck.simulate.rig import ALL_CHANNELS

from .helpers import SCENES, SEED, load_tables, tiny_config

#: nuScenes v1.0 table fields (the devkit's schema.md), independent of the writer's own list.
SCHEMA: dict[str, set[str]] = {
    "attribute": {"token", "name", "description"},
    "calibrated_sensor": {"token", "sensor_token", "translation", "rotation", "camera_intrinsic"},
    "category": {"token", "name", "description"},
    "ego_pose": {"token", "translation", "rotation", "timestamp"},
    "instance": {
        "token", "category_token", "nbr_annotations", "first_annotation_token", "last_annotation_token",
    },
    "log": {"token", "logfile", "vehicle", "date_captured", "location"},
    "map": {"token", "log_tokens", "category", "filename"},
    "sample": {"token", "timestamp", "scene_token", "next", "prev"},
    "sample_annotation": {
        "token", "sample_token", "instance_token", "attribute_tokens", "visibility_token", "translation",
        "size", "rotation", "num_lidar_pts", "num_radar_pts", "next", "prev",
    },
    "sample_data": {
        "token", "sample_token", "ego_pose_token", "calibrated_sensor_token", "filename", "fileformat",
        "width", "height", "timestamp", "is_key_frame", "next", "prev",
    },
    "scene": {
        "token", "name", "description", "log_token", "nbr_samples", "first_sample_token", "last_sample_token",
    },
    "sensor": {"token", "channel", "modality"},
    "visibility": {"token", "level", "description"},
}  # fmt: skip
HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def tables(clean_log: SimulationResult) -> dict:
    return load_tables(clean_log.out_dir)


def _index(records: list[dict]) -> dict[str, dict]:
    return {r["token"]: r for r in records}


def test_all_thirteen_tables_with_exactly_the_nuscenes_fields(tables: dict) -> None:
    assert set(tables) == set(SCHEMA)
    for name, records in tables.items():
        assert records, f"{name} is empty"
        for r in records:
            assert set(r) == SCHEMA[name], f"{name}: {sorted(set(r) ^ SCHEMA[name])}"
        tokens = [r["token"] for r in records]
        assert len(set(tokens)) == len(tokens), f"{name}: duplicate tokens"
        if name != "visibility":
            assert all(HEX32.match(t) for t in tokens), name
    assert [v["token"] for v in tables["visibility"]] == ["1", "2", "3", "4"]
    assert {c["name"] for c in tables["category"]} >= {
        "vehicle.car", "vehicle.truck", "vehicle.bus.rigid", "human.pedestrian.adult", "vehicle.bicycle",
        "movable_object.trafficcone", "movable_object.barrier",
    }  # fmt: skip
    assert {a["name"] for a in tables["attribute"]} >= {
        "vehicle.moving",
        "vehicle.parked",
        "pedestrian.moving",
    }
    assert {s["channel"] for s in tables["sensor"]} == set(ALL_CHANNELS)


def test_foreign_keys_link(tables: dict) -> None:
    idx = {name: _index(records) for name, records in tables.items()}
    for sd in tables["sample_data"]:
        assert sd["sample_token"] in idx["sample"]
        assert sd["ego_pose_token"] in idx["ego_pose"]
        assert idx["ego_pose"][sd["ego_pose_token"]]["timestamp"] == sd["timestamp"]
        assert sd["calibrated_sensor_token"] in idx["calibrated_sensor"]
    for cs in tables["calibrated_sensor"]:
        assert cs["sensor_token"] in idx["sensor"]
        assert len(cs["rotation"]) == 4 and abs(np.linalg.norm(cs["rotation"]) - 1) < 1e-9
    for a in tables["sample_annotation"]:
        assert a["sample_token"] in idx["sample"]
        assert a["instance_token"] in idx["instance"]
        assert a["visibility_token"] in idx["visibility"]
        assert all(t in idx["attribute"] for t in a["attribute_tokens"])
    for inst in tables["instance"]:
        assert inst["category_token"] in idx["category"]
    for scene in tables["scene"]:
        assert scene["log_token"] in idx["log"]
    assert len({s["log_token"] for s in tables["scene"]}) == SCENES  # one log per scene
    for s in tables["sample"]:
        assert s["scene_token"] in idx["scene"]
    (map_record,) = tables["map"]
    assert set(map_record["log_tokens"]) == set(idx["log"])


def _walk(first: str, index: dict[str, dict]) -> list[dict]:
    out, token = [], first
    while token:
        out.append(index[token])
        token = index[token]["next"]
    return out


def test_prev_next_chains_are_consistent(tables: dict) -> None:
    samples = _index(tables["sample"])
    for scene in tables["scene"]:
        chain = _walk(scene["first_sample_token"], samples)
        assert len(chain) == scene["nbr_samples"] == tiny_config().keyframes
        assert chain[-1]["token"] == scene["last_sample_token"]
        assert all(a["timestamp"] < b["timestamp"] for a, b in itertools.pairwise(chain))
        assert all(b["prev"] == a["token"] for a, b in itertools.pairwise(chain)) and chain[0]["prev"] == ""
    sd = _index(tables["sample_data"])
    sensor_of = {c["token"]: c["sensor_token"] for c in tables["calibrated_sensor"]}
    channel_of = {s["token"]: s["channel"] for s in tables["sensor"]}
    heads = [r for r in tables["sample_data"] if r["prev"] == ""]
    assert len(heads) == SCENES * len(ALL_CHANNELS)  # one chain per scene and channel
    seen = 0
    for head in heads:
        chain = _walk(head["token"], sd)
        seen += len(chain)
        channels = {channel_of[sensor_of[r["calibrated_sensor_token"]]] for r in chain}
        assert len(channels) == 1
        assert all(a["timestamp"] < b["timestamp"] for a, b in itertools.pairwise(chain))
        assert all(b["prev"] == a["token"] for a, b in itertools.pairwise(chain))
    assert seen == len(tables["sample_data"])
    anns = _index(tables["sample_annotation"])
    for inst in tables["instance"]:
        chain = _walk(inst["first_annotation_token"], anns)
        assert len(chain) == inst["nbr_annotations"]
        assert chain[-1]["token"] == inst["last_annotation_token"]
        assert {a["instance_token"] for a in chain} == {inst["token"]}
        times = [samples[a["sample_token"]]["timestamp"] for a in chain]
        assert times == sorted(times) and len(set(times)) == len(times)


def test_every_sample_has_one_keyframe_per_channel(tables: dict) -> None:
    channel_of_cs = {
        c["token"]: s["channel"]
        for c in tables["calibrated_sensor"]
        for s in tables["sensor"]
        if s["token"] == c["sensor_token"]
    }
    keyframes: dict[str, dict[str, dict]] = defaultdict(dict)
    samples = _index(tables["sample"])
    for r in tables["sample_data"]:
        channel = channel_of_cs[r["calibrated_sensor_token"]]
        if r["is_key_frame"]:
            assert channel not in keyframes[r["sample_token"]]
            keyframes[r["sample_token"]][channel] = r
        else:
            # A sweep belongs to the sample that follows it (or the scene's last sample).
            sample = samples[r["sample_token"]]
            assert sample["timestamp"] >= r["timestamp"] or sample["next"] == ""
    for token, sample in samples.items():
        assert set(keyframes[token]) == set(ALL_CHANNELS)
        assert keyframes[token]["LIDAR_TOP"]["timestamp"] == sample["timestamp"]
        for channel, r in keyframes[token].items():
            assert abs(r["timestamp"] - sample["timestamp"]) <= 50_000, channel


def test_files_exist_in_the_nuscenes_layout(clean_log: SimulationResult, tables: dict) -> None:
    root = clean_log.out_dir
    for r in tables["sample_data"]:
        path = root / r["filename"]
        assert path.is_file(), r["filename"]
        folder, channel, name = r["filename"].split("/")
        assert folder == ("samples" if r["is_key_frame"] else "sweeps")
        assert f"__{channel}__{r['timestamp']}" in name
        if channel.startswith("CAM"):
            assert r["fileformat"] == "jpg" and name.endswith(".jpg")
            image = cv2.imread(str(path))
            assert image.shape == (r["height"], r["width"], 3) == (180, 320, 3)
        elif channel == "LIDAR_TOP":
            assert r["fileformat"] == "pcd" and name.endswith(".pcd.bin") and r["width"] == r["height"] == 0
            points = np.fromfile(path, dtype=np.float32).reshape(-1, 5)
            times = np.load(root / "fusioncheck_point_times" / f"{r['token']}.npy")
            assert times.dtype == np.float32 and times.shape == (points.shape[0],)
            assert times.min() >= -0.05 and times.max() < 0
        else:
            assert r["fileformat"] == "pcd" and name.endswith(".pcd")
            assert path.read_bytes().startswith(b"# .PCD v0.7")
    (map_record,) = tables["map"]
    assert (root / map_record["filename"]).is_file()
    assert not any(
        r["filename"].startswith("sweeps/LIDAR_TOP") for r in tables["sample_data"]
    )  # write_sweeps off
    assert any(r["filename"].startswith("sweeps/RADAR") for r in tables["sample_data"])  # radar sweeps kept


def test_sizes_are_width_length_height_of_the_true_boxes(clean_log: SimulationResult, tables: dict) -> None:
    truth = clean_log.faults["annotations"]
    assert set(truth) == {a["token"] for a in tables["sample_annotation"]}
    ratios = []
    for a in tables["sample_annotation"]:
        length, width, height = truth[a["token"]]["true_size_lwh_m"]
        w, ln, h = a["size"]
        ratios.append([w / width, ln / length, h / height])
        # Boxes stand on the ground: bottom within a few label-noise sigmas of z = 0.
        assert abs(a["translation"][2] - h / 2) < 0.1
        assert abs(np.linalg.norm(a["rotation"]) - 1.0) < 1e-9 and a["rotation"][1] == a["rotation"][2] == 0.0
    ratios = np.array(ratios)
    assert np.all(np.abs(ratios - 1.0) < 0.05)  # 1 % size noise; a swapped w/l would be off by ~2x
    assert np.std(ratios - 1.0) == pytest.approx(0.01, rel=0.3)


def _devkit_points_in_box(points: np.ndarray, center, size_wlh, rotation) -> int:
    """nuscenes-devkit's points_in_box (corner-based, inclusive), re-implemented for the test."""
    w, ln, h = size_wlh
    q = np.asarray(rotation, dtype=np.float64)
    wq, xq, yq, zq = q
    r = np.array(
        [[1 - 2 * (yq * yq + zq * zq), 2 * (xq * yq - wq * zq), 2 * (xq * zq + wq * yq)],
         [2 * (xq * yq + wq * zq), 1 - 2 * (xq * xq + zq * zq), 2 * (yq * zq - wq * xq)],
         [2 * (xq * zq - wq * yq), 2 * (yq * zq + wq * xq), 1 - 2 * (xq * xq + yq * yq)]]
    )  # fmt: skip
    x = ln / 2 * np.array([1, 1, 1, 1, -1, -1, -1, -1])
    y = w / 2 * np.array([1, -1, -1, 1, 1, -1, -1, 1])
    z = h / 2 * np.array([1, 1, -1, -1, 1, 1, -1, -1])
    corners = r @ np.vstack([x, y, z]) + np.asarray(center)[:, None]
    p1, p_x, p_y, p_z = corners[:, 0], corners[:, 4], corners[:, 1], corners[:, 3]
    i, j, k = p_x - p1, p_y - p1, p_z - p1
    v = points - p1
    iv, jv, kv = v @ i, v @ j, v @ k
    mask = (iv >= 0) & (iv <= i @ i) & (jv >= 0) & (jv <= j @ j) & (kv >= 0) & (kv <= k @ k)
    return int(mask.sum())


def test_num_lidar_pts_match_a_devkit_style_count(clean_log: SimulationResult, tables: dict) -> None:
    from pyquaternion import Quaternion

    sd = {
        r["sample_token"]: r
        for r in tables["sample_data"]
        if r["is_key_frame"] and r["filename"].endswith(".bin")
    }
    poses = _index(tables["ego_pose"])
    cals = _index(tables["calibrated_sensor"])
    annotations = tables["sample_annotation"]
    checked = 0
    for a in annotations[:: max(1, len(annotations) // 60)]:
        lidar = sd[a["sample_token"]]
        points = np.fromfile(clean_log.out_dir / lidar["filename"], dtype=np.float32).reshape(-1, 5)[:, :3]
        pose, cal = poses[lidar["ego_pose_token"]], cals[lidar["calibrated_sensor_token"]]
        center = np.array(a["translation"]) - pose["translation"]
        q = Quaternion(pose["rotation"]).inverse
        center = q.rotate(center)
        rot = q * Quaternion(a["rotation"])
        center = center - np.array(cal["translation"])
        qc = Quaternion(cal["rotation"]).inverse
        center = qc.rotate(center)
        rot = qc * rot
        assert (
            _devkit_points_in_box(points.astype(np.float64), center, a["size"], rot.elements)
            == a["num_lidar_pts"]
        )
        checked += 1
    assert checked >= 30
    assert sum(a["num_lidar_pts"] > 0 for a in annotations) > 0.9 * len(annotations)
    assert any(a["num_radar_pts"] > 0 for a in annotations)


def test_result_counts_match_the_tables(clean_log: SimulationResult, tables: dict) -> None:
    assert clean_log.scenes == tuple(s["name"] for s in tables["scene"])
    assert clean_log.keyframes == len(tables["sample"]) == SCENES * tiny_config().keyframes
    assert clean_log.boxes == len(tables["sample_annotation"])
    assert sum(clean_log.sweeps.values()) == len(tables["sample_data"])
    assert clean_log.sweeps["LIDAR_TOP"] == clean_log.keyframes
    faults = json.loads(clean_log.faults_path.read_text())
    assert faults == clean_log.faults
    assert (
        faults["clean"] is True
        and faults["deleted"] == []
        and faults["ghosts"] == []
        and faults["shrink"] == []
    )
    assert faults["seed"] == SEED and faults["config"]["n_objects"] == tiny_config().n_objects


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_output_is_byte_identical_for_the_same_seed(clean_log: SimulationResult, tmp_path: Path) -> None:
    again = simulate(tmp_path / "again", SCENES, SEED, config=tiny_config(), progress=True)
    first, second = _digest(clean_log.out_dir), _digest(again.out_dir)
    assert len(first) > 100
    assert first == second


def test_refuses_to_overwrite_a_simulation(clean_log: SimulationResult) -> None:
    with pytest.raises(PolicyError, match="already holds"):
        simulate(clean_log.out_dir, 1, SEED, config=tiny_config())
    with pytest.raises(PolicyError, match="scenes"):
        simulate(clean_log.out_dir / "x", 0, SEED)

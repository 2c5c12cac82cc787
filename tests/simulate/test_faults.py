"""Fault spec parsing, and the injected faults as seen in the written tables against a clean run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.errors import PolicyError
from fusioncheck.simulate import FaultSpec, SimulationResult, load_fault_spec

from .helpers import FAULTS, load_tables

# ------------------------------------------------------------------------------------------- spec


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps(data))
    return path


def test_load_fault_spec_reads_every_fault(tmp_path: Path) -> None:
    spec = load_fault_spec(_write(tmp_path, FAULTS))
    assert spec.shrink_factors("vehicle.car") == (-0.15, 0.0, 0.1)
    assert spec.shrink_factors("vehicle.truck") == (0.0, 0.0, 0.0)
    assert spec.delete.fraction == 0.2 and spec.delete.unit == "box"
    assert spec.ghost == 3 and spec.label_time_offset_ms == 100.0
    assert not spec.is_clean
    assert FaultSpec.from_dict(spec.to_dict()) == spec
    assert load_fault_spec(_write(tmp_path, {})).is_clean
    tracks = load_fault_spec(
        _write(tmp_path, {"delete": {"count": 2, "unit": "track"}, "ghost": {"count": 1}})
    )
    assert tracks.delete.count == 2 and tracks.delete.unit == "track" and tracks.ghost == 1


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"shrinkk": {}}, "shrinkk"),
        ({"shrink": {"vehicle.kar": {"length": -0.1}}}, "vehicle.kar"),
        ({"shrink": {"vehicle.car": {"lenght": -0.1}}}, "lenght"),
        ({"delete": {"fraction": 0.1, "mode": "box"}}, "mode"),
        ({"ghost": {"number": 3}}, "number"),
    ],
)
def test_unknown_keys_raise_policy_error_naming_the_key(tmp_path: Path, data: dict, named: str) -> None:
    with pytest.raises(PolicyError, match=named):
        load_fault_spec(_write(tmp_path, data))


@pytest.mark.parametrize(
    "data",
    [
        {"shrink": {"vehicle.car": {"length": -1.0}}},
        {"shrink": {"vehicle.car": {"length": "small"}}},
        {"delete": {"fraction": 1.5}},
        {"delete": {"fraction": 0.1, "count": 3}},
        {"delete": {"unit": "frame", "count": 1}},
        {"ghost": -1},
        {"ghost": 1.5},
        {"label_time_offset_ms": True},
        [1, 2],
    ],
)
def test_invalid_values_raise_policy_error(tmp_path: Path, data: object) -> None:
    with pytest.raises(PolicyError, match=str(tmp_path / "faults.json")):
        load_fault_spec(_write(tmp_path, data))


def test_unreadable_or_malformed_file_raises_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_fault_spec(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PolicyError, match="not valid JSON"):
        load_fault_spec(bad)


# ------------------------------------------------------------------------- injected, vs clean


@pytest.fixture(scope="module")
def pair(clean_log: SimulationResult, faulty_log: SimulationResult) -> tuple[dict, dict]:
    clean = {a["token"]: a for a in load_tables(clean_log.out_dir)["sample_annotation"]}
    faulty = {a["token"]: a for a in load_tables(faulty_log.out_dir)["sample_annotation"]}
    return clean, faulty


def test_sensor_files_do_not_change_with_faults(
    clean_log: SimulationResult, faulty_log: SimulationResult
) -> None:
    for folder in ("samples/LIDAR_TOP", "samples/CAM_FRONT", "sweeps/RADAR_FRONT"):
        a = sorted((clean_log.out_dir / folder).iterdir())
        b = sorted((faulty_log.out_dir / folder).iterdir())
        assert [p.name for p in a] == [p.name for p in b]
        assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_shrink_changes_written_sizes_by_the_factor(
    pair: tuple[dict, dict], faulty_log: SimulationResult
) -> None:
    clean, faulty = pair
    truth = faulty_log.faults["annotations"]
    cars = [t for t in faulty if t in clean and truth[t]["class"] == "vehicle.car"]
    others = [t for t in faulty if t in clean and truth[t]["class"] != "vehicle.car"]
    assert len(cars) >= 10 and others
    for t in cars:
        w0, l0, h0 = clean[t]["size"]
        w1, l1, h1 = faulty[t]["size"]
        assert l1 / l0 == pytest.approx(0.85, rel=1e-12)
        assert w1 / w0 == pytest.approx(1.0, rel=1e-12)
        assert h1 / h0 == pytest.approx(1.1, rel=1e-12)
        assert truth[t]["shrink"] == {"length": -0.15, "height": 0.1}
        written = np.array(truth[t]["written_size_lwh_m"])
        np.testing.assert_allclose(
            written / np.array(truth[t]["true_size_lwh_m"]), [0.85, 1.0, 1.1], atol=0.05
        )
    for t in others:
        assert faulty[t]["size"] == clean[t]["size"]
    record = {(r["class"], r["axis"]): r for r in faulty_log.faults["shrink"]}
    assert set(record) == {("vehicle.car", "length"), ("vehicle.car", "height")}
    assert record[("vehicle.car", "length")]["factor"] == -0.15
    shrunk = {t for t in faulty if truth[t]["class"] == "vehicle.car" and not truth[t]["ghost"]}
    assert set(record[("vehicle.car", "length")]["annotation_tokens"]) == shrunk


def test_deleted_boxes_are_absent(pair: tuple[dict, dict], faulty_log: SimulationResult) -> None:
    clean, faulty = pair
    deleted = faulty_log.faults["deleted"]
    ghosts = {g["annotation_token"] for g in faulty_log.faults["ghosts"]}
    assert set(clean) - set(faulty) == {d["annotation_token"] for d in deleted}
    assert set(faulty) - set(clean) == ghosts
    per_scene: dict[str, int] = {}
    for d in deleted:
        per_scene[d["scene"]] = per_scene.get(d["scene"], 0) + 1
        assert d["annotation_token"] not in faulty
        assert (
            d["class"]
            == faulty_log.faults["annotations"].get(d["annotation_token"], {"class": d["class"]})["class"]
        )
        assert d["num_object_lidar_pts"] >= 1 and d["num_lidar_pts_true_box"] >= 0
        assert len(d["true_size_lwh_m"]) == 3 and len(d["size"]) == 3
    scene_boxes: dict[str, int] = {}
    for t in clean:
        scene = faulty_log.faults["annotations"].get(t, {}).get("scene") or next(
            d["scene"] for d in deleted if d["annotation_token"] == t
        )
        scene_boxes[scene] = scene_boxes.get(scene, 0) + 1
    for scene, n in scene_boxes.items():
        assert per_scene[scene] == round(0.2 * n)
    # Instances whose boxes all went are gone; chains skip deleted boxes.
    tables = load_tables(faulty_log.out_dir)
    for inst in tables["instance"]:
        assert inst["first_annotation_token"] in faulty and inst["last_annotation_token"] in faulty
    for a in faulty.values():
        assert a["prev"] in faulty or a["prev"] == ""
        assert a["next"] in faulty or a["next"] == ""


def test_ghost_boxes_are_present_and_hold_no_object_points(faulty_log: SimulationResult) -> None:
    tables = load_tables(faulty_log.out_dir)
    anns = {a["token"]: a for a in tables["sample_annotation"]}
    instances = {i["token"]: i for i in tables["instance"]}
    ghosts = faulty_log.faults["ghosts"]
    assert len(ghosts) == 3 * len(faulty_log.scenes)
    lidar = {
        r["sample_token"]: r
        for r in tables["sample_data"]
        if r["is_key_frame"] and r["filename"].endswith(".bin")
    }
    poses = {p["token"]: p for p in tables["ego_pose"]}
    cals = {c["token"]: c for c in tables["calibrated_sensor"]}
    from fusioncheck.geometry.se3 import SE3

    for g in ghosts:
        a = anns[g["annotation_token"]]
        assert a["size"] == g["size"] and a["translation"] == g["translation"]
        assert instances[a["instance_token"]]["nbr_annotations"] == 1
        assert g["num_object_lidar_pts"] == 0
        assert faulty_log.faults["annotations"][a["token"]]["ghost"] is True
        # Independently: every point of the keyframe sweep inside the ghost box is a ground return.
        sd = lidar[a["sample_token"]]
        pose, cal = poses[sd["ego_pose_token"]], cals[sd["calibrated_sensor_token"]]
        global_from_lidar = SE3.from_quat(pose["rotation"], pose["translation"]) @ SE3.from_quat(
            cal["rotation"], cal["translation"]
        )
        points = np.fromfile(faulty_log.out_dir / sd["filename"], dtype=np.float32).reshape(-1, 5)[:, :3]
        p = global_from_lidar.transform_points(points.astype(np.float64))
        box_from_global = SE3.from_quat(a["rotation"], a["translation"]).inverse()
        local = box_from_global.transform_points(p)
        w, ln, h = a["size"]
        inside = np.all(np.abs(local) <= np.array([ln, w, h]) / 2, axis=1)
        assert np.all(np.abs(p[inside, 2]) < 0.1)
        assert a["num_lidar_pts"] == int(inside.sum())


def test_label_time_offset_moves_moving_boxes_by_velocity_times_offset(
    pair: tuple[dict, dict], faulty_log: SimulationResult
) -> None:
    clean, faulty = pair
    truth = faulty_log.faults["annotations"]
    offset_s = FAULTS["label_time_offset_ms"] / 1000.0
    moved = 0
    for t, a in faulty.items():
        if t not in clean:
            continue
        shift = np.array(a["translation"][:2]) - np.array(clean[t]["translation"][:2])
        expected = np.array(truth[t]["velocity_mps"][:2]) * offset_s
        assert np.linalg.norm(shift - expected) < 0.02, (truth[t]["class"], shift, expected)
        if np.linalg.norm(expected) > 0.3:
            moved += 1
    assert moved >= 5
    assert faulty_log.faults["label_time_offset_ms"] == 100.0


def test_count_beams_crossing_counts_beams_through_and_ending_in_a_box():
    import numpy as np

    from fusioncheck.geometry.se3 import SE3
    from fusioncheck.simulate.labels import count_beams_crossing

    # A 2 m cube centred 10 m ahead of the sensor (sensor frame = global here).
    points = np.array(
        [
            [20.0, 0.0, 0.0],  # passes through the box, returns behind it
            [10.0, 0.5, 0.5],  # ends inside the box
            [20.0, 5.0, 0.0],  # passes beside it (y = 2.5 at x = 10)
            [5.0, 0.0, 0.0],  # ends in front of it
            [-20.0, 0.0, 0.0],  # points away from it
            [20.0, 0.0, 2.1],  # crosses above it: z = 1.05 at x = 10, box top at 1.0 ... but
        ]
    )
    n = count_beams_crossing(
        points, np.array([10.0, 0.0, 0.0]), np.array([2.0, 2.0, 2.0]), [1, 0, 0, 0], SE3.identity()
    )
    # ... the last beam enters the box through its front face at x = 9 (z = 0.945) and leaves through the top.
    assert n == 3

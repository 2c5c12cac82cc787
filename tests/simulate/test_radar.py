"""Radar: nuScenes PCD layout, and radial velocities equal to the projection of the object's velocity."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.simulate.radar import RADAR_DTYPE, decode_pcd, encode_pcd, simulate_scan
from fusioncheck.simulate.rig import radars
from fusioncheck.simulate.world import LaneMotion, SpeedProfile

from .helpers import make_object, make_world

NUSCENES_FIELDS = (
    "x y z dyn_prop id rcs vx vy vx_comp vy_comp is_quality_valid ambig_state x_rms y_rms invalid_state pdh0"
    " vx_rms vy_rms"
)


def _parse_pcd(data: bytes) -> np.ndarray:
    """An independent PCD reader (header-driven, like nuscenes-devkit's RadarPointCloud.from_file)."""
    header: dict[str, list[str]] = {}
    offset = 0
    while True:
        end = data.index(b"\n", offset)
        line = data[offset:end].decode("ascii")
        offset = end + 1
        if line.startswith("#"):
            continue
        key, *values = line.split()
        header[key] = values
        if key == "DATA":
            break
    lut = {("F", "4"): "<f4", ("I", "1"): "i1", ("I", "2"): "<i2", ("I", "4"): "<i4"}
    dtype = np.dtype(
        [(n, lut[(t, s)]) for n, t, s in zip(header["FIELDS"], header["TYPE"], header["SIZE"], strict=True)]
    )
    assert header["DATA"] == ["binary"]
    n = int(header["POINTS"][0])
    assert int(header["WIDTH"][0]) == n and header["HEIGHT"] == ["1"]
    return np.frombuffer(data[offset : offset + n * dtype.itemsize], dtype=dtype)


def test_pcd_header_and_layout_are_nuscenes() -> None:
    records = np.zeros(3, dtype=RADAR_DTYPE)
    records["x"] = [1.5, 2.5, 3.5]
    records["id"] = [0, 1, 300]
    records["vx_comp"] = [-1.0, 0.0, 2.0]
    records["ambig_state"] = 3
    data = encode_pcd(records)
    lines = data.split(b"DATA binary\n")[0].decode().splitlines()
    assert lines[0] == "# .PCD v0.7 - Point Cloud Data file format"
    assert lines[1] == "VERSION 0.7"
    assert lines[2] == "FIELDS " + NUSCENES_FIELDS
    assert lines[3] == "SIZE 4 4 4 1 2 4 4 4 4 4 1 1 1 1 1 1 1 1"
    assert lines[4] == "TYPE F F F I I F F F F F I I I I I I I I"
    assert lines[5] == "COUNT 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"
    assert RADAR_DTYPE.itemsize == 43
    # One newline after the binary block, as in nuScenes files (nuscenes-devkit's reader needs it).
    assert len(data) == len(data.split(b"DATA binary\n")[0]) + len(b"DATA binary\n") + 3 * 43 + 1
    assert data.endswith(b"\n")
    parsed = _parse_pcd(data)
    for name in RADAR_DTYPE.names or ():
        np.testing.assert_array_equal(parsed[name], records[name])
    np.testing.assert_array_equal(decode_pcd(data), records)


def test_empty_scan_is_one_nan_point_like_nuscenes() -> None:
    data = encode_pcd(np.zeros(0, dtype=RADAR_DTYPE))
    assert b"WIDTH 1\n" in data and b"POINTS 1\n" in data
    parsed = _parse_pcd(data)
    assert parsed.size == 1 and np.isnan(parsed["x"][0]) and np.isnan(parsed["vx_comp"][0])
    assert decode_pcd(data).size == 0


def test_radial_velocity_is_projection_of_object_velocity() -> None:
    # Ego at 6 m/s along +x; a car 25 m ahead in the oncoming lane at 12 m/s towards us; a parked car.
    oncoming = make_object(
        "car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(28.0, 1.75, -1, SpeedProfile(12.0))
    )
    parked = make_object("car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(22.0, -5.25))
    world = make_world([oncoming, parked], ego_speed_mps=6.0)
    radar = radars()[0]
    assert radar.channel == "RADAR_FRONT"
    returns = []
    for k in range(20):
        records, owners = simulate_scan(world, radar, 0.0, np.random.default_rng(k), clutter=False)
        returns.append((records, owners))
    records = np.concatenate([r for r, _ in returns])
    owners = np.concatenate([o for _, o in returns])
    assert np.count_nonzero(owners == 0) >= 10 and np.count_nonzero(owners == 1) >= 10
    xy = np.stack([records["x"], records["y"]], 1).astype(np.float64)
    np.testing.assert_array_equal(records["z"], 0.0)
    u = xy / np.linalg.norm(xy, axis=1, keepdims=True)
    # Radar frame = ego frame rotated by 0 (RADAR_FRONT looks forward) and the road runs along +x.
    v_object = {0: np.array([-12.0, 0.0]), 1: np.zeros(2)}
    v_radar = np.array([6.0, 0.0])
    for i in range(records.size):
        v = v_object[int(owners[i])]
        comp = np.dot(v, u[i]) * u[i]
        raw = np.dot(v - v_radar, u[i]) * u[i]
        assert records["vx_comp"][i] == pytest.approx(comp[0], abs=1e-3)
        assert records["vy_comp"][i] == pytest.approx(comp[1], abs=1e-3)
        assert records["vx"][i] == pytest.approx(raw[0], abs=1e-3)
        assert records["vy"][i] == pytest.approx(raw[1], abs=1e-3)
    assert set(records["dyn_prop"][owners == 0].tolist()) == {2}  # oncoming
    assert set(records["dyn_prop"][owners == 1].tolist()) == {1}  # stationary
    assert np.all(records["ambig_state"] == 3) and np.all(records["invalid_state"] == 0)


def test_returns_lie_in_the_objects_box_and_field_of_view() -> None:
    car = make_object("car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(20.0, -1.75))
    world = make_world([car])
    radar = radars()[0]
    scans = [simulate_scan(world, radar, 0.0, np.random.default_rng(k), clutter=True) for k in range(10)]
    records = np.concatenate([r for r, _ in scans])
    owners = np.concatenate([o for _, o in scans])
    pose = world.global_from_ego(0.0).compose(radar.ego_from_radar)
    pts = pose.transform_points(np.stack([records["x"], records["y"], records["z"]], 1).astype(np.float64))
    center, yaw = world.object_poses(np.array([0.0]))
    rel = pts[owners == 0] - center[0, 0]
    assert rel.shape[0] >= 10
    assert np.all(np.abs(rel) <= car.size_lwh_m / 2 + 1e-4)  # yaw 0: box axes = global axes
    az = np.arctan2(records["y"], records["x"])
    assert np.all(np.abs(az) <= np.deg2rad(60.0) + 1e-6)
    assert yaw[0, 0] == pytest.approx(0.0)

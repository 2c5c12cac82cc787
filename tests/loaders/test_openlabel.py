"""The OpenLABEL loader on hand-written documents of every form the standard defines.

The vendored schema carries no example documents, so the examples here are written from the standard's
definitions: transforms as 4x4 matrices, quaternion + translation and Euler angles; cuboids in the 9- and
10-value forms; the world and vehicle frames as one tree or as two roots joined per frame (as the VCD
library writes them); timestamps as seconds and ISO 8601. Each either loads with known numbers or is
rejected with a message naming the JSON path.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fusioncheck.errors import InputError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.euler import euler_to_matrix, matrix_to_euler_zyx
from fusioncheck.loaders import detect_format, open_source
from fusioncheck.loaders.openlabel import OpenLabelSource, parse_timestamp_us, schema_violations

T0 = 1_700_000_000.0  # seconds
YAW = 0.3  # radians, the vehicle's heading in the world
EGO_T = [10.0, 5.0, 0.0]


def _quat_xyzw_yaw(yaw: float) -> list[float]:
    return [0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]


def base_document() -> dict[str, Any]:
    """Two frames at 10 Hz, a LiDAR and a camera, one car seen in both frames (uid 0)."""
    frames = {}
    for i in range(2):
        frames[str(i)] = {
            "frame_properties": {
                "timestamp": T0 + 0.1 * i,
                "streams": {
                    "LIDAR": {"uri": f"lidar_{i}.bin"},
                    "CAM": {
                        "uri": f"cam_{i}.jpg",
                        "stream_properties": {"sync": {"timestamp": T0 + 0.1 * i - 0.02}},
                    },
                },
                "transforms": {
                    "vehicle_to_odom": {
                        "src": "vehicle",
                        "dst": "odom",
                        "transform_src_to_dst": {
                            "quaternion": _quat_xyzw_yaw(YAW),
                            "translation": [EGO_T[0] + i, EGO_T[1], EGO_T[2]],
                        },
                    }
                },
            },
            "objects": {
                "0": {
                    "object_data": {
                        "cuboid": [
                            {
                                "name": "box",
                                "coordinate_system": "vehicle",
                                "val": [8.0 + i, 0.0, 0.8, 0.0, 0.0, 0.0, 1.0, 4.5, 1.9, 1.6],
                            }
                        ]
                    }
                }
            },
        }
    return {
        "openlabel": {
            "metadata": {"schema_version": "1.0.0", "name": "example"},
            "coordinate_systems": {
                "odom": {"type": "scene_cs", "parent": "", "children": ["vehicle"]},
                "vehicle": {"type": "local_cs", "parent": "odom", "children": ["LIDAR", "CAM"]},
                "LIDAR": {
                    "type": "sensor_cs",
                    "parent": "vehicle",
                    "pose_wrt_parent": {"matrix4x4": [1, 0, 0, 1.0, 0, 1, 0, 0.0, 0, 0, 1, 1.8, 0, 0, 0, 1]},
                },
                "CAM": {
                    "type": "sensor_cs",
                    "parent": "vehicle",
                    # Camera axes x right, y down, z forward: Euler ZYX (-90 deg, 0, -90 deg).
                    "pose_wrt_parent": {
                        "euler_angles": [-math.pi / 2, 0.0, -math.pi / 2],
                        "sequence": "ZYX",
                        "translation": [1.5, 0.0, 1.5],
                    },
                },
            },
            "streams": {
                "LIDAR": {"type": "lidar"},
                "CAM": {
                    "type": "camera",
                    "stream_properties": {
                        "intrinsics_pinhole": {
                            "width_px": 64,
                            "height_px": 48,
                            "camera_matrix": [50, 0, 32, 0, 0, 50, 24, 0, 0, 0, 1, 0],
                            "distortion_coeffs": [-0.1, 0.01, 0.0, 0.0, 0.0],
                        }
                    },
                },
            },
            "objects": {
                "0": {
                    "name": "car-1",
                    "type": "vehicle.car",
                    "frame_intervals": [{"frame_start": 0, "frame_end": 1}],
                }
            },
            "frames": frames,
        }
    }


def write(folder: Path, document: dict[str, Any], name: str = "example.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(document), encoding="utf-8")
    points = np.array([[8.0, 0.0, -1.0, 0.5], [30.0, 1.0, -1.0, 0.2]], dtype=np.float32)
    for i in range(2):
        points.tofile(folder / f"lidar_{i}.bin")
    return path


def load(folder: Path, document: dict[str, Any]):  # type: ignore[no-untyped-def]
    path = write(folder, document)
    source = OpenLabelSource(path)
    return source, source.load_sequence(source.sequence_names()[0])


def test_base_example_loads_with_known_numbers(tmp_path: Path) -> None:
    source, seq = load(tmp_path, base_document())
    assert detect_format(tmp_path) == "openlabel"
    assert isinstance(open_source(tmp_path / "example.json"), OpenLabelSource)
    assert seq.name == "example" and len(seq.keyframes) == 2
    assert seq.keyframes[0].timestamp_us == round(T0 * 1e6)
    # Camera sample 20 ms before its frame (stream sync timestamp).
    cam = seq.keyframes[1].samples["CAM"]
    assert cam.timestamp_us == round((T0 + 0.08) * 1e6)
    # Ego pose interpolated at the camera time: x = 10 + 0.8.
    assert np.allclose(cam.global_from_ego.translation, [10.8, 5.0, 0.0], atol=1e-6)
    lidar = seq.sensors["LIDAR"]
    assert np.allclose(lidar.ego_from_sensor.translation, [1.0, 0.0, 1.8])
    camera = seq.sensors["CAM"]
    # Camera z (optical axis) points along vehicle x.
    assert np.allclose(camera.ego_from_sensor.rotation @ [0, 0, 1], [1, 0, 0], atol=1e-12)
    assert np.allclose(camera.ego_from_sensor.rotation @ [1, 0, 0], [0, -1, 0], atol=1e-12)
    assert camera.intrinsics is not None and camera.intrinsics.distortion.tolist() == [-0.1, 0.01, 0, 0, 0]
    # One track across frames; box in the world: ego pose applied to the vehicle-frame cuboid.
    assert list(seq.tracks) == ["car-1"]
    box = seq.keyframes[0].annotations[0]
    expected = np.array([EGO_T[0] + 8.0 * math.cos(YAW), EGO_T[1] + 8.0 * math.sin(YAW), 0.8])
    assert np.allclose(box.center_m, expected, atol=1e-9)
    assert box.yaw_rad == pytest.approx(YAW, abs=1e-9)
    assert box.size_m.tolist() == [4.5, 1.9, 1.6]
    sweep = source.read_lidar(seq.keyframes[0].samples["LIDAR"])
    assert sweep.points.shape == (2, 4) and sweep.column_names[3] == "intensity"


def test_three_transform_forms_agree(tmp_path: Path) -> None:
    pose = np.eye(4)
    pose[:3, :3] = euler_to_matrix(np.array([0.4, -0.1, 0.05]), "ZYX")
    pose[:3, 3] = [1.0, 2.0, 3.0]
    q_wxyz = quaternion.from_matrix(pose[:3, :3])
    forms = [
        {"matrix4x4": pose.reshape(-1).tolist()},
        {"quaternion": [*q_wxyz[1:].tolist(), float(q_wxyz[0])], "translation": [1.0, 2.0, 3.0]},
        {"euler_angles": [0.4, -0.1, 0.05], "translation": [1.0, 2.0, 3.0]},
        {"euler_angles": [0.05, -0.1, 0.4], "sequence": "XYZ", "translation": [1.0, 2.0, 3.0]},
    ]
    rotations = []
    for i, form in enumerate(forms):
        doc = base_document()
        doc["openlabel"]["coordinate_systems"]["LIDAR"]["pose_wrt_parent"] = form
        _, seq = load(tmp_path / str(i), doc)
        rotations.append(seq.sensors["LIDAR"].ego_from_sensor.rotation)
        assert np.allclose(seq.sensors["LIDAR"].ego_from_sensor.translation, [1.0, 2.0, 3.0])
    assert np.allclose(rotations[0], rotations[1], atol=1e-12)
    assert np.allclose(rotations[0], rotations[2], atol=1e-12)
    # XYZ with reversed angles is a different rotation: the sequence is honoured, not ignored.
    assert not np.allclose(rotations[0], rotations[3], atol=1e-3)


def test_nine_and_ten_value_cuboids_agree(tmp_path: Path) -> None:
    rotation = euler_to_matrix(np.array([0.7, 0.02, -0.03]), "ZYX")
    q = quaternion.from_matrix(rotation)
    yaw, pitch, roll = matrix_to_euler_zyx(rotation)
    boxes = []
    for i, val in enumerate(
        [
            [8.0, 1.0, 0.8, q[1], q[2], q[3], q[0], 4.5, 1.9, 1.6],
            [8.0, 1.0, 0.8, roll, pitch, yaw, 4.5, 1.9, 1.6],
        ]
    ):
        doc = base_document()
        doc["openlabel"]["frames"]["0"]["objects"]["0"]["object_data"]["cuboid"][0]["val"] = val
        _, seq = load(tmp_path / str(i), doc)
        boxes.append(seq.keyframes[0].annotations[0])
    assert np.allclose(boxes[0].center_m, boxes[1].center_m, atol=1e-12)
    assert float(quaternion.angle_between(boxes[0].quat_wxyz, boxes[1].quat_wxyz)) < 1e-9
    assert boxes[0].yaw_rad == pytest.approx(YAW + 0.7, abs=1e-9)


def test_world_and_vehicle_as_two_roots(tmp_path: Path) -> None:
    """VCD writes the world and the vehicle as two roots related only per frame; that loads the same."""
    doc = base_document()
    systems = doc["openlabel"]["coordinate_systems"]
    systems["odom"]["children"] = []
    systems["vehicle"]["parent"] = ""
    _, seq_two = load(tmp_path / "two", doc)
    _, seq_one = load(tmp_path / "one", base_document())
    assert np.allclose(seq_two.annotations[1].center_m, seq_one.annotations[1].center_m)


def test_iso_timestamps() -> None:
    assert parse_timestamp_us("2023-11-14T22:13:20.5Z") == 1_700_000_000_500_000
    assert parse_timestamp_us(1_700_000_000.25) == 1_700_000_000_250_000
    with pytest.raises(ValueError, match="time zone"):
        parse_timestamp_us("2023-11-14T22:13:20")


def _mutate(document: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    node: Any = doc
    keys = path.split("/")
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


_DELETE = object()
_FRAME0 = "openlabel/frames/0"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        # Schema violations name the JSON path.
        ("openlabel/metadata/schema_version", "2.0", r"\$\.openlabel\.metadata\.schema_version"),
        (
            f"{_FRAME0}/objects/0/object_data/cuboid/0/val",
            [1.0] * 11,
            r"\$\.openlabel\.frames\.0\.objects\.0\.object_data\.cuboid\[0\]\.val: .* is too long",
        ),
        ("openlabel/objects/0/type", _DELETE, r"\$\.openlabel\.objects\.0: 'type' is a required property"),
        # Content the schema allows but fusioncheck cannot use.
        (f"{_FRAME0}/frame_properties/timestamp", _DELETE, "frame has no timestamp"),
        (
            "openlabel/streams/CAM/stream_properties",
            {"intrinsics_fisheye": {"width_px": 64, "height_px": 48, "lens_coeffs": [1.0, 0.0, 0.0, 0.0]}},
            "intrinsics_fisheye is not supported",
        ),
        (
            "openlabel/coordinate_systems/LIDAR/pose_wrt_parent",
            {"euler_angles": [0, 0, 0], "sequence": "ZZX", "translation": [0, 0, 0]},
            "unsupported Euler sequence",
        ),
        (
            "openlabel/coordinate_systems/LIDAR/pose_wrt_parent",
            {"matrix4x4": [2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]},
            "not a rotation",
        ),
        (
            "openlabel/coordinate_systems/LIDAR/pose_wrt_parent",
            {"quaternion": [0, 0, 0, 2], "translation": [0, 0, 0]},
            "not of unit norm",
        ),
        (
            f"{_FRAME0}/objects/0/object_data/cuboid/0/val",
            [8, 0, 0.8, 0, 0, 0, 1, 4.5, -1.9, 1.6],
            "non-positive",
        ),
        (
            f"{_FRAME0}/objects/0/object_data/cuboid/0/coordinate_system",
            "nowhere",
            "'nowhere' is not declared",
        ),
        ("openlabel/coordinate_systems/CAM/parent", "nowhere", "parent 'nowhere'"),
        ("openlabel/streams/RADAR", {"type": "radar"}, "radar stream 'RADAR' has no coordinate system"),
        (f"{_FRAME0}/frame_properties/streams/CAM/uri", "", None),
        (
            "openlabel/streams/CAM/stream_properties/intrinsics_pinhole/camera_matrix",
            [50, 0, 32, 1, 0, 50, 24, 0, 0, 0, 1, 0],
            "4th column",
        ),
        (
            "openlabel/streams/CAM/stream_properties/intrinsics_pinhole/camera_matrix",
            [50, 0, 32, 0, 50, 24, 0, 0, 1],
            r"camera_matrix: expected 12 finite numbers",
        ),
        (
            "openlabel/streams/CAM/stream_properties/intrinsics_pinhole/width_px",
            "64",
            "width_px: expected a non",
        ),
        (
            "openlabel/streams/CAM/stream_properties/intrinsics_pinhole/distortion_coeffs",
            ["a", 0, 0, 0, 0],
            "distortion_coeffs: expected a list of numbers",
        ),
        (
            f"{_FRAME0}/frame_properties/fusioncheck",
            "yes",
            r"frame_properties\.fusioncheck: expected an object",
        ),
        (f"{_FRAME0}/frame_properties/streams/CAM/stream_properties/sync", 3, r"sync: expected an object"),
        (
            f"{_FRAME0}/frame_properties/streams/CAM/stream_properties/sync/timestamp",
            [1],
            "must be seconds or an ISO 8601 string, got list",
        ),
    ],
)
def test_rejected_with_a_clear_reason(tmp_path: Path, path: str, value: object, message: str | None) -> None:
    doc = _mutate(base_document(), path, value)
    file = write(tmp_path, doc)
    source = OpenLabelSource(file)
    if message is None:
        # An empty uri means "no data for this stream in this frame": the frame just lacks a camera sample.
        seq = source.load_sequence("example")
        assert "CAM" not in seq.keyframes[0].samples and "CAM" in seq.keyframes[1].samples
        return
    with pytest.raises(InputError, match=message) as info:
        source.load_sequence("example")
    assert info.value.path == str(file)


def test_per_frame_sensor_transform_is_refused(tmp_path: Path) -> None:
    doc = base_document()
    doc["openlabel"]["frames"]["1"]["frame_properties"]["transforms"]["LIDAR_to_vehicle"] = {
        "src": "LIDAR",
        "dst": "vehicle",
        "transform_src_to_dst": {"matrix4x4": np.eye(4).reshape(-1).tolist()},
    }
    path = write(tmp_path, doc)
    with pytest.raises(InputError, match="one calibration per sensor") as info:
        OpenLabelSource(path).load_sequence("example")
    assert info.value.record == "$.openlabel.frames.1.frame_properties.transforms.LIDAR_to_vehicle"


def test_documents_without_sensors_are_rejected_clearly(tmp_path: Path) -> None:
    """A valid OpenLABEL file of transforms only (no stream): valid per the schema, unusable here."""
    doc = {
        "openlabel": {
            "metadata": {"schema_version": "1.0.0"},
            "coordinate_systems": {
                "base": {"type": "local_cs", "parent": "", "children": []},
                "world": {"type": "scene_cs", "parent": "", "children": []},
            },
            "frames": {
                "10": {
                    "frame_properties": {
                        "transforms": {
                            "base_to_world": {
                                "src": "base",
                                "dst": "world",
                                "transform_src_to_dst": {
                                    "euler_angles": [0.0, 0.0, 0.0],
                                    "translation": [1, 1, 0],
                                },
                            }
                        }
                    }
                }
            },
        }
    }
    assert schema_violations(doc) == []
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "t.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match="no camera, lidar or radar stream"):
        OpenLabelSource(tmp_path / "t.json").load_sequence("t")


def test_malformed_json_names_line(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"openlabel": {"metadata": }', encoding="utf-8")
    with pytest.raises(InputError, match="malformed JSON at line 1"):
        OpenLabelSource(tmp_path / "bad.json").load_sequence("bad")


PCD_ASCII = """# .PCD v0.7
VERSION 0.7
FIELDS x y z intensity
SIZE 4 4 4 4
TYPE F F F F
COUNT 1 1 1 1
WIDTH 3
HEIGHT 1
VIEWPOINT 0 0 0 1 0 0 0
POINTS 3
DATA ascii
8 0 -1 0.5
30 1 -1 0.2
5 5 0 0.9
"""


def test_pcd_lidar_and_point_times(tmp_path: Path) -> None:
    doc = base_document()
    stream = doc["openlabel"]["frames"]["0"]["frame_properties"]["streams"]["LIDAR"]
    stream["uri"] = "scan.pcd"
    stream["stream_properties"] = {"fusioncheck": {"token": "scan-0", "point_times_uri": "times.npy"}}
    path = write(tmp_path, doc)
    (tmp_path / "scan.pcd").write_text(PCD_ASCII, encoding="utf-8")
    np.save(tmp_path / "times.npy", np.array([0.0, 0.01, 0.02], dtype=np.float32))
    source = OpenLabelSource(path)
    seq = source.load_sequence("example")
    sample = seq.keyframes[0].samples["LIDAR"]
    assert sample.token == "scan-0"
    sweep = source.read_lidar(sample)
    assert sweep.column_names == ("x", "y", "z", "intensity")
    assert sweep.points[2].tolist() == pytest.approx([5.0, 5.0, 0.0, 0.9])
    assert sweep.point_times_s is not None and sweep.point_times_s.tolist() == pytest.approx(
        [0.0, 0.01, 0.02]
    )
    np.save(tmp_path / "times.npy", np.zeros(2, dtype=np.float32))
    with pytest.raises(InputError, match=r"the sweep scan\.pcd has 3 points") as info:
        source.read_lidar(sample)
    assert info.value.record == "scan-0"

"""Writing sequences as ASAM OpenLABEL 1.0 files (the profile :mod:`fusioncheck.loaders.openlabel` reads).

Layout under the output folder::

    <sequence>.json                              one OpenLABEL file per sequence
    <sequence>_data/<CHANNEL>/<file>             sensor files (hard links or copies of the source's)
    <sequence>_data/point_times/<token>.npy      per-point LiDAR times (fusioncheck extension)

What is written:

- Coordinate systems: ``odom`` (``scene_cs``, the global frame, root), ``vehicle-iso8855`` (``local_cs``,
  the ego frame; its pose per frame in ``frame_properties.transforms.vehicle-iso8855_to_odom``) and one
  ``sensor_cs`` per channel with its calibration as ``pose_wrt_parent`` (quaternion + translation).
- Streams per channel (``camera`` with ``intrinsics_pinhole``, ``lidar``, ``radar``).
- Frames: one per keyframe (with its boxes and its sensor samples), plus frames marked
  ``fusioncheck.keyframe = false`` for the non-key samples (sweeps) and for every ego-pose time (unless
  ``all_ego_poses`` is off), so the sequence's poses and sweeps survive the trip exactly.
- Objects: one per track (uid = integer, ``name`` = the track id, ``type`` = the class) and its cuboid per
  keyframe in ``odom`` coordinates: the 10-value quaternion form by default, or the 9-value Euler form
  (``cuboid_form="euler"``).

LiDAR files the OpenLABEL reader reads as they are (``.pcd``, ``.pcd.bin``, ``.bin``) are linked; others
(e.g. Argoverse 2 ``.feather``) are re-encoded as ``.pcd.bin`` (float32 x, y, z, intensity, ring).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.convert.files import link_or_copy, safe_name
from fusioncheck.errors import InputError
from fusioncheck.geometry.euler import matrix_to_euler_zyx
from fusioncheck.geometry.quaternion import to_matrix
from fusioncheck.geometry.se3 import SE3
from fusioncheck.loaders.base import DataSource
from fusioncheck.scene.boxes import BoxAnnotation
from fusioncheck.scene.samples import SensorSample
from fusioncheck.scene.sensors import Modality
from fusioncheck.scene.sequence import Sequence

WORLD_FRAME = "odom"
EGO_FRAME = "vehicle-iso8855"
#: File endings the OpenLABEL reader takes as they are.
LIDAR_AS_IS = (".pcd.bin", ".bin", ".pcd")

Json = dict[str, Any]


def write_openlabel(
    source: DataSource,
    out_dir: str | Path,
    sequences: list[str] | None = None,
    cuboid_form: str = "quaternion",
    all_ego_poses: bool = True,
) -> list[Path]:
    """Write each sequence of ``source`` (all when ``sequences`` is None) as an OpenLABEL file.

    With ``all_ego_poses`` every ego pose of the sequence gets a frame (AV2 has them at 200 Hz); without,
    only the sensor samples' and keyframes' poses are written (what a nuScenes dataroot can hold).

    Returns:
        The written ``.json`` files.

    Raises:
        ValueError: ``cuboid_form`` is neither ``quaternion`` nor ``euler``.
        InputError: unreadable source data, or a sequence that cannot be expressed.
    """
    if cuboid_form not in ("quaternion", "euler"):
        raise ValueError(f"cuboid_form must be 'quaternion' or 'euler', got {cuboid_form!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sequences if sequences is not None else source.sequence_names():
        sequence = source.load_sequence(name)
        path = out / f"{safe_name(name)}.json"
        document = _SequenceWriter(source, sequence, out, cuboid_form, all_ego_poses).document()
        with path.open("w", encoding="utf-8") as f:
            json.dump(document, f, separators=(",", ":"))
            f.write("\n")
        written.append(path)
    return written


def _transform(pose: SE3) -> Json:
    """``transform_data`` in quaternion (x, y, z, w) + translation form."""
    w, x, y, z = pose.quat_wxyz.tolist()
    return {"quaternion": [x, y, z, w], "translation": pose.translation.tolist()}


def _seconds(timestamp_us: int) -> float:
    return timestamp_us / 1_000_000


class _SequenceWriter:
    def __init__(
        self, source: DataSource, sequence: Sequence, out: Path, cuboid_form: str, all_ego_poses: bool
    ) -> None:
        self.all_ego_poses = all_ego_poses
        self.source = source
        self.seq = sequence
        self.out = out
        self.data_dir = f"{safe_name(sequence.name)}_data"
        self.cuboid_form = cuboid_form

    def document(self) -> Json:
        seq = self.seq
        frames_by_key: dict[tuple[int, bool], Json] = {}
        poses: dict[tuple[int, bool], SE3] = {}
        # Keyframes first (with their samples), then sweeps, then bare ego poses.
        for keyframe in seq.keyframes:
            key = (keyframe.timestamp_us, True)
            frames_by_key[key] = {
                "timestamp": _seconds(keyframe.timestamp_us),
                "fusioncheck": {"keyframe": True, "token": keyframe.token},
                "streams": {},
            }
            lidar = keyframe.samples.get("LIDAR_TOP") or next(iter(keyframe.samples.values()), None)
            exact = lidar is not None and lidar.timestamp_us == keyframe.timestamp_us
            if exact and lidar is not None:
                poses[key] = lidar.global_from_ego
            elif seq.ego_poses.covers(keyframe.timestamp_us):
                poses[key] = seq.ego_poses.at(keyframe.timestamp_us)
            else:
                raise InputError(
                    f"keyframe {keyframe.token} at {keyframe.timestamp_us} us lies outside the ego poses",
                    path=seq.dataroot,
                )
        keyframe_of: dict[str, tuple[int, bool]] = {}
        for keyframe in seq.keyframes:
            for sample in keyframe.samples.values():
                keyframe_of[sample.token] = (keyframe.timestamp_us, True)
        for channel, samples in seq.samples.items():
            for sample in samples:
                key = keyframe_of.get(sample.token, (sample.timestamp_us, False))
                frame = frames_by_key.setdefault(
                    key,
                    {"timestamp": _seconds(key[0]), "fusioncheck": {"keyframe": False}, "streams": {}},
                )
                frame["streams"][channel] = self._stream_entry(sample)
                pose_key = (sample.timestamp_us, False)
                frames_by_key.setdefault(
                    pose_key, {"timestamp": _seconds(pose_key[0]), "fusioncheck": {"keyframe": False}}
                )
                poses.setdefault(pose_key, sample.global_from_ego)
        for i, t in enumerate(seq.ego_poses.timestamps_us.tolist() if self.all_ego_poses else []):
            key = (int(t), False)
            frames_by_key.setdefault(key, {"timestamp": _seconds(key[0]), "fusioncheck": {"keyframe": False}})
            poses.setdefault(key, SE3.from_quat(seq.ego_poses.quats_wxyz[i], seq.ego_poses.translations_m[i]))

        order = sorted(frames_by_key, key=lambda k: (k[0], not k[1]))
        frame_id = {key: i for i, key in enumerate(order)}
        objects: dict[str, Json] = {}
        uid_of: dict[str, str] = {}
        present: dict[str, list[int]] = {}
        frames: dict[str, Json] = {}
        for key in order:
            props = frames_by_key[key]
            if not props.get("streams"):
                props.pop("streams", None)
            props["transforms"] = {
                f"{EGO_FRAME}_to_{WORLD_FRAME}": {
                    "src": EGO_FRAME,
                    "dst": WORLD_FRAME,
                    "transform_src_to_dst": _transform(poses[key]),
                }
            }
            frames[str(frame_id[key])] = {"frame_properties": props}
        for keyframe in seq.keyframes:
            fid = frame_id[(keyframe.timestamp_us, True)]
            frame_objects: Json = {}
            for box in keyframe.annotations:
                uid = uid_of.get(box.instance)
                if uid is None:
                    uid = uid_of[box.instance] = str(len(uid_of))
                    objects[uid] = {"name": box.instance, "type": box.category}
                present.setdefault(uid, []).append(fid)
                frame_objects[uid] = {"object_data": {"cuboid": [self._cuboid(box)]}}
            if frame_objects:
                frames[str(fid)]["objects"] = frame_objects
        keyframe_ids = sorted(frame_id[(k.timestamp_us, True)] for k in seq.keyframes)
        for uid, ids in present.items():
            objects[uid]["frame_intervals"] = _intervals(ids, keyframe_ids)
        return {
            "openlabel": {
                "metadata": {
                    "schema_version": "1.0.0",
                    "name": seq.name,
                    "annotator": "fusioncheck convert",
                    "comment": seq.description,
                },
                "coordinate_systems": self._coordinate_systems(),
                "streams": self._streams(),
                "frames": frames,
                "objects": objects,
                "frame_intervals": [{"frame_start": 0, "frame_end": len(order) - 1}],
            }
        }

    def _coordinate_systems(self) -> Json:
        systems: Json = {
            WORLD_FRAME: {"type": "scene_cs", "parent": "", "children": [EGO_FRAME]},
            EGO_FRAME: {"type": "local_cs", "parent": WORLD_FRAME, "children": sorted(self.seq.sensors)},
        }
        for channel, sensor in sorted(self.seq.sensors.items()):
            systems[channel] = {
                "type": "sensor_cs",
                "parent": EGO_FRAME,
                "pose_wrt_parent": _transform(sensor.ego_from_sensor),
            }
        return systems

    def _streams(self) -> Json:
        streams: Json = {}
        for channel, sensor in sorted(self.seq.sensors.items()):
            entry: Json = {"type": sensor.modality.value, "uri": ""}
            if sensor.intrinsics is not None:
                k = sensor.intrinsics.matrix
                pinhole: Json = {
                    "width_px": sensor.intrinsics.width_px,
                    "height_px": sensor.intrinsics.height_px,
                    "camera_matrix": np.hstack([k, np.zeros((3, 1))]).reshape(-1).tolist(),
                }
                distortion = sensor.intrinsics.distortion.tolist()
                if distortion:
                    pinhole["distortion_coeffs"] = distortion + [0.0] * max(0, 5 - len(distortion))
                entry["stream_properties"] = {"intrinsics_pinhole": pinhole}
            streams[channel] = entry
        return streams

    def _stream_entry(self, sample: SensorSample) -> Json:
        folder = Path(self.data_dir) / safe_name(sample.channel)
        extension: Json = {"token": sample.token}
        if sample.modality is Modality.LIDAR:
            sweep = self.source.read_lidar(sample)
            if sample.path.name.lower().endswith(LIDAR_AS_IS):
                relative = folder / sample.path.name
                link_or_copy(sample.path, self.out / relative)
            else:
                relative = folder / f"{safe_name(sample.token)}.pcd.bin"
                points = np.zeros((sweep.points.shape[0], 5), dtype=np.float32)
                n = min(5, sweep.points.shape[1])
                points[:, :n] = sweep.points[:, :n]
                (self.out / relative).parent.mkdir(parents=True, exist_ok=True)
                points.tofile(self.out / relative)
            if sweep.point_times_s is not None:
                times_relative = Path(self.data_dir) / "point_times" / f"{safe_name(sample.token)}.npy"
                (self.out / times_relative).parent.mkdir(parents=True, exist_ok=True)
                np.save(self.out / times_relative, sweep.point_times_s.astype(np.float32), allow_pickle=False)
                extension["point_times_uri"] = times_relative.as_posix()
        else:
            if sample.modality is Modality.RADAR and not sample.path.name.lower().endswith(".pcd"):
                raise InputError("only radar .pcd files can be written to OpenLABEL", path=sample.path)
            relative = folder / sample.path.name
            link_or_copy(sample.path, self.out / relative)
        return {
            "uri": relative.as_posix(),
            "stream_properties": {
                "sync": {"timestamp": _seconds(sample.timestamp_us)},
                "fusioncheck": extension,
            },
        }

    def _cuboid(self, box: BoxAnnotation) -> Json:
        x, y, z = box.center_m.tolist()
        sx, sy, sz = box.size_m.tolist()
        if self.cuboid_form == "quaternion":
            w, qx, qy, qz = box.quat_wxyz.tolist()
            val = [x, y, z, qx, qy, qz, w, sx, sy, sz]
        else:
            yaw, pitch, roll = matrix_to_euler_zyx(to_matrix(box.quat_wxyz)).tolist()
            val = [x, y, z, roll, pitch, yaw, sx, sy, sz]
        text = [{"name": "token", "val": box.token}]
        text += [{"name": "attribute", "val": a} for a in box.attributes]
        if box.visibility is not None:
            text.append({"name": "visibility", "val": box.visibility})
        numbers = [
            {"name": key, "val": value}
            for key, value in (("num_lidar_pts", box.num_lidar_pts), ("num_radar_pts", box.num_radar_pts))
            if value is not None
        ]
        attributes: Json = {"text": text}
        if numbers:
            attributes["num"] = numbers
        return {"name": "box3d", "val": val, "coordinate_system": WORLD_FRAME, "attributes": attributes}


def _intervals(frame_ids: list[int], keyframe_ids: list[int]) -> list[Json]:
    """Frame intervals covering runs of consecutive keyframes in which the object has a box."""
    rank = {fid: i for i, fid in enumerate(keyframe_ids)}
    ids = sorted(frame_ids)
    runs: list[Json] = []
    for fid in ids:
        if runs and rank[fid] == rank[runs[-1]["frame_end"]] + 1:
            runs[-1]["frame_end"] = fid
        else:
            runs.append({"frame_start": fid, "frame_end": fid})
    return runs

"""Writing any source's sequences as a nuScenes dataroot (``fusioncheck convert SRC DST --to nuscenes``).

Layout under the output folder: ``v1.0-fusioncheck/<table>.json`` (the 13 tables), ``samples/<CHANNEL>/``
(keyframe files), ``sweeps/<CHANNEL>/`` (the others), ``fusioncheck_point_times/<token>.npy`` (per-point
LiDAR times, the loader's extension) and ``maps/`` (empty: the ``map`` table is written empty).

What is written, from the scene model:

- one ``scene`` per sequence, one ``sample`` per keyframe (prev/next chained), one ``sample_data`` per
  sensor sample (``is_key_frame``, prev/next per channel, ``sample_token`` = its keyframe) **each with its
  own ``ego_pose``** (the pose the source gives for that sample's time);
- one ``sensor`` and one ``calibrated_sensor`` per channel (``camera_distortion`` extension when the
  camera's images are distorted); boxes as ``sample_annotation`` (``size`` as nuScenes' width, length,
  height), tracks as ``instance``, classes as ``category``, attribute and visibility names as records;
- ``num_lidar_pts``/``num_radar_pts`` as the source gives them, ``null`` where it has none.

Sensor files: nuScenes-format files (LiDAR ``.pcd.bin``, radar ``.pcd``, images) are hard-linked (copied
across file systems); other LiDAR files (AV2 ``.feather``, KITTI/OpenLABEL ``.bin``/``.pcd``) are read
through the source and written as ``.pcd.bin`` (float32 x, y, z, intensity, ring; absent columns 0).
Tokens: the source's ids are kept; ``sample_data`` and ``ego_pose`` tokens are made file-name safe.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.convert.files import link_or_copy, safe_name
from fusioncheck.errors import InputError
from fusioncheck.loaders.base import DataSource
from fusioncheck.scene.samples import SensorSample
from fusioncheck.scene.sensors import Modality
from fusioncheck.scene.sequence import Sequence

VERSION = "v1.0-fusioncheck"
POINT_TIMES_DIR = "fusioncheck_point_times"
TABLES: tuple[str, ...] = (
    "attribute", "calibrated_sensor", "category", "ego_pose", "instance", "log", "map", "sample",
    "sample_annotation", "sample_data", "scene", "sensor", "visibility",
)  # fmt: skip

Record = dict[str, Any]


def token_of(*keys: object) -> str:
    """Return a stable 32-hex-digit token of ``keys`` (the nuScenes token style)."""
    return hashlib.md5("/".join(str(k) for k in keys).encode(), usedforsecurity=False).hexdigest()


def write_nuscenes(source: DataSource, out_dir: str | Path, sequences: list[str] | None = None) -> Path:
    """Write the sequences of ``source`` (all when None) as one nuScenes dataroot at ``out_dir``.

    Returns:
        The version folder written.

    Raises:
        InputError: unreadable source data, or a sequence nuScenes cannot hold (no keyframe).
    """
    out = Path(out_dir)
    writer = _Writer(source, out)
    for name in sequences if sequences is not None else source.sequence_names():
        writer.add_sequence(source.load_sequence(name))
    return writer.finish()


class _Writer:
    def __init__(self, source: DataSource, out: Path) -> None:
        self.source = source
        self.out = out
        self.tables: dict[str, list[Record]] = {t: [] for t in TABLES}
        self.sensor_tokens: dict[str, str] = {}
        self.category_tokens: dict[str, str] = {}
        self.attribute_tokens: dict[str, str] = {}
        self.visibility_tokens: dict[str, str] = {}
        self.used_sample_data: set[str] = set()
        self.log_token = token_of("log", source.root)
        self.tables["log"].append(
            {
                "token": self.log_token,
                "logfile": Path(source.root).name,
                "vehicle": "",
                "date_captured": "",
                "location": "",
            }
        )

    def finish(self) -> Path:
        folder = self.out / VERSION
        folder.mkdir(parents=True, exist_ok=True)
        (self.out / "maps").mkdir(exist_ok=True)
        for name in TABLES:
            with (folder / f"{name}.json").open("w", encoding="utf-8") as f:
                json.dump(self.tables[name], f, indent=1)
                f.write("\n")
        return folder

    # ------------------------------------------------------------------ one sequence

    def add_sequence(self, seq: Sequence) -> None:
        if not seq.keyframes:
            raise InputError(
                f"sequence {seq.name} has no keyframe; nuScenes needs samples", path=seq.dataroot
            )
        scene_token = token_of("scene", seq.token or seq.name)
        calib_tokens = {channel: self._calibration(seq, channel) for channel in seq.sensors}
        sample_tokens = [kf.token for kf in seq.keyframes]
        for i, kf in enumerate(seq.keyframes):
            self.tables["sample"].append(
                {
                    "token": kf.token,
                    "timestamp": kf.timestamp_us,
                    "prev": sample_tokens[i - 1] if i > 0 else "",
                    "next": sample_tokens[i + 1] if i + 1 < len(sample_tokens) else "",
                    "scene_token": scene_token,
                }
            )
        self.tables["scene"].append(
            {
                "token": scene_token,
                "log_token": self.log_token,
                "nbr_samples": len(sample_tokens),
                "first_sample_token": sample_tokens[0],
                "last_sample_token": sample_tokens[-1],
                "name": seq.name,
                "description": seq.description,
            }
        )
        keyframe_times = np.array([kf.timestamp_us for kf in seq.keyframes], dtype=np.int64)
        known_samples = set(sample_tokens)
        for channel, samples in seq.samples.items():
            tokens = [self._sample_data_token(s) for s in samples]
            for j, sample in enumerate(samples):
                keyframe = sample.keyframe_token
                if keyframe not in known_samples:
                    keyframe = sample_tokens[int(np.argmin(np.abs(keyframe_times - sample.timestamp_us)))]
                self._sample_data(
                    sample, tokens[j], keyframe, calib_tokens[channel],
                    tokens[j - 1] if j > 0 else "", tokens[j + 1] if j + 1 < len(tokens) else "",
                )  # fmt: skip
        self._annotations(seq)

    def _sample_data_token(self, sample: SensorSample) -> str:
        token = (
            sample.token if safe_name(sample.token) == sample.token else token_of("sample_data", sample.token)
        )
        if token in self.used_sample_data:
            token = token_of("sample_data", sample.token, len(self.used_sample_data))
        self.used_sample_data.add(token)
        return token

    def _calibration(self, seq: Sequence, channel: str) -> str:
        sensor = seq.sensors[channel]
        sensor_token = self.sensor_tokens.get(channel)
        if sensor_token is None:
            sensor_token = self.sensor_tokens[channel] = token_of("sensor", channel)
            self.tables["sensor"].append(
                {"token": sensor_token, "channel": channel, "modality": sensor.modality.value}
            )
        token = token_of("calibrated_sensor", seq.name, channel)
        record: Record = {
            "token": token,
            "sensor_token": sensor_token,
            "translation": sensor.ego_from_sensor.translation.tolist(),
            "rotation": sensor.ego_from_sensor.quat_wxyz.tolist(),
            "camera_intrinsic": [] if sensor.intrinsics is None else sensor.intrinsics.matrix.tolist(),
        }
        if sensor.intrinsics is not None and sensor.intrinsics.has_distortion:
            record["camera_distortion"] = sensor.intrinsics.distortion.tolist()
        self.tables["calibrated_sensor"].append(record)
        return token

    def _sample_data(
        self, sample: SensorSample, token: str, sample_token: str, calib_token: str, prev: str, nxt: str
    ) -> None:
        folder = "samples" if sample.is_keyframe else "sweeps"
        channel = safe_name(sample.channel)
        if sample.modality is Modality.LIDAR:
            sweep = self.source.read_lidar(sample)
            if sample.path.name.endswith(".pcd.bin") and sweep.points.shape[1] == 5:
                filename = f"{folder}/{channel}/{sample.path.name}"
                link_or_copy(sample.path, self.out / filename)
            else:
                filename = f"{folder}/{channel}/{token}.pcd.bin"
                points = np.zeros((sweep.points.shape[0], 5), dtype=np.float32)
                n = min(5, sweep.points.shape[1])
                points[:, :n] = sweep.points[:, :n]
                (self.out / filename).parent.mkdir(parents=True, exist_ok=True)
                points.tofile(self.out / filename)
            if sweep.point_times_s is not None:
                times_path = self.out / POINT_TIMES_DIR / f"{token}.npy"
                times_path.parent.mkdir(parents=True, exist_ok=True)
                np.save(times_path, sweep.point_times_s.astype(np.float32), allow_pickle=False)
            fileformat = "pcd"
        else:
            if sample.modality is Modality.RADAR and not sample.path.name.endswith(".pcd"):
                raise InputError("only radar .pcd files can be written to nuScenes", path=sample.path)
            filename = f"{folder}/{channel}/{sample.path.name}"
            link_or_copy(sample.path, self.out / filename)
            fileformat = (
                "pcd" if sample.modality is Modality.RADAR else sample.path.suffix.lstrip(".").lower()
            )
        pose_token = token_of("ego_pose", token)
        pose = sample.global_from_ego
        self.tables["ego_pose"].append(
            {
                "token": pose_token,
                "timestamp": sample.timestamp_us,
                "rotation": pose.quat_wxyz.tolist(),
                "translation": pose.translation.tolist(),
            }
        )
        self.tables["sample_data"].append(
            {
                "token": token,
                "sample_token": sample_token,
                "ego_pose_token": pose_token,
                "calibrated_sensor_token": calib_token,
                "timestamp": sample.timestamp_us,
                "fileformat": fileformat,
                "is_key_frame": sample.is_keyframe,
                "height": sample.height_px,
                "width": sample.width_px,
                "filename": filename,
                "prev": prev,
                "next": nxt,
            }
        )

    def _annotations(self, seq: Sequence) -> None:
        """Instances per track; boxes in keyframe order (as the source lists them), chained per track."""
        neighbours: dict[str, tuple[str, str]] = {}
        for instance, track in seq.tracks.items():
            category = track.category
            category_token = self.category_tokens.get(category)
            if category_token is None:
                category_token = self.category_tokens[category] = token_of("category", category)
                self.tables["category"].append({"token": category_token, "name": category, "description": ""})
            boxes = track.boxes
            self.tables["instance"].append(
                {
                    "token": instance,
                    "category_token": category_token,
                    "nbr_annotations": len(boxes),
                    "first_annotation_token": boxes[0].token,
                    "last_annotation_token": boxes[-1].token,
                }
            )
            for i, box in enumerate(boxes):
                neighbours[box.token] = (
                    boxes[i - 1].token if i > 0 else "",
                    boxes[i + 1].token if i + 1 < len(boxes) else "",
                )
        for box in seq.annotations:
            length, width, height = box.size_m.tolist()
            prev, nxt = neighbours[box.token]
            self.tables["sample_annotation"].append(
                {
                    "token": box.token,
                    "sample_token": box.keyframe_token,
                    "instance_token": box.instance,
                    "visibility_token": self._visibility(box.visibility),
                    "attribute_tokens": [self._attribute(a) for a in box.attributes],
                    "translation": box.center_m.tolist(),
                    "size": [width, length, height],
                    "rotation": box.quat_wxyz.tolist(),
                    "prev": prev,
                    "next": nxt,
                    "num_lidar_pts": box.num_lidar_pts,
                    "num_radar_pts": box.num_radar_pts,
                }
            )

    def _attribute(self, name: str) -> str:
        token = self.attribute_tokens.get(name)
        if token is None:
            token = self.attribute_tokens[name] = token_of("attribute", name)
            self.tables["attribute"].append({"token": token, "name": name, "description": ""})
        return token

    def _visibility(self, level: str | None) -> str:
        if level is None:
            return ""
        token = self.visibility_tokens.get(level)
        if token is None:
            token = self.visibility_tokens[level] = str(len(self.visibility_tokens) + 1)
            self.tables["visibility"].append({"token": token, "level": level, "description": ""})
        return token

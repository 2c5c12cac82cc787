"""Writing a nuScenes dataroot: the 13 JSON tables, sensor files, the blank map mask.

Layout under the dataroot::

    v1.0-fusioncheck-sim/<table>.json      the 13 nuScenes tables, exactly the devkit's fields
    samples/<CHANNEL>/<file>               keyframe sensor files
    sweeps/<CHANNEL>/<file>                non-keyframe sensor files
    maps/<map token>.png                   a blank 16x16 semantic-prior mask
    fusioncheck_point_times/<token>.npy    extension: per-point LiDAR times (see ``lidar``)
    faults.json                            extension: injected faults and ground truth (see ``simulation``)

Sensor file names follow nuScenes: ``<logfile>__<CHANNEL>__<timestamp>.<ext>`` with ``.pcd.bin``
(LiDAR, float32 x y z intensity ring), ``.jpg`` (cameras), ``.pcd`` (radar, binary PCD v0.7).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fusioncheck.simulate.determinism import static_token
from fusioncheck.simulate.taxonomy import (
    ATTRIBUTES,
    CATEGORIES,
    VISIBILITIES,
    attribute_token,
    category_token,
)

VERSION = "v1.0-fusioncheck-sim"
POINT_TIMES_DIR = "fusioncheck_point_times"
TABLES: tuple[str, ...] = (
    "attribute", "calibrated_sensor", "category", "ego_pose", "instance", "log", "map", "sample",
    "sample_annotation", "sample_data", "scene", "sensor", "visibility",
)  # fmt: skip

#: The fields of every table, in the order nuScenes writes them.
FIELDS: dict[str, tuple[str, ...]] = {
    "attribute": ("token", "name", "description"),
    "calibrated_sensor": ("token", "sensor_token", "translation", "rotation", "camera_intrinsic"),
    "category": ("token", "name", "description"),
    "ego_pose": ("token", "timestamp", "rotation", "translation"),
    "instance": (
        "token", "category_token", "nbr_annotations", "first_annotation_token", "last_annotation_token",
    ),
    "log": ("token", "logfile", "vehicle", "date_captured", "location"),
    "map": ("category", "token", "filename", "log_tokens"),
    "sample": ("token", "timestamp", "prev", "next", "scene_token"),
    "sample_annotation": (
        "token", "sample_token", "instance_token", "visibility_token", "attribute_tokens", "translation",
        "size", "rotation", "prev", "next", "num_lidar_pts", "num_radar_pts",
    ),
    "sample_data": (
        "token", "sample_token", "ego_pose_token", "calibrated_sensor_token", "timestamp", "fileformat",
        "is_key_frame", "height", "width", "filename", "prev", "next",
    ),
    "scene": (
        "token", "log_token", "nbr_samples", "first_sample_token", "last_sample_token", "name", "description",
    ),
    "sensor": ("token", "channel", "modality"),
    "visibility": ("token", "level", "description"),
}  # fmt: skip


def sensor_token(channel: str) -> str:
    """Token of a sensor record (the same in every simulated log)."""
    return static_token("sensor", channel)


class NuScenesWriter:
    """Collects table records and writes files under a dataroot.

    Records are written in the order they were added, so output is deterministic.
    """

    def __init__(self, dataroot: Path) -> None:
        self.dataroot = Path(dataroot)
        self.tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}

    def add(self, table: str, record: dict[str, Any]) -> None:
        """Append a record; its keys must be exactly the table's nuScenes fields."""
        if tuple(record) != FIELDS[table]:
            raise ValueError(f"{table} record has fields {tuple(record)}, expected {FIELDS[table]}")
        self.tables[table].append(record)

    def add_taxonomy(self, channels: dict[str, str]) -> None:
        """Category, attribute, visibility and sensor records (``channels``: channel -> modality)."""
        for name, description in CATEGORIES:
            self.add("category", {"token": category_token(name), "name": name, "description": description})
        for name, description in ATTRIBUTES:
            self.add("attribute", {"token": attribute_token(name), "name": name, "description": description})
        for token, level, description in VISIBILITIES:
            self.add("visibility", {"token": token, "level": level, "description": description})
        for channel, modality in channels.items():
            self.add("sensor", {"token": sensor_token(channel), "channel": channel, "modality": modality})

    def write_file(self, relative_path: str, data: bytes) -> None:
        """Write ``data`` to ``dataroot / relative_path`` (folders created)."""
        path = self.dataroot / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def write_array(self, relative_path: str, array: np.ndarray) -> None:
        """Write a ``.npy`` file."""
        path = self.dataroot / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, array, allow_pickle=False)

    def write_blank_map(self, token: str) -> str:
        """Write a blank 16x16 mask ``maps/<token>.png``; returns its relative path."""
        relative = f"maps/{token}.png"
        ok, buf = cv2.imencode(".png", np.zeros((16, 16), dtype=np.uint8))
        if not ok:
            raise RuntimeError("PNG encoding failed")
        self.write_file(relative, bytes(buf.tobytes()))
        return relative

    def write_tables(self) -> None:
        """Write every table to ``dataroot / VERSION / <table>.json``."""
        folder = self.dataroot / VERSION
        folder.mkdir(parents=True, exist_ok=True)
        for name in TABLES:
            with (folder / f"{name}.json").open("w", encoding="utf-8") as f:
                json.dump(self.tables[name], f, indent=1)
                f.write("\n")

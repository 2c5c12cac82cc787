"""Copies of real nuScenes-layout dataroots with shifted timestamps (tables copied, sensor files linked)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from fusioncheck.geometry import quaternion


def shifted_copy(
    root: Path, out: Path, labels_ms: float = 0.0, channel: str | None = None, channel_ms: float = 0.0
) -> Path:
    """Copy ``root``'s tables into ``out`` (sensor folders linked) and shift timestamps.

    ``labels_ms``: every sample (keyframe) timestamp, i.e. the time the boxes are stamped with, moves by
    this; the sensor data keep theirs. ``channel``/``channel_ms``: that sensor's sample_data timestamps
    move, and its ego poses are re-interpolated from the other poses at the new stamps (a late-stamped
    camera gets the pose of the time it claims), so the data show the world at ``stamp - channel_ms``.
    """
    out.mkdir(parents=True, exist_ok=True)
    for item in root.iterdir():
        if item.is_dir() and item.name.startswith("v1.0"):
            shutil.copytree(item, out / item.name)
        else:
            (out / item.name).symlink_to(item)
    tables = next(p for p in out.iterdir() if p.name.startswith("v1.0"))
    load = lambda name: json.loads((tables / f"{name}.json").read_text())  # noqa: E731
    samples, sample_data, poses = load("sample"), load("sample_data"), load("ego_pose")
    calib = {c["token"]: c for c in load("calibrated_sensor")}
    sensors = {s["token"]: s for s in load("sensor")}
    delta_us = round(labels_ms * 1e3)
    for s in samples:
        s["timestamp"] += delta_us
    if channel is not None:
        pose_by_token = {p["token"]: p for p in poses}
        moved = {
            sd["ego_pose_token"]
            for sd in sample_data
            if sensors[calib[sd["calibrated_sensor_token"]]["sensor_token"]]["channel"] == channel
        }
        others = sorted((p for p in poses if p["token"] not in moved), key=lambda p: p["timestamp"])
        t = np.array([p["timestamp"] for p in others], dtype=np.float64)
        tr = np.array([p["translation"] for p in others])
        q = np.array([p["rotation"] for p in others])
        shift = round(channel_ms * 1e3)
        for sd in sample_data:
            if sensors[calib[sd["calibrated_sensor_token"]]["sensor_token"]]["channel"] != channel:
                continue
            sd["timestamp"] += shift
            pose = pose_by_token[sd["ego_pose_token"]]
            pose["timestamp"] = sd["timestamp"]
            i = int(np.clip(np.searchsorted(t, sd["timestamp"]) - 1, 0, t.size - 2))
            f = (sd["timestamp"] - t[i]) / (t[i + 1] - t[i])  # extrapolates linearly past the ends
            pose["translation"] = ((1 - f) * tr[i] + f * tr[i + 1]).tolist()
            pose["rotation"] = quaternion.slerp(q[i], q[i + 1], float(np.clip(f, 0.0, 1.0))).tolist()
    for name, rows in (("sample", samples), ("sample_data", sample_data), ("ego_pose", poses)):
        (tables / f"{name}.json").write_text(json.dumps(rows))
    return out

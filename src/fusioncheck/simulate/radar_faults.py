"""Radar faults on moving objects: wrong Doppler on every return of a chosen object.

``heading_flipped``: the compensated velocity of each return is negated (the radar sees the object drive
the other way); ``velocity_zeroed``: it is set to zero (the radar sees a parked object). The raw
velocities ``vx, vy`` keep the radar's own motion: raw = compensated - (radar velocity along the line of
sight), so they are shifted by the same change. Labels are untouched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.determinism import make_rng
from fusioncheck.simulate.faults import RADAR_FAULT_KINDS, RadarFaultSpec
from fusioncheck.simulate.taxonomy import MOVING_SPEED_MPS
from fusioncheck.simulate.world import World
from fusioncheck.typing import IntArray


def choose_radar_faults(
    world: World, config: SimConfig, spec: RadarFaultSpec, seed: int, scene_index: int
) -> dict[int, str]:
    """Object index -> fault kind, for ``spec`` of the objects that move at some keyframe of the scene."""
    if not spec.active or not world.objects:
        return {}
    times = np.arange(config.keyframes) / config.keyframe_hz
    speeds = np.stack([np.linalg.norm(world.object_velocities(float(t))[0], axis=1) for t in times])
    moving = np.flatnonzero(speeds.max(axis=0) > MOVING_SPEED_MPS)
    n = min(spec.count, moving.size) if spec.count else round(spec.fraction * moving.size)
    if n == 0:
        return {}
    rng = make_rng(seed, "fault-radar", scene_index)
    chosen = sorted(int(i) for i in rng.choice(moving, size=n, replace=False))
    return {m: RADAR_FAULT_KINDS[k % len(RADAR_FAULT_KINDS)] for k, m in enumerate(chosen)}


def apply_radar_faults(records: np.ndarray, owners: IntArray, faulted: dict[int, str]) -> np.ndarray:
    """Return ``records`` with the faulted objects' Doppler changed (``owners``: object of each return)."""
    if not faulted or records.size == 0:
        return records
    out = records.copy()
    for m, kind in faulted.items():
        rows = owners == m
        if not rows.any():
            continue
        for comp, raw in (("vx_comp", "vx"), ("vy_comp", "vy")):
            old = out[comp][rows].astype(np.float64)
            new = -old if kind == "heading_flipped" else np.zeros_like(old)
            out[raw][rows] = out[raw][rows] + (new - old)
            out[comp][rows] = new
    return out


def radar_fault_records(truth: dict[str, dict[str, Any]], faulted: dict[int, str]) -> list[dict[str, Any]]:
    """One ``faults.json`` ``radar_faults[]`` entry per written box of a faulted object."""
    out = []
    for token, t in truth.items():
        m = t.get("object_index")
        if t.get("ghost") or m not in faulted:
            continue
        out.append(
            {
                "annotation_token": token,
                "instance_token": t["instance_token"],
                "scene": t["scene"],
                "timestamp_us": t["timestamp_us"],
                "class": t["class"],
                "object_index": m,
                "kind": faulted[m],
                "speed_mps": t["speed_mps"],
                "moving": t["moving"],
                "num_radar_pts": t["num_radar_pts"],
            }
        )
    return out

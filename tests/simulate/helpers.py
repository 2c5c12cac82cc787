"""Helpers of the simulator tests: a tiny configuration, table loading, hand-built worlds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.simulate import SimConfig
from fusioncheck.simulate.world import (
    LaneMotion,
    Road,
    SimObject,
    SpeedProfile,
    StaticParts,
    World,
    shape_parts,
)

SEED = 11
SCENES = 2

#: The faults of the faulty fixture log (same seed as the clean one).
FAULTS = {
    "shrink": {"vehicle.car": {"length": -0.15, "height": 0.1}},
    "delete": {"fraction": 0.2},
    "ghost": 3,
    "label_time_offset_ms": 100,
}


def tiny_config() -> SimConfig:
    """SimConfig.small() cut further for tests: 4 keyframes, 320x180 images."""
    return replace(SimConfig.small(), duration_s=2.0, image_width=320, image_height=180, n_objects=30)


def load_tables(root: Path) -> dict[str, list[dict[str, Any]]]:
    folder = root / "v1.0-fusioncheck-sim"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def straight_road(length_m: float = 2000.0) -> Road:
    """A straight road along global +x through the origin, from s = -length to +length."""
    s = np.arange(-length_m, length_m + 0.05, 0.1)
    xy = np.stack([s, np.zeros_like(s)], axis=1)
    return Road(float(s[0]), 0.1, xy, np.zeros_like(s))


def make_object(
    kind: str,
    category: str,
    size_lwh: tuple[float, float, float],
    motion: LaneMotion,
    color_bgr: tuple[int, int, int] = (40, 40, 190),
) -> SimObject:
    size = np.array(size_lwh, dtype=float)
    offsets, sizes = shape_parts(kind, size)
    colors = np.tile(np.array([color_bgr], dtype=np.uint8), (sizes.shape[0], 1))
    return SimObject(kind, category, size, motion, offsets, sizes, colors, False, 10.0)


def make_world(
    objects: list[SimObject], ego_speed_mps: float = 0.0, static: StaticParts | None = None
) -> World:
    """A world on a straight road with the ego in its lane at s = 0 (t = 0), moving at a constant speed."""
    ego = LaneMotion(0.0, -1.75, 1, SpeedProfile(ego_speed_mps))
    return World(
        straight_road(), ego, tuple(objects), StaticParts.empty() if static is None else static, "test"
    )

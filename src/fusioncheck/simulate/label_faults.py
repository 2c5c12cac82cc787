"""Per-box label faults along tracks: extra size noise, single-frame size jitter, duplicates, heading flips.

Applied to a scene's boxes after labelling (and after deletions, before ghosts); every affected box is
recorded for ``faults.json`` (``label_faults``: one record per box with its ``fault`` kind and the values
that define it). Random choices use their own streams ``(seed, "fault-<kind>", scene)``, so switching a
fault on changes nothing else of the simulation.

- ``size_noise``: every box of the class gets ``size × (1 + N(0, sd))`` per axis (on top of ``shrink``
  and the clean label noise); each box's record is its factors.
- ``size_jitter``: among boxes of tracks with >= 3 boxes, a fraction gets one axis (pedestrians: height)
  scaled by ``1 ± magnitude``; at most one box per track, never the first or the last.
- ``duplicate``: a copy of a box as a new one-box track (new instance) moved by up to 10 % of its
  smaller footprint side, turned by
  up to 3°, each axis resized by up to ±3 %, so its 3D IoU with the original stays above 0.5.
- ``heading_flip``: the yaw of one box inside a track of >= 3 boxes turned by 180°.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from fusioncheck.simulate.determinism import make_rng, make_token
from fusioncheck.simulate.faults import AXES, FaultSpec

if TYPE_CHECKING:
    from fusioncheck.simulate.labels import _Box

#: Classes whose boxes are not rigid: only their height is jittered (their length and width vary anyway).
NON_RIGID_PREFIXES = ("human.", "animal")
_MIN_TRACK_BOXES = 3


def apply_label_faults(
    boxes: list[_Box], faults: FaultSpec, seed: int, scene_index: int
) -> tuple[list[_Box], list[dict[str, Any]]]:
    """Apply the per-box label faults to a scene's boxes.

    Args:
        boxes: the scene's boxes (mutated in place where a fault changes one; duplicates appended).
        faults: the fault spec.
        seed: simulation seed.
        scene_index: scene index.

    Returns:
        The boxes (with duplicates) and one ``faults.json`` record per affected box.
    """
    records: list[dict[str, Any]] = []
    if not faults.has_label_faults or not boxes:
        return boxes, records
    _size_noise(boxes, faults, seed, scene_index, records)
    _size_jitter(boxes, faults, seed, scene_index, records)
    _heading_flip(boxes, faults, seed, scene_index, records)
    boxes = boxes + _duplicates(boxes, faults, seed, scene_index, records)
    return boxes, records


def _record(box: _Box, fault: str, **values: Any) -> dict[str, Any]:
    return {
        "fault": fault,
        "annotation_token": box.token,
        "instance_token": box.instance_token,
        "class": box.category,
        "scene": box.truth["scene"],
        "sample_token": box.truth["sample_token"],
        "timestamp_us": box.truth["timestamp_us"],
        **values,
    }


def _track_inner_boxes(boxes: list[_Box]) -> dict[str, list[int]]:
    """Instance -> indices of its boxes other than the first and last, for tracks of >= 3 boxes."""
    by_track: dict[str, list[int]] = {}
    for i, b in enumerate(boxes):
        if not b.truth["ghost"]:
            by_track.setdefault(b.instance_token, []).append(i)
    out = {}
    for instance, idx in sorted(by_track.items()):
        idx.sort(key=lambda i: boxes[i].keyframe)
        if len(idx) >= _MIN_TRACK_BOXES:
            out[instance] = idx[1:-1]
    return out


def _size_noise(
    boxes: list[_Box], faults: FaultSpec, seed: int, scene: int, records: list[dict[str, Any]]
) -> None:
    for i, b in enumerate(boxes):
        sd = faults.size_noise.get(b.category, 0.0)
        if sd <= 0.0:
            continue
        factors = 1.0 + make_rng(seed, "fault-size-noise", scene, i).normal(0.0, sd, 3)
        _resize(b, factors)
        records.append(_record(b, "size_noise", factors=[float(f) for f in factors]))


def _size_jitter(
    boxes: list[_Box], faults: FaultSpec, seed: int, scene: int, records: list[dict[str, Any]]
) -> None:
    spec = faults.size_jitter
    if not spec.active:
        return
    rng = make_rng(seed, "fault-size-jitter", scene)
    inner = _track_inner_boxes(boxes)
    n_eligible = sum(len(idx) + 2 for idx in inner.values())
    n = min(len(inner), round(spec.fraction * n_eligible))
    if n == 0:
        return
    tracks = sorted(inner)
    for k in rng.choice(len(tracks), size=n, replace=False):
        candidates = inner[tracks[int(k)]]
        i = candidates[int(rng.integers(len(candidates)))]
        b = boxes[i]
        axis = 2 if b.category.startswith(NON_RIGID_PREFIXES) else int(rng.integers(3))
        sign = 1.0 if rng.random() < 0.5 else -1.0
        factors = np.ones(3)
        factors[axis] = 1.0 + sign * spec.magnitude
        _resize(b, factors)
        records.append(_record(b, "size_jitter", axis=AXES[axis], factor=float(factors[axis])))


def _heading_flip(
    boxes: list[_Box], faults: FaultSpec, seed: int, scene: int, records: list[dict[str, Any]]
) -> None:
    if faults.heading_flip == 0:
        return
    rng = make_rng(seed, "fault-heading-flip", scene)
    inner = _track_inner_boxes(boxes)
    already = {r["annotation_token"] for r in records}
    tracks = [t for t in sorted(inner) if not any(boxes[i].token in already for i in inner[t])]
    n = min(faults.heading_flip, len(tracks))
    for k in rng.choice(len(tracks), size=n, replace=False):
        candidates = inner[tracks[int(k)]]
        b = boxes[candidates[int(rng.integers(len(candidates)))]]
        b.yaw = float(b.yaw + np.pi)
        records.append(_record(b, "heading_flip"))


def _duplicates(
    boxes: list[_Box], faults: FaultSpec, seed: int, scene: int, records: list[dict[str, Any]]
) -> list[_Box]:
    if faults.duplicate == 0:
        return []
    rng = make_rng(seed, "fault-duplicate", scene)
    originals = [i for i, b in enumerate(boxes) if not b.truth["ghost"]]
    n = min(faults.duplicate, len(originals))
    out = []
    for d, k in enumerate(rng.choice(len(originals), size=n, replace=False)):
        b = boxes[originals[int(k)]]
        angle = rng.uniform(0.0, 2.0 * np.pi)
        shift = rng.uniform(0.0, 0.1) * float(min(b.size_lwh[0], b.size_lwh[1]))
        center = b.center + np.array([shift * np.cos(angle), shift * np.sin(angle), 0.0])
        size = b.size_lwh * (1.0 + rng.uniform(-0.03, 0.03, 3))
        center[2] = b.center[2] - b.size_lwh[2] / 2 + size[2] / 2  # keep the bottom
        token = make_token(seed, "duplicate-annotation", scene, d)
        copy = replace(
            b,
            token=token,
            instance_token=make_token(seed, "duplicate-instance", scene, d),
            center=center,
            size_lwh=size,
            yaw=float(b.yaw + np.deg2rad(rng.uniform(-3.0, 3.0))),
            truth={**b.truth, "duplicate_of": b.token, "written_size_lwh_m": [float(v) for v in size]},
        )
        out.append(copy)
        records.append(_record(copy, "duplicate", duplicate_of=b.token))
    return out


def _resize(box: _Box, factors: np.ndarray) -> None:
    """Scale a box's size per axis, keeping its bottom where it was."""
    bottom = box.center[2] - box.size_lwh[2] / 2
    box.size_lwh = box.size_lwh * factors
    box.center = np.array([box.center[0], box.center[1], bottom + box.size_lwh[2] / 2])
    box.truth["written_size_lwh_m"] = [float(v) for v in box.size_lwh]

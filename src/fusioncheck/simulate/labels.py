"""Labels of a scene: which objects get a box at each keyframe, the box values, and injected faults.

**Annotation rule.** An object is annotated at a keyframe when at least ``min_annotation_points``
(default 1) returns of that keyframe's LIDAR_TOP sweep hit the object itself (its true geometry, not
the ground or clutter). Objects fully occluded or out of LiDAR range get no box; nuScenes sometimes
keeps boxes with zero points, the simulator never does (so a clean log has no empty boxes other than
those the label noise empties). Static clutter (poles, buildings) is never labelled.

**Box values.** The box is the object's true box at ``timestamp + label_time_offset`` with per-box
annotation noise (``SimConfig.label_noise``) and any ``shrink`` factor:

- centre x, y: true centre + N(0, ``center_m``); z: half the written height + N(0, ``center_m``) (boxes
  stand on the ground);
- size: true ``(l, w, h)`` x (1 + shrink) x (1 + N(0, ``size_rel``)), written in nuScenes order
  ``[width, length, height]``;
- rotation: yaw-only quaternion ``(w, x, y, z)`` of true yaw + N(0, ``yaw_deg``).

The noise of a box depends only on ``(seed, scene, object, keyframe)``, so a faulty run and a clean run
of the same seed differ exactly by the faults.

**Counts.** ``num_lidar_pts``: points of the keyframe LIDAR_TOP file inside the written box (inclusive
``|local| <= half size``, box taken into the sensor frame through the sample_data's ego pose and
calibration, as nuscenes-devkit's ``points_in_box``). ``num_radar_pts``: returns of the five keyframe
radar scans inside the box, summed, no filtering (the nuScenes definition).

**Visibility** approximates nuScenes' camera visibility from the LiDAR origin: 15 points spread over
the box (shrunk corners, face centres, centre) are tested for a clear line of sight; the visible
fraction is binned into the four nuScenes levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fusioncheck.geometry import quaternion
from fusioncheck.geometry.se3 import SE3
from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.determinism import make_rng, make_token
from fusioncheck.simulate.faults import FaultSpec
from fusioncheck.simulate.label_faults import apply_label_faults
from fusioncheck.simulate.lidar import SimulatedSweep
from fusioncheck.simulate.raycast import cast_rays
from fusioncheck.simulate.taxonomy import CLASS_PRIORS, MOVING_SPEED_MPS, attribute_token, category_token
from fusioncheck.simulate.world import (
    EGO_CENTER_AHEAD_M,
    EGO_FOOTPRINT_M,
    LANES,
    PARKING_M,
    SIDEWALK_M,
    World,
    rects_overlap,
)
from fusioncheck.typing import Float32Array, FloatArray

_VIS_SIGNS = np.concatenate(
    [
        0.8 * np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=float),
        0.9 * np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=float),
        np.zeros((1, 3)),
    ]
)
_GHOST_KINDS = ("car", "pedestrian", "truck", "cone", "barrier", "bicycle_parked")
_GHOST_WEIGHTS = np.array([0.45, 0.25, 0.08, 0.1, 0.07, 0.05])
_GHOST_MARGIN_M = 0.5


@dataclass(frozen=True, eq=False)
class KeyframeData:
    """What labelling needs from one keyframe.

    Attributes:
        index: keyframe index in the scene.
        sample_token: the nuScenes sample token.
        timestamp_us: the sample timestamp (= the LIDAR_TOP keyframe timestamp), microseconds.
        t_s: the same time in world seconds.
        sweep: the keyframe LIDAR_TOP sweep as written.
        radar_points_global: ``(R, 3)`` returns of the keyframe radar scans, metres, global frame.
    """

    index: int
    sample_token: str
    timestamp_us: int
    t_s: float
    sweep: SimulatedSweep
    radar_points_global: FloatArray


@dataclass
class _Box:
    token: str
    keyframe: int
    instance_token: str
    category: str
    center: FloatArray
    size_lwh: FloatArray
    yaw: float
    attributes: list[str]
    visibility: str
    truth: dict[str, Any]


@dataclass
class SceneLabels:
    """Labels of one scene, ready to write.

    Attributes:
        annotations: ``sample_annotation`` records (nuScenes fields).
        instances: ``instance`` records.
        truth: annotation token -> ground truth record (for ``faults.json``).
        deleted: records of deleted boxes.
        ghosts: records of ghost boxes.
        label_faults: records of boxes changed by :mod:`fusioncheck.simulate.label_faults`.
    """

    annotations: list[dict[str, Any]] = field(default_factory=list)
    instances: list[dict[str, Any]] = field(default_factory=list)
    truth: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    ghosts: list[dict[str, Any]] = field(default_factory=list)
    label_faults: list[dict[str, Any]] = field(default_factory=list)


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def rotation_of_yaw(yaw_rad: float) -> list[float]:
    """NuScenes rotation ``[w, x, y, z]`` (``w >= 0``) of a heading."""
    return [float(v) for v in quaternion.from_yaw(_wrap(yaw_rad))]


def count_in_box(
    points: FloatArray | Float32Array,
    center: FloatArray,
    size_lwh: FloatArray,
    rotation_wxyz: list[float],
    frame_from_global: SE3,
) -> int:
    """Count points ``(N, 3)`` (metres, any frame) inside a global box, inclusive ``|local| <= half size``.

    The box is taken into the points' frame through ``frame_from_global`` (as nuscenes-devkit moves boxes
    into the sensor frame before ``points_in_box``).
    """
    if points.shape[0] == 0:
        return 0
    local, _, half = _in_box_frame(points, center, size_lwh, rotation_wxyz, frame_from_global)
    return int(np.count_nonzero(np.all(np.abs(local) <= half, axis=1)))


def _in_box_frame(
    points: FloatArray | Float32Array,
    center: FloatArray,
    size_lwh: FloatArray,
    rotation_wxyz: list[float],
    frame_from_global: SE3,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Points ``(N, 3)`` and the points' frame origin ``(3,)`` in the box frame, and the box's half size."""
    r_box = quaternion.to_matrix(np.asarray(rotation_wxyz, dtype=np.float64))
    c = frame_from_global.transform_points(np.asarray(center, dtype=np.float64)[None])[0]
    r = frame_from_global.rotation @ r_box
    local = (np.asarray(points, dtype=np.float64) - c) @ r
    return local, (-c) @ r, np.asarray(size_lwh, dtype=np.float64) / 2


def _visibility_level(fraction: float) -> str:
    if fraction < 0.4:
        return "1"
    if fraction < 0.6:
        return "2"
    if fraction < 0.8:
        return "3"
    return "4"


def _visible_fractions(
    world: World, origin: FloatArray, t_s: float, boxes: list[tuple[FloatArray, FloatArray, float, int]]
) -> list[float]:
    """Fraction of 15 sample points of each box seen from ``origin``.

    ``boxes``: ``(centre (3,), size lwh (3,), yaw, owner object or -1)``, metres/radians, global frame.
    """
    if not boxes:
        return []
    parts = world.parts
    centers, yaws = world.part_poses(np.array([t_s]))
    targets = []
    for center, size, yaw, _ in boxes:
        local = _VIS_SIGNS * (size / 2)
        c, s = np.cos(yaw), np.sin(yaw)
        targets.append(
            np.stack(
                [
                    center[0] + c * local[:, 0] - s * local[:, 1],
                    center[1] + s * local[:, 0] + c * local[:, 1],
                    center[2] + local[:, 2],
                ],
                1,
            )
        )
    pts = np.concatenate(targets)
    rel = pts - origin
    dist = np.linalg.norm(rel, axis=1)
    dirs = rel / np.maximum(dist, 1e-9)[:, None]
    ranges, hits, _ = cast_rays(
        np.repeat(origin[None], pts.shape[0], 0),
        dirs,
        centers,
        yaws,
        parts.sizes_m / 2,
        float(dist.max()) + 1.0,
    )
    owners = np.array([b[3] for b in boxes]).repeat(_VIS_SIGNS.shape[0])
    hit_owner = parts.owner_of(hits, -2)
    seen = ((hit_owner == owners) & (owners >= 0)) | (ranges >= dist - 0.05)
    return [float(v) for v in seen.reshape(len(boxes), -1).mean(axis=1)]


def _attributes(world: World, m: int, speed: float) -> list[str]:
    obj = world.objects[m]
    if obj.kind in ("car", "truck", "bus"):
        if obj.parked:
            return ["vehicle.parked"]
        return ["vehicle.moving"] if speed > MOVING_SPEED_MPS else ["vehicle.stopped"]
    if obj.kind in ("bicycle", "motorcycle"):
        return ["cycle.with_rider"]
    if obj.kind == "bicycle_parked":
        return ["cycle.without_rider"]
    if obj.kind == "pedestrian":
        return ["pedestrian.moving"] if speed > MOVING_SPEED_MPS else ["pedestrian.standing"]
    return []


def _vec(a: FloatArray) -> list[float]:
    return [float(v) for v in a]


def annotate_scene(
    world: World,
    config: SimConfig,
    faults: FaultSpec,
    seed: int,
    scene_index: int,
    scene_name: str,
    keyframes: list[KeyframeData],
) -> SceneLabels:
    """Build the labels of a scene from its keyframe sweeps (see the module docstring for the rules)."""
    noise = config.label_noise
    boxes: list[_Box] = []
    for kf in keyframes:
        offset_s = faults.label_offset_s(kf.t_s)
        counts = np.bincount(kf.sweep.owners[kf.sweep.owners >= 0], minlength=len(world.objects))
        labelled = [m for m in range(len(world.objects)) if counts[m] >= config.min_annotation_points]
        if not labelled:
            continue
        centers, yaws = world.object_poses(np.array([kf.t_s, kf.t_s + offset_s]))
        velocities, _ = world.object_velocities(kf.t_s)
        origin = kf.sweep.global_from_lidar.translation
        fractions = _visible_fractions(
            world,
            origin,
            kf.t_s,
            [(centers[0, m], world.objects[m].size_lwh_m, float(yaws[0, m]), m) for m in labelled],
        )
        for m, fraction in zip(labelled, fractions, strict=True):
            obj = world.objects[m]
            rng = make_rng(seed, "label-noise", scene_index, m, kf.index)
            n_center = rng.normal(0.0, noise.center_m, 3)
            n_size = rng.normal(0.0, noise.size_rel, 3)
            n_yaw = rng.normal(0.0, np.deg2rad(noise.yaw_deg))
            shrink = np.array(faults.shrink_factors(obj.category))
            size = obj.size_lwh_m * (1.0 + shrink) * (1.0 + n_size)
            center = np.array(
                [centers[1, m, 0] + n_center[0], centers[1, m, 1] + n_center[1], size[2] / 2 + n_center[2]]
            )
            yaw = float(yaws[1, m]) + float(n_yaw)
            speed = float(np.linalg.norm(velocities[m]))
            token = make_token(seed, "annotation", scene_index, m, kf.index)
            shifted = (
                faults.shift_fraction > 0.0
                and make_rng(seed, "shift", token).random() < faults.shift_fraction
            )
            if shifted:  # sideways: to the box's left, perpendicular to its heading
                center[:2] += faults.shift_lateral_m * np.array([-np.sin(yaw), np.cos(yaw)])
            truth = {
                "scene": scene_name,
                "sample_token": kf.sample_token,
                "timestamp_us": kf.timestamp_us,
                "class": obj.category,
                "object_index": m,
                "ghost": False,
                "true_center_m": _vec(centers[0, m]),
                "true_size_lwh_m": _vec(obj.size_lwh_m),
                "true_yaw_rad": _wrap(float(yaws[0, m])),
                "velocity_mps": _vec(velocities[m]),
                "speed_mps": speed,
                "moving": speed > MOVING_SPEED_MPS,
                "labelled_center_m": _vec(centers[1, m]),
                "label_time_offset_ms": faults.label_time_offset_ms
                + faults.clock("labels").offset_s(kf.t_s) * 1e3,
                "shrink": {
                    a: f
                    for a, f in zip(("length", "width", "height"), shrink.tolist(), strict=True)
                    if f != 0.0
                },
                "written_size_lwh_m": _vec(size),
                "num_object_lidar_pts": int(counts[m]),
                "visible_fraction": fraction,
            }
            if faults.shift_fraction > 0.0:  # only then, so that older fault records stay identical
                truth["lateral_shift_m"] = faults.shift_lateral_m if shifted else 0.0
            boxes.append(
                _Box(
                    token,
                    kf.index,
                    make_token(seed, "instance", scene_index, m),
                    obj.category,
                    center,
                    size,
                    yaw,
                    _attributes(world, m, speed),
                    _visibility_level(fraction),
                    truth,
                )
            )

    by_keyframe = {kf.index: kf for kf in keyframes}
    labels = SceneLabels()
    boxes = _delete(boxes, faults, seed, scene_index, by_keyframe, labels)
    boxes, labels.label_faults = apply_label_faults(boxes, faults, seed, scene_index)
    boxes.extend(_ghosts(world, faults, seed, scene_index, scene_name, keyframes, labels))
    _finish(boxes, by_keyframe, labels)
    return labels


def _box_counts(
    box_center: FloatArray, size_lwh: FloatArray, rotation: list[float], kf: KeyframeData
) -> tuple[int, int]:
    sweep = kf.sweep
    n_lidar = count_in_box(
        sweep.points[:, :3], box_center, size_lwh, rotation, sweep.global_from_lidar.inverse()
    )
    n_radar = count_in_box(kf.radar_points_global, box_center, size_lwh, rotation, SE3.identity())
    return n_lidar, n_radar


def count_beams_crossing(
    points: FloatArray | Float32Array,
    center: FloatArray,
    size_lwh: FloatArray,
    rotation_wxyz: list[float],
    frame_from_global: SE3,
) -> int:
    """Count LiDAR beams whose segment from the sensor origin to its return crosses a global box.

    Ground truth of how many beams a ghost box would have stopped had it held a solid object: the beams
    that pass through its volume (returns behind it) or end inside it (ground returns under it).
    ``points``: ``(N, 3)`` returns in the sensor frame (origin = the beam origin), metres. The slab test
    is exact for straight beams from the origin; ego motion during the sweep is neglected.
    """
    if points.shape[0] == 0:
        return 0
    end, start, half = _in_box_frame(points, center, size_lwh, rotation_wxyz, frame_from_global)
    d = end - start
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = (-half - start) / d
        t1 = (half - start) / d
    t_lo = np.where(d == 0.0, np.where(np.abs(start) <= half, -np.inf, np.inf), np.minimum(t0, t1))
    t_hi = np.where(d == 0.0, np.where(np.abs(start) <= half, np.inf, -np.inf), np.maximum(t0, t1))
    enter = np.max(t_lo, axis=1)
    leave = np.min(t_hi, axis=1)
    return int(np.count_nonzero((enter <= leave) & (leave >= 0.0) & (enter <= 1.0)))


def _delete(
    boxes: list[_Box],
    faults: FaultSpec,
    seed: int,
    scene_index: int,
    keyframes: dict[int, KeyframeData],
    labels: SceneLabels,
) -> list[_Box]:
    spec = faults.delete
    if not spec.active or not boxes:
        return boxes
    rng = make_rng(seed, "fault-delete", scene_index)
    if spec.unit == "track":
        instances = sorted({b.instance_token for b in boxes})
        n = min(spec.count, len(instances)) if spec.count else round(spec.fraction * len(instances))
        chosen = {instances[i] for i in rng.choice(len(instances), size=n, replace=False)}
        doomed = {i for i, b in enumerate(boxes) if b.instance_token in chosen}
    else:
        n = min(spec.count, len(boxes)) if spec.count else round(spec.fraction * len(boxes))
        doomed = {int(i) for i in rng.choice(len(boxes), size=n, replace=False)}
    kept = [b for i, b in enumerate(boxes) if i not in doomed]
    kept_instances = {b.instance_token for b in kept}
    for i in sorted(doomed):
        b = boxes[i]
        rotation = rotation_of_yaw(b.yaw)
        n_lidar, n_radar = _box_counts(b.center, b.size_lwh, rotation, keyframes[b.keyframe])
        true_rotation = rotation_of_yaw(b.truth["true_yaw_rad"])
        n_true, _ = _box_counts(
            np.array(b.truth["true_center_m"]),
            np.array(b.truth["true_size_lwh_m"]),
            true_rotation,
            keyframes[b.keyframe],
        )
        labels.deleted.append(
            {
                "annotation_token": b.token,
                "instance_token": b.instance_token,
                "instance_kept": b.instance_token in kept_instances,
                "unit": spec.unit,
                **{k: b.truth[k] for k in ("scene", "sample_token", "timestamp_us", "class", "object_index")},
                "translation": _vec(b.center),
                "size": [float(b.size_lwh[1]), float(b.size_lwh[0]), float(b.size_lwh[2])],
                "rotation": rotation,
                "true_center_m": b.truth["true_center_m"],
                "true_size_lwh_m": b.truth["true_size_lwh_m"],
                "true_yaw_rad": b.truth["true_yaw_rad"],
                "velocity_mps": b.truth["velocity_mps"],
                "num_lidar_pts": n_lidar,
                "num_lidar_pts_true_box": n_true,
                "num_radar_pts": n_radar,
                "num_object_lidar_pts": b.truth["num_object_lidar_pts"],
            }
        )
    return kept


def _ghosts(
    world: World,
    faults: FaultSpec,
    seed: int,
    scene_index: int,
    scene_name: str,
    keyframes: list[KeyframeData],
    labels: SceneLabels,
) -> list[_Box]:
    if faults.ghost == 0 or not keyframes:
        return []
    rng = make_rng(seed, "fault-ghost", scene_index)
    out: list[_Box] = []
    placed: dict[int, list[tuple[FloatArray, float, FloatArray]]] = {}
    static = world.static
    for g in range(faults.ghost):
        for _attempt in range(200):
            kf = keyframes[int(rng.integers(len(keyframes)))]
            kind = _GHOST_KINDS[int(rng.choice(len(_GHOST_KINDS), p=_GHOST_WEIGHTS / _GHOST_WEIGHTS.sum()))]
            prior = CLASS_PRIORS[kind]
            size = np.array(prior.size_lwh_m) * (1.0 + rng.normal(0.0, prior.spread_rel))
            s = float(world.ego.arc_length(np.array(kf.t_s))) + rng.uniform(-35.0, 40.0)
            side = float(rng.choice([-1.0, 1.0]))
            yaw_offset = 0.0
            if kind in ("car", "truck"):
                if rng.random() < 0.5:
                    d, direction = LANES[int(rng.integers(len(LANES)))]
                    yaw_offset = 0.0 if direction > 0 else np.pi
                else:
                    d = side * (PARKING_M[0] + size[1] / 2 + 0.3)
            elif kind == "pedestrian":
                d = side * rng.uniform(SIDEWALK_M[0] + 0.8, SIDEWALK_M[1] - 0.6)
                yaw_offset = rng.uniform(-np.pi, np.pi)
            elif kind == "cone":
                d = side * rng.uniform(7.4, 8.2)
                yaw_offset = rng.uniform(-np.pi, np.pi)
            elif kind == "barrier":
                d = side * rng.uniform(9.2, 10.2)
                yaw_offset = np.pi / 2
            else:
                d = side * rng.uniform(SIDEWALK_M[0] + 0.5, SIDEWALK_M[1] - 0.5)
                yaw_offset = np.pi / 2
            xy = world.road.point(np.array(s), d)
            _, heading = world.road.frame(np.array(s))
            yaw = float(heading) + yaw_offset
            center = np.array([xy[0], xy[1], size[2] / 2])
            origin = kf.sweep.global_from_lidar.translation
            dist = float(np.hypot(*(center[:2] - origin[:2])))
            if not 5.0 <= dist <= 50.0:
                continue
            half = size[:2] / 2 + _GHOST_MARGIN_M
            oc, oy = world.object_poses(np.array([kf.t_s]))
            if world.objects:
                obj_half = np.stack([o.size_lwh_m[:2] / 2 for o in world.objects])
                if np.any(rects_overlap(center[:2], np.asarray(yaw), half, oc[0, :, :2], oy[0], obj_half)):
                    continue
            if len(static) and np.any(
                rects_overlap(
                    center[:2],
                    np.asarray(yaw),
                    half,
                    static.centers_m[:, :2],
                    static.yaws_rad,
                    static.sizes_m[:, :2] / 2,
                )
            ):
                continue
            ego_xy, ego_yaw = world.ego_pose(np.array([kf.t_s]))
            ego_c = ego_xy[0] + EGO_CENTER_AHEAD_M * np.array([np.cos(ego_yaw[0]), np.sin(ego_yaw[0])])
            if rects_overlap(
                center[:2],
                np.asarray(yaw),
                half,
                ego_c,
                np.asarray(ego_yaw[0]),
                np.array(EGO_FOOTPRINT_M) / 2,
            ):
                continue
            if any(
                rects_overlap(center[:2], np.asarray(yaw), half, c2[:2], np.asarray(y2), h2)
                for c2, y2, h2 in placed.get(kf.index, [])
            ):
                continue
            rotation = rotation_of_yaw(yaw)
            sweep = kf.sweep
            solid = sweep.parts >= 0
            if (
                count_in_box(
                    sweep.points[solid, :3], center, size, rotation, sweep.global_from_lidar.inverse()
                )
                > 0
            ):
                continue
            break
        else:
            continue
        placed.setdefault(kf.index, []).append((center, yaw, size[:2] / 2))
        fraction = _visible_fractions(world, origin, kf.t_s, [(center, size, yaw, -1)])[0]
        beams = count_beams_crossing(
            kf.sweep.points[:, :3], center, size, rotation, kf.sweep.global_from_lidar.inverse()
        )
        token = make_token(seed, "ghost-annotation", scene_index, g)
        category = prior.category
        attributes = {
            "car": ["vehicle.parked"], "truck": ["vehicle.parked"], "pedestrian": ["pedestrian.standing"],
            "bicycle_parked": ["cycle.without_rider"],
        }.get(kind, [])  # fmt: skip
        truth = {
            "scene": scene_name,
            "sample_token": kf.sample_token,
            "timestamp_us": kf.timestamp_us,
            "class": category,
            "object_index": None,
            "ghost": True,
            "true_center_m": None,
            "true_size_lwh_m": None,
            "true_yaw_rad": None,
            "velocity_mps": None,
            "speed_mps": None,
            "moving": False,
            "labelled_center_m": _vec(center),
            "label_time_offset_ms": 0.0,
            "shrink": {},
            "written_size_lwh_m": _vec(size),
            "num_object_lidar_pts": 0,
            "visible_fraction": fraction,
            "lidar_beams_crossing": beams,
        }
        box = _Box(
            token, kf.index, make_token(seed, "ghost-instance", scene_index, g), category, center, size, yaw,
            attributes, _visibility_level(fraction), truth,
        )  # fmt: skip
        out.append(box)
        labels.ghosts.append(
            {
                "annotation_token": token,
                "instance_token": box.instance_token,
                "scene": scene_name,
                "sample_token": kf.sample_token,
                "timestamp_us": kf.timestamp_us,
                "class": category,
                "translation": _vec(center),
                "size": [float(size[1]), float(size[0]), float(size[2])],
                "rotation": rotation,
                "num_object_lidar_pts": 0,
                "visible_fraction": fraction,
                "lidar_beams_crossing": beams,
            }
        )
    return out


def _finish(boxes: list[_Box], keyframes: dict[int, KeyframeData], labels: SceneLabels) -> None:
    """Compute counts, instance records, prev/next chains and the nuScenes records."""
    boxes.sort(key=lambda b: (b.keyframe, b.truth["ghost"], b.truth["object_index"] or 0, b.token))
    by_instance: dict[str, list[_Box]] = {}
    for b in boxes:
        by_instance.setdefault(b.instance_token, []).append(b)
    links: dict[str, tuple[str, str]] = {}
    instance_order: list[str] = []
    for instance, members in by_instance.items():
        members.sort(key=lambda b: b.keyframe)
        instance_order.append(instance)
        for i, b in enumerate(members):
            links[b.token] = (
                members[i - 1].token if i > 0 else "",
                members[i + 1].token if i + 1 < len(members) else "",
            )
        labels.instances.append(
            {
                "token": instance,
                "category_token": category_token(members[0].category),
                "nbr_annotations": len(members),
                "first_annotation_token": members[0].token,
                "last_annotation_token": members[-1].token,
            }
        )
    ghost_by_token = {g["annotation_token"]: g for g in labels.ghosts}
    for b in boxes:
        kf = keyframes[b.keyframe]
        rotation = rotation_of_yaw(b.yaw)
        n_lidar, n_radar = _box_counts(b.center, b.size_lwh, rotation, kf)
        prev, nxt = links[b.token]
        labels.annotations.append(
            {
                "token": b.token,
                "sample_token": kf.sample_token,
                "instance_token": b.instance_token,
                "visibility_token": b.visibility,
                "attribute_tokens": [attribute_token(a) for a in b.attributes],
                "translation": _vec(b.center),
                "size": [float(b.size_lwh[1]), float(b.size_lwh[0]), float(b.size_lwh[2])],
                "rotation": rotation,
                "prev": prev,
                "next": nxt,
                "num_lidar_pts": n_lidar,
                "num_radar_pts": n_radar,
            }
        )
        truth = dict(b.truth)
        truth["instance_token"] = b.instance_token
        truth["num_lidar_pts"] = n_lidar
        truth["num_radar_pts"] = n_radar
        labels.truth[b.token] = truth
        if b.token in ghost_by_token:
            ghost_by_token[b.token]["num_lidar_pts"] = n_lidar
            ghost_by_token[b.token]["num_radar_pts"] = n_radar

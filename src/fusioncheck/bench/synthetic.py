"""Deterministic synthetic LiDAR frames with labelled boxes, for benchmarks.

A frame is made by casting the rays of a spinning LiDAR (beams x azimuth steps, azimuth-major order as
the sensor fires them) at a simple world: a flat ground plane, a ring of building walls, and cars,
pedestrians and trucks standing on the ground. Each ray returns its nearest hit with Gaussian range noise;
a few returns are replaced by clutter (dust, rain) and, where the sensor fires more rays than the frame
should hold, a deterministic random subset of returns is dropped, as real sensors drop returns. The
labelled boxes are the objects' boxes grown by a few centimetres, as annotators draw them.

Everything is in the LiDAR frame: x forward, y left, z up, metres, origin at the sensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.geometry import quaternion
from fusioncheck.scene.boxes import BoxArrays
from fusioncheck.typing import BoolArray, Float32Array, FloatArray, IntArray


@dataclass(frozen=True)
class FrameSpec:
    """How to make one kind of synthetic frame.

    Attributes:
        name: the frame kind (``nuscenes``, ``waymo``, ``dense``).
        n_beams: LiDAR beams (rings).
        n_azimuths: firings per revolution.
        n_points: points in the frame (at most ``n_beams * n_azimuths``; the rest are dropped).
        n_boxes: labelled objects.
        elevation_deg: ``(lowest, highest)`` beam elevation, degrees.
        sensor_height_m: height of the sensor above the ground, metres.
        object_range_m: ``(nearest, farthest)`` horizontal distance of object centres, metres.
        wall_range_m: ``(nearest, farthest)`` horizontal distance of the building walls, metres.
    """

    name: str
    n_beams: int
    n_azimuths: int
    n_points: int
    n_boxes: int
    elevation_deg: tuple[float, float]
    sensor_height_m: float
    object_range_m: tuple[float, float]
    wall_range_m: tuple[float, float]


#: The frame kinds: a nuScenes-like 32-beam sweep, a Waymo-like 64-beam sweep, a dense 128-beam sweep.
FRAME_SPECS: dict[str, FrameSpec] = {
    "nuscenes": FrameSpec("nuscenes", 32, 1085, 34_720, 50, (-30.67, 10.67), 1.84, (3.0, 50.0), (55.0, 70.0)),
    "waymo": FrameSpec("waymo", 64, 2813, 180_000, 150, (-17.6, 2.4), 2.1, (3.0, 65.0), (70.0, 80.0)),
    "dense": FrameSpec("dense", 128, 7813, 1_000_000, 300, (-25.0, 15.0), 2.0, (3.0, 75.0), (80.0, 95.0)),
}

#: Object classes: name, share of the objects, mean ``(length, width, height)`` in metres.
_CLASSES: tuple[tuple[str, float, tuple[float, float, float]], ...] = (
    ("vehicle.car", 0.6, (4.6, 1.95, 1.7)),
    ("human.pedestrian.adult", 0.25, (0.75, 0.7, 1.75)),
    ("vehicle.truck", 0.15, (9.0, 2.6, 3.4)),
)
#: Standard deviation of the range noise, metres.
RANGE_NOISE_M = 0.02
#: Share of returns replaced by clutter points.
CLUTTER_FRACTION = 0.003
#: How much larger than the object each labelled box is, on every side, metres.
LABEL_SLACK_M = 0.05


@dataclass(frozen=True, eq=False)
class SyntheticFrame:
    """One synthetic LiDAR sweep with its labelled boxes, LiDAR frame.

    Attributes:
        name: the frame kind.
        points: ``(N, 5)`` float32 ``x, y, z`` (metres), intensity (0..255) and ring index, as a nuScenes
            ``.pcd.bin`` holds them.
        boxes: the ``M`` labelled boxes.
        quat_wxyz: ``(M, 4)`` float64 box orientations (the same rotations as ``boxes.rotations``).
        categories: ``M`` class names.
        ground: ``(N,)`` bool, points that hit the ground plane (what a ground filter would mark).
    """

    name: str
    points: Float32Array
    boxes: BoxArrays
    quat_wxyz: FloatArray
    categories: tuple[str, ...]
    ground: BoolArray


def make_frame(name: str, seed: int = 0) -> SyntheticFrame:
    """Make the synthetic frame of kind ``name`` (a key of :data:`FRAME_SPECS`); same seed, same frame."""
    if name not in FRAME_SPECS:
        raise ValueError(f"unknown synthetic frame {name!r}; known: {', '.join(FRAME_SPECS)}")
    spec = FRAME_SPECS[name]
    rng = np.random.default_rng(seed)
    centers, sizes, yaws, categories = _place_objects(spec, rng)
    quat = quaternion.from_yaw(yaws)
    rotations = quaternion.to_matrix(quat)

    elevations = np.deg2rad(np.linspace(spec.elevation_deg[0], spec.elevation_deg[1], spec.n_beams))
    azimuths = 2.0 * np.pi * np.arange(spec.n_azimuths) / spec.n_azimuths
    # Azimuth-major: all beams of one firing, then the next firing.
    cos_el = np.cos(elevations)[None, :]
    directions = np.stack(
        [
            cos_el * np.cos(azimuths)[:, None],
            cos_el * np.sin(azimuths)[:, None],
            np.broadcast_to(np.sin(elevations)[None, :], (spec.n_azimuths, spec.n_beams)),
        ],
        axis=-1,
    )
    ring = np.broadcast_to(np.arange(spec.n_beams)[None, :], (spec.n_azimuths, spec.n_beams))

    # Walls: a ring of buildings whose distance varies with azimuth.
    wall_lo, wall_hi = spec.wall_range_m
    phase = rng.uniform(0.0, 2.0 * np.pi, 3)
    wobble = (
        np.sin(3 * azimuths + phase[0])
        + 0.5 * np.sin(7 * azimuths + phase[1])
        + 0.3 * np.sin(17 * azimuths + phase[2])
    ) / 1.8
    wall_distance = wall_lo + (wall_hi - wall_lo) * 0.5 * (1.0 + wobble)
    t_hit = np.broadcast_to(wall_distance[:, None] / cos_el, (spec.n_azimuths, spec.n_beams)).copy()
    is_ground = np.zeros(t_hit.shape, dtype=bool)

    down = directions[..., 2] < 0
    t_ground = np.full(t_hit.shape, np.inf)
    t_ground[down] = -spec.sensor_height_m / directions[..., 2][down]
    closer = t_ground < t_hit
    t_hit = np.where(closer, t_ground, t_hit)
    is_ground |= closer

    # Objects: the labelled box shrunk by the label slack on every side, standing on the ground.
    object_sizes = sizes - 2.0 * LABEL_SLACK_M
    for j in range(centers.shape[0]):
        columns = _azimuth_columns(centers[j], sizes[j], yaws[j], spec.n_azimuths)
        t_box = _ray_box_distance(directions[columns], centers[j], object_sizes[j], rotations[j])
        closer = t_box < t_hit[columns]
        t_hit[columns] = np.where(closer, t_box, t_hit[columns])
        is_ground[columns] &= ~closer

    t_noisy = t_hit + rng.normal(0.0, RANGE_NOISE_M, t_hit.shape)
    xyz = (directions * t_noisy[..., None]).reshape(-1, 3)
    ring_flat = ring.reshape(-1).astype(np.float64)
    ground = is_ground.reshape(-1)
    intensity = np.where(ground, rng.uniform(2.0, 20.0, ground.size), rng.uniform(5.0, 255.0, ground.size))

    clutter = rng.random(ground.size) < CLUTTER_FRACTION
    n_clutter = int(np.count_nonzero(clutter))
    xyz[clutter] = np.column_stack(
        [
            rng.uniform(-40.0, 40.0, n_clutter),
            rng.uniform(-40.0, 40.0, n_clutter),
            rng.uniform(-spec.sensor_height_m, 3.0, n_clutter),
        ]
    )
    ground[clutter] = False

    keep = np.ones(ground.size, dtype=bool)
    n_drop = ground.size - spec.n_points
    if n_drop < 0:
        raise ValueError(f"frame {name}: {ground.size} rays cannot give {spec.n_points} points")
    keep[rng.choice(ground.size, n_drop, replace=False)] = False

    points = np.column_stack([xyz, intensity, ring_flat])[keep].astype(np.float32)
    # The boxes carry the rotations rebuilt from the stored quaternions, as a loader would produce them.
    boxes = BoxArrays(centers, sizes, quaternion.to_matrix(quat))
    return SyntheticFrame(name, points, boxes, quat, tuple(categories), ground[keep])


def _place_objects(
    spec: FrameSpec, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray, list[str]]:
    """Non-overlapping labelled boxes on the ground: centres, sizes, yaws (radians) and class names."""
    names = [c[0] for c in _CLASSES]
    shares = np.array([c[1] for c in _CLASSES])
    mean_sizes = np.array([c[2] for c in _CLASSES])
    centers: list[FloatArray] = []
    sizes: list[FloatArray] = []
    yaws: list[float] = []
    categories: list[str] = []
    radii: list[float] = []
    near, far = spec.object_range_m
    while len(centers) < spec.n_boxes:
        k = int(rng.choice(len(_CLASSES), p=shares))
        size = mean_sizes[k] * rng.uniform(0.9, 1.1, 3) + 2.0 * LABEL_SLACK_M
        # Uniform over the annulus area, so far objects are as common as the area they cover.
        distance = np.sqrt(rng.uniform(near**2, far**2))
        bearing = rng.uniform(0.0, 2.0 * np.pi)
        xy = distance * np.array([np.cos(bearing), np.sin(bearing)])
        radius = 0.5 * float(np.hypot(size[0], size[1])) + 0.3
        if any(np.hypot(*(xy - c[:2])) < radius + r for c, r in zip(centers, radii, strict=True)):
            continue
        center = np.array([xy[0], xy[1], -spec.sensor_height_m + 0.5 * size[2]])
        centers.append(center)
        sizes.append(size)
        yaws.append(float(rng.uniform(-np.pi, np.pi)))
        categories.append(names[k])
        radii.append(radius)
    return np.array(centers), np.array(sizes), np.array(yaws), categories


def _azimuth_columns(center: FloatArray, size: FloatArray, yaw: float, n_azimuths: int) -> IntArray:
    """Return the firings whose azimuth can see the box (its horizontal angular span, wrapped)."""
    c, s = np.cos(yaw), np.sin(yaw)
    corners = np.array([[sx * size[0] / 2, sy * size[1] / 2] for sx in (-1, 1) for sy in (-1, 1)])
    xy = center[:2] + corners @ np.array([[c, s], [-s, c]])
    middle = np.arctan2(center[1], center[0])
    offsets = np.angle(np.exp(1j * (np.arctan2(xy[:, 1], xy[:, 0]) - middle)))
    step = 2.0 * np.pi / n_azimuths
    first = int(np.floor((middle + offsets.min()) / step)) - 1
    last = int(np.ceil((middle + offsets.max()) / step)) + 1
    return np.arange(first, last + 1) % n_azimuths


def _ray_box_distance(
    directions: FloatArray, center: FloatArray, size: FloatArray, rotation: FloatArray
) -> FloatArray:
    """Distance along unit rays from the origin to an oriented box (slab method); ``inf`` for a miss."""
    origin_local = rotation.T @ (-center)
    directions_local = directions @ rotation
    half = size / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-half - origin_local) / directions_local
        t2 = (half - origin_local) / directions_local
    t_near = np.nanmax(np.minimum(t1, t2), axis=-1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=-1)
    hit = (t_near <= t_far) & (t_near > 0)
    return np.where(hit, t_near, np.inf)

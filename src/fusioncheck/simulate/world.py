"""The simulated world: a road, the motions of the ego and the objects, object shapes and static clutter.

Frames and units: the global frame is metric (x, y on the ground, z up); the ground is the plane
``z = 0``. Times ``t_s`` are seconds relative to the scene's first keyframe (they may be negative: the
first LiDAR sweep and camera frames start before it). The ego frame is nuScenes': origin on the ground
below the rear axle, x forward, y left, z up.

Everything moves along one road, described by its centreline as a function of arc length ``s`` and a
lateral offset ``d`` (positive to the left of increasing ``s``). Traffic drives on the right:

==============  =====================================================================
``|d|`` metres  use
==============  =====================================================================
0 .. 7          four lanes, centres at ``d = -5.25, -1.75`` (towards +s), ``+1.75, +5.25`` (towards -s)
7 .. 8.6        bike lanes (cyclists, traffic cones)
8.6 .. 11       parking bays (parked cars and trucks, barriers)
11 .. 15        sidewalks (pedestrians, poles at 11.5, parked bicycles at the building side)
15 .. 17        planting strip (bushes and trees, when ``SimConfig.vegetation`` is on)
17 ..           buildings (clutter)
==============  =====================================================================

Objects are the true geometry: each is one or more boxes ("parts") inside its labelled box, which sits
on the ground (box bottom at ``z = 0``). A car is a full-footprint body with a narrower, shorter cabin
on top, a truck a cargo box and a lower cab, a bus a body with a roof unit, a pedestrian a body narrower
than the box plus a head, a cyclist a thin frame plus a rider, a cone a base plate plus a narrower body.
So "points fill the box" holds only as far as it does for real objects.

Motions are analytic (speed profiles with closed-form distance), so the state of anything is exact at
any time; no motion is integrated numerically. No two objects (nor an object and the ego) overlap at
any time of the scene: candidates whose footprints would touch are rejected while populating.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from fusioncheck.geometry.se3 import SE3
from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.determinism import make_rng
from fusioncheck.simulate.taxonomy import CLASS_PRIORS
from fusioncheck.typing import FloatArray, IntArray

#: Lane centres (lateral offset, metres) and their driving direction along ``s``.
LANES: tuple[tuple[float, int], ...] = ((-5.25, 1), (-1.75, 1), (1.75, -1), (5.25, -1))
EGO_LANE_D_M = -1.75
ROAD_EDGE_M = 7.0
BIKE_LANE_D_M = 7.8
PARKING_M = (8.6, 11.0)
SIDEWALK_M = (11.0, 15.0)
POLE_D_M = 11.5
BUILDING_FRONT_M = (17.0, 19.0)

#: Ego footprint (length, width) and the offset of its centre ahead of the ego origin (rear axle).
EGO_FOOTPRINT_M = (4.9, 2.0)
EGO_CENTER_AHEAD_M = 1.4

#: Time step of central differences for velocities, seconds (errors ~1e-6 m/s on these smooth paths).
VELOCITY_DT_S = 1e-3

_COLLISION_MARGIN_M = 0.3


def yaw_matrices(yaw_rad: FloatArray) -> FloatArray:
    """Rotations about z, ``(..., 3, 3)``, of yaws ``(...)`` in radians."""
    yaw = np.asarray(yaw_rad, dtype=np.float64)
    c, s = np.cos(yaw), np.sin(yaw)
    m = np.zeros((*yaw.shape, 3, 3))
    m[..., 0, 0], m[..., 0, 1] = c, -s
    m[..., 1, 0], m[..., 1, 1] = s, c
    m[..., 2, 2] = 1.0
    return m


# --------------------------------------------------------------------------------------------- road


@dataclass(frozen=True, eq=False)
class Road:
    """A road centreline sampled at uniform arc length, linearly interpolated between samples.

    Attributes:
        s_start_m: arc length of the first sample, metres.
        step_m: arc-length step between samples, metres.
        xy_m: ``(G, 2)`` float64 centreline points, metres, global frame.
        heading_rad: ``(G,)`` float64 centreline heading (unwrapped), radians from global x.
    """

    s_start_m: float
    step_m: float
    xy_m: FloatArray
    heading_rad: FloatArray

    def frame(self, s_m: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Centreline point ``(..., 2)`` and heading ``(...)`` at arc lengths ``s_m`` ``(...)``."""
        s = np.asarray(s_m, dtype=np.float64)
        f = (s - self.s_start_m) / self.step_m
        i = np.clip(np.floor(f).astype(np.int64), 0, self.heading_rad.size - 2)
        w = f - i
        xy = (1.0 - w)[..., None] * self.xy_m[i] + w[..., None] * self.xy_m[i + 1]
        heading = (1.0 - w) * self.heading_rad[i] + w * self.heading_rad[i + 1]
        return xy, heading

    def point(self, s_m: FloatArray, d_m: FloatArray | float) -> FloatArray:
        """Point ``(..., 2)`` at arc length ``s_m`` and lateral offset ``d_m`` (left positive), metres."""
        xy, heading = self.frame(s_m)
        d = np.asarray(d_m, dtype=np.float64)
        normal = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
        return xy + d[..., None] * normal

    @property
    def s_end_m(self) -> float:
        """Arc length of the last sample, metres."""
        return self.s_start_m + self.step_m * (self.heading_rad.size - 1)


def make_road(
    rng: np.random.Generator, s_min_m: float, s_max_m: float, curvature_per_m: float, origin_xy_m: FloatArray
) -> Road:
    """Make a smooth road whose curvature is a sum of two sinusoids of total amplitude ``curvature_per_m``.

    The centreline passes ``origin_xy_m`` at ``s = 0`` with a random heading.
    """
    step = 0.1
    n_before = int(np.ceil(-s_min_m / step))
    n_after = int(np.ceil(s_max_m / step))
    s = step * np.arange(-n_before, n_after + 1)
    weights = np.array([0.7, 0.3])
    wavelengths = np.array([rng.uniform(150.0, 400.0), rng.uniform(60.0, 150.0)])
    phases = rng.uniform(0.0, 2 * np.pi, 2)
    kappa = np.sum(
        curvature_per_m
        * weights[:, None]
        * np.sin(2 * np.pi * s[None, :] / wavelengths[:, None] + phases[:, None]),
        axis=0,
    )
    heading = np.concatenate([[0.0], np.cumsum(0.5 * (kappa[1:] + kappa[:-1]) * step)])
    heading += rng.uniform(-np.pi, np.pi) - heading[n_before]
    dx, dy = np.cos(heading), np.sin(heading)
    x = np.concatenate([[0.0], np.cumsum(0.5 * (dx[1:] + dx[:-1]) * step)])
    y = np.concatenate([[0.0], np.cumsum(0.5 * (dy[1:] + dy[:-1]) * step)])
    xy = np.stack([x - x[n_before], y - y[n_before]], axis=1) + np.asarray(origin_xy_m, dtype=np.float64)
    return Road(float(s[0]), step, xy, heading)


# ---------------------------------------------------------------------------------------- motions


@dataclass(frozen=True)
class SpeedProfile:
    """Speed ``v(t) = base + sum_k a_k sin(2 pi t / P_k + phi_k)``, never negative (``base >= sum |a_k|``).

    Attributes:
        base_mps: mean speed, m/s.
        amplitudes_mps: sinusoid amplitudes, m/s.
        periods_s: sinusoid periods, seconds.
        phases_rad: sinusoid phases, radians.
    """

    base_mps: float = 0.0
    amplitudes_mps: tuple[float, ...] = ()
    periods_s: tuple[float, ...] = ()
    phases_rad: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.base_mps < sum(abs(a) for a in self.amplitudes_mps) - 1e-12:
            raise ValueError("speed profile would go negative: base_mps < sum of |amplitudes|")

    def speed(self, t_s: FloatArray) -> FloatArray:
        """Speed ``(...)`` in m/s at times ``t_s`` ``(...)``."""
        t = np.asarray(t_s, dtype=np.float64)
        v = np.full(t.shape, self.base_mps)
        for a, p, phi in zip(self.amplitudes_mps, self.periods_s, self.phases_rad, strict=True):
            v = v + a * np.sin(2 * np.pi * t / p + phi)
        return v

    def distance(self, t_s: FloatArray) -> FloatArray:
        """Distance ``(...)`` travelled from ``t = 0`` to ``t_s`` (negative before 0), metres."""
        t = np.asarray(t_s, dtype=np.float64)
        dist = self.base_mps * t
        for a, p, phi in zip(self.amplitudes_mps, self.periods_s, self.phases_rad, strict=True):
            w = 2 * np.pi / p
            dist = dist + (a / w) * (np.cos(phi) - np.cos(w * t + phi))
        return np.asarray(dist)


@dataclass(frozen=True)
class LaneMotion:
    """Motion along the road at a fixed lateral offset, heading along the road.

    Attributes:
        s0_m: arc length at ``t = 0``, metres.
        d_m: lateral offset, metres (left positive).
        direction: +1 drives towards increasing ``s``, -1 towards decreasing ``s``.
        speed: speed profile along the road (zero for static objects).
        yaw_offset_rad: heading relative to the driving direction (0 for movers; any for static objects).
    """

    s0_m: float
    d_m: float
    direction: int = 1
    speed: SpeedProfile = field(default_factory=SpeedProfile)
    yaw_offset_rad: float = 0.0

    def arc_length(self, t_s: FloatArray) -> FloatArray:
        """Arc length ``(...)`` at times ``t_s``, metres."""
        return np.asarray(self.s0_m + self.direction * self.speed.distance(t_s))

    def pose(self, road: Road, t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Ground position ``(..., 2)`` (metres, global) and heading ``(...)`` (radians) at times ``t_s``."""
        s = self.arc_length(t_s)
        xy = road.point(s, self.d_m)
        _, heading = road.frame(s)
        yaw = heading + (0.0 if self.direction > 0 else np.pi) + self.yaw_offset_rad
        return xy, yaw

    @property
    def is_static(self) -> bool:
        """True when the object never moves."""
        return self.speed.base_mps == 0.0


# ------------------------------------------------------------------------------------------ shapes


def shape_parts(kind: str, size_lwh_m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Parts of an object of ``kind`` whose labelled box has size ``(l, w, h)``.

    Returns:
        offsets: ``(P, 3)`` part centres in the object's box frame (origin at the box centre), metres.
        sizes: ``(P, 3)`` part ``(length, width, height)``, metres. Every part lies inside the box and
        the parts' union touches all six faces of the box, so the box is their tight bounding box --
        except for pedestrians, whose box leaves room for swinging limbs (80 % of its length and 75 % of
        its width are body), as pedestrian labels do.
    """
    ln, w, h = (float(v) for v in size_lwh_m)
    parts: list[tuple[tuple[float, float, float], tuple[float, float, float]]]
    if kind == "car":
        parts = [((0.0, 0.0, -0.5 * h + 0.29 * h), (ln, w, 0.58 * h)),
                 ((-0.06 * ln, 0.0, 0.5 * h - 0.21 * h), (0.52 * ln, 0.86 * w, 0.42 * h))]  # fmt: skip
    elif kind == "truck":
        parts = [((-0.15 * ln, 0.0, 0.0), (0.70 * ln, w, h)),
                 ((0.365 * ln, 0.0, -0.5 * h + 0.39 * h), (0.27 * ln, 0.94 * w, 0.78 * h))]  # fmt: skip
    elif kind == "bus":
        parts = [((0.0, 0.0, -0.04 * h), (ln, w, 0.92 * h)),
                 ((0.1 * ln, 0.0, 0.46 * h), (0.35 * ln, 0.7 * w, 0.08 * h))]  # fmt: skip
    elif kind in ("bicycle", "motorcycle"):
        frame_w = 0.3 if kind == "bicycle" else 0.5
        parts = [((0.0, 0.0, -0.5 * h + 0.275 * h), (ln, frame_w * w, 0.55 * h)),
                 ((-0.1 * ln, 0.0, 0.2 * h), (0.4 * ln, w, 0.6 * h))]  # fmt: skip
    elif kind == "bicycle_parked":
        parts = [((0.0, 0.0, 0.0), (ln, w, h))]
    elif kind == "pedestrian":
        parts = [((0.0, 0.0, -0.07 * h), (0.8 * ln, 0.75 * w, 0.86 * h)),
                 ((0.0, 0.0, 0.43 * h), (0.35 * ln, 0.35 * w, 0.14 * h))]  # fmt: skip
    elif kind == "cone":
        parts = [((0.0, 0.0, -0.475 * h), (ln, w, 0.05 * h)),
                 ((0.0, 0.0, 0.025 * h), (0.55 * ln, 0.55 * w, 0.95 * h))]  # fmt: skip
    elif kind == "barrier":
        parts = [((0.0, 0.0, 0.0), (ln, w, h))]
    else:
        raise ValueError(f"unknown object kind {kind!r}")
    offsets = np.array([p[0] for p in parts], dtype=np.float64)
    sizes = np.array([p[1] for p in parts], dtype=np.float64)
    return offsets, sizes


_CAR_COLORS_BGR = np.array(
    [[235, 235, 235], [190, 190, 195], [35, 35, 38], [120, 120, 125], [40, 40, 190], [150, 70, 30],
     [90, 40, 20], [60, 110, 40], [40, 200, 230], [20, 90, 160]],
    dtype=np.uint8,
)  # fmt: skip
_CLOTHES_BGR = np.array(
    [[40, 40, 40], [140, 60, 20], [30, 30, 170], [200, 200, 200], [60, 120, 60], [30, 140, 200]],
    dtype=np.uint8,
)  # fmt: skip


def _part_colors(kind: str, n_parts: int, rng: np.random.Generator) -> np.ndarray:
    """Pick the base colours ``(P, 3)`` uint8 BGR of an object's parts."""
    if kind == "car":
        body = _CAR_COLORS_BGR[rng.integers(len(_CAR_COLORS_BGR))]
        return np.array([body, [70, 60, 55]], dtype=np.uint8)
    if kind == "truck":
        cargo = np.array([[225, 225, 225], [170, 170, 170], [60, 120, 200]], dtype=np.uint8)[rng.integers(3)]
        return np.array([cargo, _CAR_COLORS_BGR[rng.integers(len(_CAR_COLORS_BGR))]], dtype=np.uint8)
    if kind == "bus":
        body = np.array([[40, 40, 180], [220, 220, 220], [40, 150, 60]], dtype=np.uint8)[rng.integers(3)]
        return np.array([body, [150, 150, 150]], dtype=np.uint8)
    if kind in ("bicycle", "motorcycle"):
        return np.array([[50, 50, 50], _CLOTHES_BGR[rng.integers(len(_CLOTHES_BGR))]], dtype=np.uint8)
    if kind == "pedestrian":
        return np.array([_CLOTHES_BGR[rng.integers(len(_CLOTHES_BGR))], [120, 150, 200]], dtype=np.uint8)
    if kind == "cone":
        return np.array([[30, 30, 30], [0, 110, 255]], dtype=np.uint8)
    if kind == "barrier":
        return np.array([[60, 60, 210]], dtype=np.uint8)
    return np.full((n_parts, 3), 128, dtype=np.uint8)


# ----------------------------------------------------------------------------------------- objects


@dataclass(frozen=True, eq=False)
class SimObject:
    """One simulated object: its labelled box size, its motion and its geometry.

    Attributes:
        kind: shape name (``car``, ``truck``, ``bus``, ``motorcycle``, ``bicycle``, ``bicycle_parked``,
            ``pedestrian``, ``cone``, ``barrier``).
        category: nuScenes category name.
        size_lwh_m: ``(3,)`` true box ``(length, width, height)``, metres.
        motion: how its box's bottom centre moves.
        part_offsets_m: ``(P, 3)`` part centres in the box frame, metres.
        part_sizes_m: ``(P, 3)`` part ``(length, width, height)``, metres.
        part_colors_bgr: ``(P, 3)`` uint8 part base colours for the cameras.
        parked: placed in a parking bay (attribute ``vehicle.parked``) rather than stopped in traffic.
        rcs_dbsm: radar cross-section, dBsm.
    """

    kind: str
    category: str
    size_lwh_m: FloatArray
    motion: LaneMotion
    part_offsets_m: FloatArray
    part_sizes_m: FloatArray
    part_colors_bgr: np.ndarray
    parked: bool
    rcs_dbsm: float

    @property
    def reflectivity(self) -> float:
        """LiDAR reflectivity 0..1."""
        return CLASS_PRIORS[self.kind].lidar_reflectivity


@dataclass(frozen=True, eq=False)
class StaticParts:
    """Unlabelled static structures (clutter): poles and buildings, as boxes standing on the ground.

    Attributes:
        centers_m: ``(C, 3)`` box centres, metres, global frame.
        yaws_rad: ``(C,)`` headings, radians.
        sizes_m: ``(C, 3)`` ``(length, width, height)``, metres.
        colors_bgr: ``(C, 3)`` uint8 base colours.
        reflectivity: ``(C,)`` LiDAR reflectivity 0..1.
        rcs_dbsm: ``(C,)`` radar cross-section, dBsm.
        is_pole: ``(C,)`` bool, pole (True) or building (False).
    """

    centers_m: FloatArray
    yaws_rad: FloatArray
    sizes_m: FloatArray
    colors_bgr: np.ndarray
    reflectivity: FloatArray
    rcs_dbsm: FloatArray
    is_pole: np.ndarray

    @staticmethod
    def empty() -> StaticParts:
        """No clutter."""
        z = np.zeros((0, 3))
        return StaticParts(
            z, np.zeros(0), z, np.zeros((0, 3), np.uint8), np.zeros(0), np.zeros(0), np.zeros(0, bool)
        )

    def __len__(self) -> int:
        return int(self.yaws_rad.size)

    def concat(self, other: StaticParts) -> StaticParts:
        """Return these parts followed by ``other``'s."""
        return StaticParts(
            np.concatenate([self.centers_m, other.centers_m]),
            np.concatenate([self.yaws_rad, other.yaws_rad]),
            np.concatenate([self.sizes_m, other.sizes_m]),
            np.concatenate([self.colors_bgr, other.colors_bgr]),
            np.concatenate([self.reflectivity, other.reflectivity]),
            np.concatenate([self.rcs_dbsm, other.rcs_dbsm]),
            np.concatenate([self.is_pole, other.is_pole]),
        )


@dataclass(frozen=True, eq=False)
class PartTable:
    """Every box of the world's geometry (object parts first, then static parts).

    Attributes:
        sizes_m: ``(P, 3)`` ``(length, width, height)``, metres.
        owners: ``(P,)`` int64 object index for object parts, -1 for static clutter.
        colors_bgr: ``(P, 3)`` uint8 base colours.
        reflectivity: ``(P,)`` LiDAR reflectivity 0..1.
        n_object_parts: the first ``n_object_parts`` parts belong to objects.
    """

    sizes_m: FloatArray
    owners: IntArray
    colors_bgr: np.ndarray
    reflectivity: FloatArray
    n_object_parts: int

    def __len__(self) -> int:
        return int(self.owners.size)

    def owner_of(self, hits: IntArray, default: int) -> IntArray:
        """Object index of each hit code ``(N,)`` (-1 for clutter parts, ``default`` for ground/miss)."""
        out = np.full(hits.shape, default, dtype=np.int64)
        mask = hits >= 0
        out[mask] = self.owners[hits[mask]]
        return out


@dataclass(frozen=True, eq=False)
class World:
    """A scene's world: road, ego motion, objects and clutter. Immutable; states are exact at any time.

    Attributes:
        road: the road every motion follows.
        ego: the ego's motion (its origin, below the rear axle, on the ground).
        objects: the objects (true geometry and labelled-box size).
        static: unlabelled clutter.
        description: one line about the scene (written to ``scene.description``).
    """

    road: Road
    ego: LaneMotion
    objects: tuple[SimObject, ...]
    static: StaticParts
    description: str = ""

    # ---- ego

    def ego_pose(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Ego origin ``(..., 2)`` on the ground (metres, global) and yaw ``(...)`` at times ``t_s``."""
        return self.ego.pose(self.road, t_s)

    def global_from_ego(self, t_s: float) -> SE3:
        """Return the ego pose at ``t_s`` (flat ground: z = 0, yaw only)."""
        xy, yaw = self.ego_pose(np.array([t_s]))
        return SE3(yaw_matrices(yaw[0]), np.array([xy[0, 0], xy[0, 1], 0.0]))

    def global_from_ego_many(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Ego rotations ``(T, 3, 3)`` and translations ``(T, 3)`` at times ``t_s`` ``(T,)``."""
        xy, yaw = self.ego_pose(np.asarray(t_s, dtype=np.float64))
        translation = np.concatenate([xy, np.zeros((xy.shape[0], 1))], axis=1)
        return yaw_matrices(yaw), translation

    # ---- objects

    @cached_property
    def _motions(self) -> dict[str, FloatArray]:
        """The objects' motion parameters as arrays (sinusoids padded with zero amplitude)."""
        n_terms = max([len(o.motion.speed.amplitudes_mps) for o in self.objects] + [1])

        def padded(values: tuple[float, ...], fill: float) -> list[float]:
            return list(values) + [fill] * (n_terms - len(values))

        objs = self.objects
        return {
            "s0": np.array([o.motion.s0_m for o in objs], dtype=np.float64),
            "d": np.array([o.motion.d_m for o in objs], dtype=np.float64),
            "direction": np.array([o.motion.direction for o in objs], dtype=np.float64),
            "base": np.array([o.motion.speed.base_mps for o in objs], dtype=np.float64),
            "amp": np.array(
                [padded(o.motion.speed.amplitudes_mps, 0.0) for o in objs], dtype=np.float64
            ).reshape(-1, n_terms),
            "omega": 2
            * np.pi
            / np.array([padded(o.motion.speed.periods_s, 1.0) for o in objs], dtype=np.float64).reshape(
                -1, n_terms
            ),
            "phase": np.array(
                [padded(o.motion.speed.phases_rad, 0.0) for o in objs], dtype=np.float64
            ).reshape(-1, n_terms),
            "yaw_offset": np.array(
                [o.motion.yaw_offset_rad + (0.0 if o.motion.direction > 0 else np.pi) for o in objs],
                dtype=np.float64,
            ),
            "half_height": np.array([0.5 * o.size_lwh_m[2] for o in objs], dtype=np.float64),
        }

    def object_poses(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Box centres ``(T, M, 3)`` (metres, global) and yaws ``(T, M)`` of all objects at times ``(T,)``.

        Vectorised form of :meth:`LaneMotion.pose` over all objects (same formulas).
        """
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        m = self._motions
        centers = np.zeros((t.size, len(self.objects), 3))
        if not self.objects:
            return centers, np.zeros((t.size, 0))
        tt = t[:, None, None]
        waves = (m["amp"] / m["omega"]) * (np.cos(m["phase"]) - np.cos(m["omega"] * tt + m["phase"]))
        dist = m["base"] * t[:, None] + waves.sum(axis=2)
        s = m["s0"] + m["direction"] * dist
        xy, heading = self.road.frame(s)
        centers[..., 0] = xy[..., 0] - m["d"] * np.sin(heading)
        centers[..., 1] = xy[..., 1] + m["d"] * np.cos(heading)
        centers[..., 2] = m["half_height"]
        return centers, heading + m["yaw_offset"]

    def object_velocities(self, t_s: float) -> tuple[FloatArray, FloatArray]:
        """Centre velocities ``(M, 3)`` (m/s, global) and yaw rates ``(M,)`` (rad/s) at ``t_s``."""
        c, y = self.object_poses(np.array([t_s - VELOCITY_DT_S, t_s + VELOCITY_DT_S]))
        velocity = (c[1] - c[0]) / (2 * VELOCITY_DT_S)
        yaw_rate = np.angle(np.exp(1j * (y[1] - y[0]))) / (2 * VELOCITY_DT_S)
        return velocity, yaw_rate

    # ---- geometry

    @cached_property
    def parts(self) -> PartTable:
        """Every box of the geometry (see :class:`PartTable`)."""
        sizes = [o.part_sizes_m for o in self.objects] + [self.static.sizes_m]
        owners = [np.full(o.part_sizes_m.shape[0], m, dtype=np.int64) for m, o in enumerate(self.objects)]
        owners.append(np.full(len(self.static), -1, dtype=np.int64))
        colors = [o.part_colors_bgr for o in self.objects] + [self.static.colors_bgr]
        refl = [np.full(o.part_sizes_m.shape[0], o.reflectivity) for o in self.objects]
        refl.append(self.static.reflectivity)
        n_obj = int(sum(o.part_sizes_m.shape[0] for o in self.objects))
        return PartTable(
            np.concatenate(sizes).reshape(-1, 3),
            np.concatenate(owners),
            np.concatenate(colors).reshape(-1, 3).astype(np.uint8),
            np.concatenate(refl),
            n_obj,
        )

    @cached_property
    def _part_offsets(self) -> FloatArray:
        if not self.objects:
            return np.zeros((0, 3))
        return np.concatenate([o.part_offsets_m for o in self.objects])

    def part_poses(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Part centres ``(T, P, 3)`` (metres, global) and yaws ``(T, P)`` at times ``(T,)``."""
        t = np.atleast_1d(np.asarray(t_s, dtype=np.float64))
        parts = self.parts
        centers = np.empty((t.size, len(parts), 3))
        yaws = np.empty((t.size, len(parts)))
        n_obj = parts.n_object_parts
        if n_obj:
            oc, oy = self.object_poses(t)
            owner = parts.owners[:n_obj]
            py = oy[:, owner]
            off = self._part_offsets
            c, s = np.cos(py), np.sin(py)
            centers[:, :n_obj, 0] = oc[:, owner, 0] + c * off[:, 0] - s * off[:, 1]
            centers[:, :n_obj, 1] = oc[:, owner, 1] + s * off[:, 0] + c * off[:, 1]
            centers[:, :n_obj, 2] = oc[:, owner, 2] + off[:, 2]
            yaws[:, :n_obj] = py
        centers[:, n_obj:] = self.static.centers_m[None]
        yaws[:, n_obj:] = self.static.yaws_rad[None]
        return centers, yaws


# ------------------------------------------------------------------------------------- generation


def rects_overlap(
    c1: FloatArray, yaw1: FloatArray, half1: FloatArray, c2: FloatArray, yaw2: FloatArray, half2: FloatArray
) -> np.ndarray:
    """Separating-axis test of oriented ground rectangles, broadcast over leading dimensions.

    ``c*``: ``(..., 2)`` centres; ``yaw*``: ``(...)``; ``half*``: ``(..., 2)`` half length/width.
    Returns a bool array, True where the rectangles overlap.
    """
    u1 = np.stack([np.cos(yaw1), np.sin(yaw1)], -1)
    v1 = np.stack([-np.sin(yaw1), np.cos(yaw1)], -1)
    u2 = np.stack([np.cos(yaw2), np.sin(yaw2)], -1)
    v2 = np.stack([-np.sin(yaw2), np.cos(yaw2)], -1)
    d = c2 - c1
    separated = np.zeros(np.broadcast_shapes(d.shape[:-1], u1.shape[:-1], u2.shape[:-1]), dtype=bool)
    for axis in (u1, v1, u2, v2):
        dist = np.abs(np.sum(d * axis, -1))
        r1 = half1[..., 0] * np.abs(np.sum(u1 * axis, -1)) + half1[..., 1] * np.abs(np.sum(v1 * axis, -1))
        r2 = half2[..., 0] * np.abs(np.sum(u2 * axis, -1)) + half2[..., 1] * np.abs(np.sum(v2 * axis, -1))
        separated |= dist > r1 + r2
    return ~separated


@dataclass
class _Occupancy:
    """Footprints over time of everything placed so far, to reject overlapping candidates."""

    times_s: FloatArray
    centers: list[FloatArray] = field(default_factory=list)  # each (T, 2)
    yaws: list[FloatArray] = field(default_factory=list)  # each (T,)
    halves: list[FloatArray] = field(default_factory=list)  # each (2,)

    def add(self, centers: FloatArray, yaws: FloatArray, half: FloatArray) -> None:
        self.centers.append(np.broadcast_to(centers, (self.times_s.size, 2)))
        self.yaws.append(np.broadcast_to(yaws, (self.times_s.size,)))
        self.halves.append(np.asarray(half, dtype=np.float64))

    def collides(self, centers: FloatArray, yaws: FloatArray, half: FloatArray) -> bool:
        if not self.centers:
            return False
        c2 = np.stack(self.centers)  # (A, T, 2)
        y2 = np.stack(self.yaws)
        h2 = np.stack(self.halves)[:, None, :]
        hit = rects_overlap(centers[None], yaws[None], np.asarray(half)[None, None, :], c2, y2, h2)
        return bool(np.any(hit))


_KIND_WEIGHTS: dict[str, float] = {
    "car_parked": 0.19, "car_moving": 0.22, "truck": 0.06, "bus": 0.03, "motorcycle": 0.03,
    "bicycle": 0.05, "bicycle_parked": 0.02, "pedestrian": 0.20, "cone": 0.10, "barrier": 0.10,
}  # fmt: skip


def _sample_size(kind: str, rng: np.random.Generator) -> FloatArray:
    prior = CLASS_PRIORS[kind]
    mean = np.array(prior.size_lwh_m)
    rel = np.clip(
        rng.normal(0.0, prior.spread_rel), -2.0 * np.array(prior.spread_rel), 2.0 * np.array(prior.spread_rel)
    )
    return np.asarray(mean * (1.0 + rel))


def _speed_profile(rng: np.random.Generator, base: float, rel_amplitude: float) -> SpeedProfile:
    if base <= 0.0:
        return SpeedProfile()
    amplitude = base * rel_amplitude * rng.uniform(0.3, 1.0)
    return SpeedProfile(base, (amplitude,), (rng.uniform(6.0, 20.0),), (rng.uniform(0.0, 2 * np.pi),))


def _ego_motion(rng: np.random.Generator) -> tuple[LaneMotion, str]:
    mode = rng.choice(["urban", "fast", "stop_and_go", "stationary"], p=[0.55, 0.2, 0.15, 0.1])
    if mode == "urban":
        base = rng.uniform(4.0, 11.0)
        speed = SpeedProfile(base, (0.3 * base,), (rng.uniform(8.0, 25.0),), (rng.uniform(0, 2 * np.pi),))
    elif mode == "fast":
        base = rng.uniform(13.0, 17.0)
        speed = SpeedProfile(base, (0.2 * base,), (rng.uniform(10.0, 25.0),), (rng.uniform(0, 2 * np.pi),))
    elif mode == "stop_and_go":
        base = rng.uniform(2.5, 5.0)
        speed = SpeedProfile(base, (base,), (rng.uniform(8.0, 14.0),), (rng.uniform(0, 2 * np.pi),))
    else:
        speed = SpeedProfile()
    return LaneMotion(0.0, EGO_LANE_D_M, 1, speed), str(mode)


def _make_static(rng: np.random.Generator, road: Road, s_lo: float, s_hi: float) -> StaticParts:
    centers, yaws, sizes, colors, refl, rcs, pole = [], [], [], [], [], [], []
    for side in (-1.0, 1.0):
        s = s_lo + rng.uniform(0.0, 20.0)
        while s < s_hi:
            h = rng.uniform(5.0, 8.0)
            xy = road.point(np.array(s), side * POLE_D_M)
            _, heading = road.frame(np.array(s))
            centers.append([xy[0], xy[1], h / 2])
            yaws.append(float(heading))
            sizes.append([0.25, 0.25, h])
            colors.append([110, 110, 115])
            refl.append(0.35)
            rcs.append(rng.normal(5.0, 3.0))
            pole.append(True)
            s += rng.uniform(18.0, 40.0)
        s = s_lo + rng.uniform(-10.0, 5.0)
        while s < s_hi:
            length = rng.uniform(12.0, 35.0)
            depth = rng.uniform(8.0, 14.0)
            h = rng.uniform(5.0, 16.0)
            front = rng.uniform(*BUILDING_FRONT_M)
            sc = s + length / 2
            xy = road.point(np.array(sc), side * (front + depth / 2))
            _, heading = road.frame(np.array(sc))
            centers.append([xy[0], xy[1], h / 2])
            yaws.append(float(heading))
            sizes.append([length, depth, h])
            shade = rng.uniform(0.75, 1.0)
            colors.append([int(150 * shade), int(175 * shade), int(200 * shade)])
            refl.append(0.3)
            rcs.append(rng.normal(12.0, 4.0))
            pole.append(False)
            s += length + rng.uniform(3.0, 12.0)
    return StaticParts(
        np.array(centers, dtype=np.float64).reshape(-1, 3),
        np.array(yaws, dtype=np.float64),
        np.array(sizes, dtype=np.float64).reshape(-1, 3),
        np.array(colors, dtype=np.uint8).reshape(-1, 3),
        np.array(refl, dtype=np.float64),
        np.array(rcs, dtype=np.float64),
        np.array(pole, dtype=bool),
    )


def _make_vegetation(rng: np.random.Generator, road: Road, s_lo: float, s_hi: float) -> StaticParts:
    """Bushes (low, irregular boxes of object-like size) and trees (a trunk and a crown above head height)."""
    centers, yaws, sizes, colors, refl, rcs = [], [], [], [], [], []

    def add(s: float, d: float, size: list[float], z_bottom: float, yaw_jitter: float) -> None:
        xy = road.point(np.array(s), d)
        _, heading = road.frame(np.array(s))
        centers.append([xy[0], xy[1], z_bottom + size[2] / 2])
        yaws.append(float(heading) + yaw_jitter)
        sizes.append(size)
        shade = rng.uniform(0.6, 1.0)
        colors.append([int(40 * shade), int(120 * shade), int(50 * shade)])
        refl.append(0.25)
        rcs.append(rng.normal(-2.0, 3.0))

    for side in (-1.0, 1.0):
        s = s_lo + rng.uniform(0.0, 8.0)
        while s < s_hi:
            d = side * rng.uniform(15.3, 16.7)
            if rng.random() < 0.6:  # a bush, sometimes two overlapping lumps
                for _ in range(int(rng.integers(1, 3))):
                    size = [rng.uniform(0.8, 3.5), rng.uniform(0.6, 1.5), rng.uniform(0.5, 1.8)]
                    add(
                        s + rng.uniform(-0.5, 0.5),
                        d + rng.uniform(-0.3, 0.3),
                        size,
                        0.0,
                        rng.uniform(-0.5, 0.5),
                    )
            else:  # a tree: trunk, crown from 2..3 m up
                trunk = rng.uniform(0.2, 0.45)
                base = rng.uniform(2.0, 3.0)
                add(s, d, [trunk, trunk, base + 0.5], 0.0, 0.0)
                crown = rng.uniform(2.5, 5.0)
                add(s, d, [crown, crown, rng.uniform(2.0, 4.0)], base, rng.uniform(-0.8, 0.8))
            s += rng.uniform(4.0, 14.0)
    n = len(yaws)
    return StaticParts(
        np.array(centers, dtype=np.float64).reshape(-1, 3),
        np.array(yaws, dtype=np.float64),
        np.array(sizes, dtype=np.float64).reshape(-1, 3),
        np.array(colors, dtype=np.uint8).reshape(-1, 3),
        np.array(refl, dtype=np.float64),
        np.array(rcs, dtype=np.float64),
        np.zeros(n, dtype=bool),
    )


def _candidates(
    kind: str, rng: np.random.Generator, ego: LaneMotion, duration_s: float
) -> list[tuple[str, FloatArray, LaneMotion, bool]]:
    """One object (or a row of cones / barriers) of ``kind``: (shape kind, size, motion, parked)."""
    t_m = rng.uniform(0.0, duration_s)
    s_target = float(ego.arc_length(np.array(t_m))) + rng.uniform(-50.0, 60.0)
    side = float(rng.choice([-1.0, 1.0]))

    def mover(d: float, direction: int, speed: SpeedProfile) -> LaneMotion:
        s0 = s_target - direction * float(speed.distance(np.array(t_m)))
        return LaneMotion(s0, d, direction, speed)

    if kind == "car_parked" or (kind == "truck" and rng.random() < 0.4):
        shape = "car" if kind == "car_parked" else "truck"
        size = _sample_size(shape, rng)
        d = side * (PARKING_M[0] + size[1] / 2 + rng.uniform(0.2, 0.5))
        motion = LaneMotion(s_target, d, -int(side), SpeedProfile(), rng.normal(0.0, 0.03))
        return [(shape, size, motion, True)]
    if kind in ("car_moving", "truck", "bus", "motorcycle"):
        shape = "car" if kind == "car_moving" else kind
        size = _sample_size(shape, rng)
        d, direction = LANES[rng.integers(len(LANES))]
        stopped = abs(d) > 5.0 and rng.random() < 0.12
        lo, hi = {"car": (5.0, 14.0), "truck": (4.0, 11.0), "bus": (4.0, 10.0), "motorcycle": (5.0, 14.0)}[
            shape
        ]
        speed = SpeedProfile() if stopped else _speed_profile(rng, rng.uniform(lo, hi), 0.25)
        return [(shape, size, mover(d, direction, speed), False)]
    if kind == "bicycle":
        size = _sample_size("bicycle", rng)
        direction = 1 if side < 0 else -1
        return [
            (
                "bicycle",
                size,
                mover(side * BIKE_LANE_D_M, direction, _speed_profile(rng, rng.uniform(3.0, 6.5), 0.2)),
                False,
            )
        ]
    if kind == "bicycle_parked":
        size = _sample_size("bicycle_parked", rng)
        d = side * rng.uniform(14.0, 14.5)
        return [
            (
                "bicycle_parked",
                size,
                LaneMotion(s_target, d, 1, SpeedProfile(), np.pi / 2 + rng.normal(0, 0.1)),
                True,
            )
        ]
    if kind == "pedestrian":
        size = _sample_size("pedestrian", rng)
        d = side * rng.uniform(SIDEWALK_M[0] + 0.8, SIDEWALK_M[1] - 0.6)
        if rng.random() < 0.7:
            direction = int(rng.choice([-1, 1]))
            return [
                (
                    "pedestrian",
                    size,
                    mover(d, direction, _speed_profile(rng, rng.uniform(0.9, 1.7), 0.1)),
                    False,
                )
            ]
        return [
            (
                "pedestrian",
                size,
                LaneMotion(s_target, d, 1, SpeedProfile(), rng.uniform(-np.pi, np.pi)),
                False,
            )
        ]
    if kind == "cone":
        n = int(rng.integers(3, 7))
        spacing = rng.uniform(2.5, 4.0)
        d = side * rng.uniform(7.4, 8.2)
        return [
            (
                "cone",
                _sample_size("cone", rng),
                LaneMotion(s_target + i * spacing, d, 1, SpeedProfile(), rng.uniform(-np.pi, np.pi)),
                False,
            )
            for i in range(n)
        ]
    if kind == "barrier":
        n = int(rng.integers(2, 6))
        d = side * rng.uniform(9.2, 10.2)
        out = []
        s = s_target
        for _ in range(n):
            size = _sample_size("barrier", rng)
            out.append(
                ("barrier", size, LaneMotion(s, d, 1, SpeedProfile(), np.pi / 2 + rng.normal(0, 0.02)), False)
            )
            s += size[1] + rng.uniform(0.1, 0.4)
        return out
    raise ValueError(kind)


def build_world(config: SimConfig, seed: int, scene_index: int) -> World:
    """Generate the world of scene ``scene_index`` of a simulation with ``seed`` (deterministic)."""
    rng = make_rng(seed, "world", scene_index)
    duration = config.keyframes / config.keyframe_hz
    ego, mode = _ego_motion(rng)
    curviness = str(rng.choice(["straight", "gentle", "curvy"], p=[0.3, 0.4, 0.3]))
    curvature = {"straight": 0.001, "gentle": 0.006, "curvy": 0.014}[curviness]
    s_ego_end = float(ego.arc_length(np.array(duration)))
    road = make_road(rng, -600.0, s_ego_end + 700.0, curvature, rng.uniform(300.0, 1800.0, 2))
    s_lo, s_hi = -90.0, s_ego_end + 110.0
    static = _make_static(rng, road, s_lo, s_hi) if config.clutter else StaticParts.empty()
    if config.clutter and config.vegetation:
        # Its own random stream, so switching vegetation on leaves every other draw of the world as it was.
        static = static.concat(_make_vegetation(make_rng(seed, "vegetation", scene_index), road, s_lo, s_hi))

    times = np.arange(-1.0, duration + 1.0, 0.25)
    occupancy = _Occupancy(times)
    ego_xy, ego_yaw = ego.pose(road, times)
    ego_center = ego_xy + EGO_CENTER_AHEAD_M * np.stack([np.cos(ego_yaw), np.sin(ego_yaw)], -1)
    occupancy.add(ego_center, ego_yaw, np.array(EGO_FOOTPRINT_M) / 2)
    for c, y, sz in zip(static.centers_m, static.yaws_rad, static.sizes_m, strict=True):
        occupancy.add(c[:2], np.asarray(y), sz[:2] / 2)

    kinds = list(_KIND_WEIGHTS)
    weights = np.array([_KIND_WEIGHTS[k] for k in kinds])
    objects: list[SimObject] = []
    attempts = 0
    while len(objects) < config.n_objects and attempts < 40 * max(config.n_objects, 1):
        attempts += 1
        kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
        for shape, size, motion, parked in _candidates(kind, rng, ego, duration):
            if len(objects) >= config.n_objects:
                break
            xy, yaw = motion.pose(road, times)
            half = size[:2] / 2 + _COLLISION_MARGIN_M / 2
            if occupancy.collides(xy, yaw, half):
                continue
            occupancy.add(xy, yaw, half)
            offsets, part_sizes = shape_parts(shape, size)
            prior = CLASS_PRIORS[shape]
            objects.append(
                SimObject(
                    kind=shape,
                    category=prior.category,
                    size_lwh_m=size,
                    motion=motion,
                    part_offsets_m=offsets,
                    part_sizes_m=part_sizes,
                    part_colors_bgr=_part_colors(shape, part_sizes.shape[0], rng),
                    parked=parked,
                    rcs_dbsm=float(rng.normal(prior.radar_rcs_dbsm, 2.0)),
                )
            )
    mean_speed = float(np.mean(ego.speed.speed(np.linspace(0.0, duration, 50))))
    description = (
        f"simulated by fusioncheck: ego {mode}, mean speed {mean_speed:.1f} m/s, {curviness} road, "
        f"{len(objects)} objects, clutter {'on' if config.clutter else 'off'}"
    )
    return World(road, ego, tuple(objects), static, description)

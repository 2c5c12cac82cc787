"""What one LiDAR sweep says about the true size of one labelled box, per axis.

A LiDAR sees one or two faces of an object, so the extent of its points is only a lower bound of the
object's size. This module keeps only evidence that is informative about the *true* size, per axis
(length = box x, width = box y, height = box z), in the labelled box's own frame:

Sensor-side face (length, width)
    When the face whose normal is the axis faces the sensor (``|view · axis| >= facing_cos``, horizontal
    view direction; at grazing views the side of a car's cabin is seen instead of its body), the
    object's points on that face give its position: a mean shift from the 5th outermost point to the
    median of the points within ``± face_window_m`` (a few noise widths, so that range noise enters
    symmetrically and inner structure such as a car's narrower cabin stays out), using only points away
    from the face's side edges and in the lower half of the box (near corners and higher up, surfaces
    seen obliquely or from above reach inwards from the face). Points spilling past the labelled face
    are part of this set — they *are* the face. With the box centred on
    the object, the true size is twice the face's distance from the centre. Labels are centred to a few
    centimetres; a centre error enters each box's estimate as noise, not as a class bias.
Both ends (length, width) — not used for the size
    Seen from the side, points reach both ends of an axis but stop short of each end by up to one
    sampling step (``range × Δazimuth / |cos incidence|``, tens of centimetres at 20 m), and the step
    cannot be recovered reliably from motion-corrected or multi-LiDAR clouds: the extent is a lower bound
    only. It enters the per-box decision in :mod:`fusioncheck.checks.box_fit` as spill past a face
    (points beyond the box are proof that it is too small), never the class estimate.
Top (height)
    The bottom is the labelled box bottom (``box_height_offset`` checks it against the ground). Only when
    two or more LiDAR rings hit the top from above (the highest points, within ``top_window_m``, come
    from two rings) are the highest points the top. Otherwise the highest ring may have crossed a side
    face with the ring above passing over the object — the top then lies anywhere within one ring
    spacing (0.2-0.5 m at 10-20 m for a 32-beam sensor), and whether a single ring ran over a roof or
    along a side face cannot be told from its returns: no height evidence (measured on simulated cars,
    such a half-spacing correction was off by -10 % to +7 % depending on the case).

Each estimate is a *true size* in metres, or NaN where the sweep does not observe the axis. The
relative residual of the box is ``labelled / true - 1`` (negative = box too small). Per box it is noisy
(sampling steps, range noise, centre noise); unbiased per class is what matters, and the per-class
statistics (:mod:`fusioncheck.checks.size_bias`) average hundreds of boxes.

Classes whose boxes are by convention larger than the body the LiDAR sees (pedestrians: room for
swinging limbs) give no length/width evidence, and large vehicles whose highest part covers little of
their top (measured on simulated buses: the two-ring top landed on the roof below the roof unit, +10 %)
no height evidence; :data:`LOOSE_AXES` lists them with the reason reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.typing import FloatArray

AXES: tuple[str, ...] = ("length", "width", "height")

#: Class-name prefix -> axes on which the labelling convention leaves the box wider than the visible
#: body, so LiDAR points say nothing about the labelled size (reason given in the report).
LOOSE_AXES: dict[str, tuple[tuple[str, ...], str]] = {
    "human.": (("length", "width"), "pedestrian boxes leave room for swinging limbs"),
    "movable_object.trafficcone": (("length", "width"), "a cone's widest part, its base, is ground level"),
    "vehicle.bicycle": (("width",), "a two-wheeler's width is its rider's or handlebar's, above the frame"),
    "vehicle.motorcycle": (
        ("width",),
        "a two-wheeler's width is its rider's or handlebar's, above the frame",
    ),
    "vehicle.bus": (("height",), "a bus's highest parts (roof units) cover little of its roof"),
    "vehicle.truck": (("height",), "a truck's cab and body differ in height; the highest covers little"),
    "vehicle.trailer": (("height",), "a trailer's top is rarely seen from above"),
    "vehicle.construction": (("height",), "booms and cabs: the highest part covers little of the top"),
}


@dataclass(frozen=True)
class SizeEvidenceParameters:
    """Tunables of the evidence (defaults suit a 32-128 beam spinning LiDAR).

    Attributes:
        facing_cos: a face is observed when the horizontal view direction's component along its normal
            is at least this (0.6 = within 53 degrees of head-on).
        face_window_m: half depth of the slab about the face in which its points are taken, metres.
        edge_margin_m: face points are taken this far from the face's side edges (at most a quarter of
            the box's half size), metres.
        min_face_points: points needed in the face slab.
        ring_tolerance_deg: elevations closer than this belong to one ring, degrees.
        top_window_m: points within this of the highest point form the top slab, metres.
    """

    facing_cos: float = 0.6
    face_window_m: float = 0.08
    edge_margin_m: float = 0.3
    min_face_points: int = 5
    ring_tolerance_deg: float = 0.3
    top_window_m: float = 0.05


@dataclass(frozen=True)
class SizeEvidence:
    """True-size estimates of one box from one sweep.

    Attributes:
        true_size_m: ``(3,)`` estimated true ``(length, width, height)``, metres; NaN = not observed.
        kind: ``(3,)`` how each was obtained: ``"face"``, ``"top"`` or ``""``.
    """

    true_size_m: FloatArray
    kind: tuple[str, str, str]

    def residual(self, labelled_size_m: FloatArray) -> FloatArray:
        """``(3,)`` relative size residual ``labelled / true - 1``; NaN where not observed."""
        # True sizes are positive or NaN: no division by zero, and NaN propagates without a warning.
        return np.asarray(np.asarray(labelled_size_m, dtype=np.float64) / self.true_size_m - 1.0)


def loose_axes(category: str) -> tuple[tuple[str, ...], str]:
    """Axes whose LiDAR evidence is uninformative for ``category`` by labelling convention, and why."""
    for prefix, (axes, reason) in LOOSE_AXES.items():
        if category.startswith(prefix):
            return axes, reason
    return (), ""


def size_evidence(
    local_m: FloatArray,
    size_m: FloatArray,
    sensor_local_m: FloatArray,
    category: str,
    parameters: SizeEvidenceParameters | None = None,
) -> SizeEvidence:
    """Estimate the true size of one box from its object points.

    Args:
        local_m: ``(N, 3)`` object points (inside the box and its shell, ground removed), metres, in the
            labelled box's frame (x forward, y left, z up, origin at the box centre).
        size_m: ``(3,)`` labelled ``(length, width, height)``, metres.
        sensor_local_m: ``(3,)`` the LiDAR origin in the same box frame, metres.
        category: the box's class (see :data:`LOOSE_AXES`).
        parameters: tunables; defaults when None.

    Returns:
        The per-axis estimates.
    """
    p = parameters or SizeEvidenceParameters()
    pts = np.asarray(local_m, dtype=np.float64)
    half = 0.5 * np.asarray(size_m, dtype=np.float64)
    sensor = np.asarray(sensor_local_m, dtype=np.float64)
    true = np.full(3, np.nan)
    kind = ["", "", ""]
    loose, _ = loose_axes(category)
    if pts.shape[0] == 0:
        return SizeEvidence(true, ("", "", ""))
    # Direction from the sensor to the box centre, horizontal, in the box frame.
    view = -sensor[:2]
    norm = float(np.hypot(view[0], view[1]))
    if norm < 1e-6:
        return SizeEvidence(true, ("", "", ""))
    view = view / norm
    rel = pts - sensor
    for axis in (0, 1):
        if AXES[axis] in loose:
            continue
        other = 1 - axis
        face_estimate = np.nan
        if abs(view[axis]) >= p.facing_cos:
            sign = -np.sign(view[axis])  # the face towards the sensor
            # Only points away from the face's side edges: near a corner, returns from the perpendicular
            # face lie within a few centimetres of this face's plane but inside it, and pull it inwards.
            # And only the lower half of the box: higher up, horizontal surfaces seen from above (a car's
            # shoulders, hood, the cabin's base) reach from the side face inwards and pull it in too.
            interior = (np.abs(pts[:, other]) <= half[other] - min(p.edge_margin_m, 0.25 * half[other])) & (
                pts[:, 2] <= 0.0
            )
            q = sign * pts[interior, axis]
            # Start at the k-th outermost point (one stray return cannot move it), then mean-shift to the
            # densest slab: a window symmetric about the face keeps range noise and the uniform spread of
            # the perpendicular face's points symmetric, so the median in it is the face.
            centre = float(np.sort(q)[-min(p.min_face_points, q.size)]) if q.size else 0.0
            for _ in range(4):
                slab = np.abs(q - centre) <= p.face_window_m
                if q.size == 0 or np.count_nonzero(slab) < p.min_face_points:
                    break
                centre = float(np.median(q[slab]))
            else:
                face_estimate = 2.0 * centre
        if np.isfinite(face_estimate) and face_estimate > 0:
            true[axis] = face_estimate
            kind[axis] = "face"
    if "height" not in loose:
        top, how = _top(pts, rel, p)
        if np.isfinite(top):
            true[2] = top + half[2]
            kind[2] = how
    return SizeEvidence(true, (kind[0], kind[1], kind[2]))


def _top(pts: FloatArray, rel: FloatArray, p: SizeEvidenceParameters) -> tuple[float, str]:
    """Top of the object in the box frame (z), metres, when rings hit it from above; else NaN."""
    z = pts[:, 2]
    # The k-th highest point, not the highest: one stray return cannot define the top.
    z_top = float(np.sort(z)[-min(p.min_face_points, z.size)])
    slab = np.abs(z - z_top) <= p.top_window_m
    elevation = np.degrees(np.arctan2(rel[:, 2], np.hypot(rel[:, 0], rel[:, 1])))
    if _ring_levels(elevation[slab], p.ring_tolerance_deg).size >= 2:
        return float(np.median(z[slab])), "top"
    return float("nan"), ""


def _ring_levels(elevation_deg: FloatArray, tolerance_deg: float) -> FloatArray:
    """Distinct ring elevations (ascending), merging values closer than ``tolerance_deg``."""
    if elevation_deg.size == 0:
        return np.zeros(0)
    e = np.sort(elevation_deg)
    starts = np.concatenate([[True], np.diff(e) > tolerance_deg])
    groups = np.cumsum(starts) - 1
    return np.asarray([float(np.median(e[groups == g])) for g in range(int(groups[-1]) + 1)])

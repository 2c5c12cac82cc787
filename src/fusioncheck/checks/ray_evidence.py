"""Free-space evidence for a box from LiDAR rays: beams that pass through it or stop in front of it.

A LiDAR return at ``p`` proves that the segment from the sensor to ``p`` is free space. If that segment
crosses a labelled box, the box cannot hold a solid object there (the beam went *through*); if the beam
would have entered the box but stopped before it, something in front occludes the box. Counting both
separates "empty because nothing is there" (a ghost box) from "empty because it is hidden".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.typing import FloatArray


@dataclass(frozen=True)
class RayEvidence:
    """Beams whose direction crosses a box.

    Attributes:
        through: beams that crossed the box's core and hit something beyond it.
        front: beams that would have crossed the core but hit something in front of it.
        inside: beams that ended inside the core.
    """

    through: int
    front: int
    inside: int


#: The last sweep seen and its squared beam lengths: box_fit asks about many boxes of one sweep in a row.
#: The sweep is held (not just its id), so an identity match cannot be a recycled id.
_last_sweep: list[tuple[object, bytes, FloatArray, FloatArray]] = []


def _beams(points: FloatArray, origin_m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return ``points`` as float64 and the squared lengths ``|p - o|^2`` ``(N,)`` of their beams.

    ``|p|^2 - 2 p.o + |o|^2`` loses about 1e-10 m^2 to rounding 1 km from the origin: irrelevant for the
    cone pre-selection that uses it.
    """
    key = np.asarray(origin_m, dtype=np.float64).tobytes()
    if _last_sweep and _last_sweep[0][0] is points and _last_sweep[0][1] == key:
        return _last_sweep[0][2], _last_sweep[0][3]
    p = np.asarray(points, dtype=np.float64)
    o = np.frombuffer(key, dtype=np.float64)
    length2 = np.einsum("ij,ij->i", p, p) - 2.0 * (p @ o) + float(o @ o)
    _last_sweep[:] = [(points, key, p, length2)]
    return p, length2


def ray_evidence(
    points: FloatArray,
    origin_m: FloatArray,
    center_m: FloatArray,
    rotation: FloatArray,
    size_m: FloatArray,
    core_fraction: float = 0.7,
) -> RayEvidence:
    """Classify the beams from ``origin_m`` to each of ``points`` against a box's core.

    Args:
        points: ``(N, 3)`` LiDAR returns, metres, in the frame of the box.
        origin_m: ``(3,)`` the sensor's origin in that frame (beams start here).
        center_m: ``(3,)`` box centre.
        rotation: ``(3, 3)`` box axes (columns) in the frame.
        size_m: ``(3,)`` length, width, height.
        core_fraction: the box is shrunk to this fraction per axis before testing, so that beams grazing
            the corners of a real (rounded, not box-shaped) object do not count as passing through it.

    Calls for many boxes of one sweep (the same ``points`` object and origin) share the beams' squared
    lengths, computed once: do not modify ``points`` in place between calls.
    """
    p, length2 = _beams(points, origin_m)
    o = np.asarray(origin_m, dtype=np.float64)
    c = np.asarray(center_m, dtype=np.float64)
    half = 0.5 * core_fraction * np.asarray(size_m, dtype=np.float64)
    to_center = c - o
    distance = float(np.linalg.norm(to_center))
    radius = float(np.linalg.norm(half))
    if p.shape[0] == 0 or distance <= radius:
        return RayEvidence(0, 0, 0)
    # Pre-select beams within the cone that encloses the box's bounding sphere: d.t / (|d| |t|) >= cos,
    # tested squared and without forming d = p - o for every point (this runs once per box on the whole
    # sweep; the squared beam lengths are computed once per sweep, see _beams).
    cos2_limit = max(0.0, 1.0 - (radius / distance) ** 2)
    along = p @ to_center - float(o @ to_center)
    cand = (along > 0.0) & (along * along >= cos2_limit * length2 * (distance * distance))
    d = p[cand] - o
    if d.shape[0] == 0:
        return RayEvidence(0, 0, 0)
    r = np.asarray(rotation, dtype=np.float64)
    o_local = r.T @ (o - c)
    d_local = d @ r
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-half - o_local) / d_local
        t2 = (half - o_local) / d_local
    t_near = np.nanmax(np.minimum(t1, t2), axis=1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=1)
    hit = (t_near <= t_far) & (t_far > 0.0)
    through = int(np.count_nonzero(hit & (t_far < 1.0)))
    front = int(np.count_nonzero(hit & (t_near > 1.0)))
    inside = int(np.count_nonzero(hit & (t_near <= 1.0) & (t_far >= 1.0)))
    return RayEvidence(through, front, inside)

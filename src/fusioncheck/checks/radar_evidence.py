"""Radar evidence for or against an object in a keyframe box, for the combined ``empty_box`` score.

For the keyframes asked for, every radar scan within ``window_s`` of the keyframe is associated with the
labelled tracks moved to the scan's time (:mod:`fusioncheck.checks.radar_support`), and each keyframe box
gets the number of returns it collected. What a box of a class *should* collect is learnt from the same
keyframes: the mean count over the class's boxes that LiDAR shows to hold an object. Then, for a box
LiDAR finds empty:

- returns inside it are evidence of an object (each would otherwise be a clutter return, probability
  ``clutter_p`` per return): ``log_ratio -= n * log(1 / clutter_p)`` (at most 5 returns counted);
- no return where ``expected`` were due is evidence of emptiness (Poisson):
  ``log_ratio += expected * visible``, discounted like the LiDAR term by the share of LiDAR beams that
  reached the box (an occluder hides the box from the radar too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusioncheck.checks.box_motion import TrackTable
from fusioncheck.checks.radar_returns import to_global
from fusioncheck.checks.radar_support import associate
from fusioncheck.context import SequenceContext
from fusioncheck.scene.sensors import Modality

#: At most this many returns count as evidence of an object (a few already settle it).
MAX_RETURNS_COUNTED = 5


@dataclass(frozen=True)
class RadarBoxSupport:
    """Radar returns per keyframe box of some keyframes.

    Attributes:
        returns: annotation token -> associated returns (scans within the window of its keyframe).
        scans: keyframe index -> number of radar scans used.
    """

    returns: dict[str, int]
    scans: dict[int, int]


def keyframe_radar_support(
    context: SequenceContext,
    keyframe_indices: list[int],
    window_s: float = 0.25,
    gate_m: float = 0.5,
    gate_per_m: float = 0.01,
) -> RadarBoxSupport | None:
    """Count radar returns per box of the given keyframes; ``None`` when the sequence has no radar."""
    sequence = context.sequence
    channels = sequence.channels(Modality.RADAR)
    if not channels:
        return None
    table = TrackTable(sequence.tracks)
    returns: dict[str, int] = {}
    scans: dict[int, int] = {}
    for k in keyframe_indices:
        keyframe = sequence.keyframes[k]
        by_instance = {b.instance: b for b in keyframe.annotations}
        for box in keyframe.annotations:
            returns[box.token] = 0
        used = 0
        for channel in channels:
            for sample in sequence.samples.get(channel, ()):
                if abs(sample.timestamp_us - keyframe.timestamp_us) > window_s * 1e6:
                    continue
                used += 1
                scan = to_global(context.source.read_radar(sample), sequence.sensors[channel])
                at = table.at(sample.timestamp_us)
                assoc = associate(scan, at, gate_m, gate_per_m)
                for j in assoc.box[assoc.box >= 0].tolist():
                    owner = by_instance.get(at.instances[j])
                    if owner is not None:
                        returns[owner.token] += 1
        scans[k] = used
    return RadarBoxSupport(returns, scans)


def expected_returns(counts_by_class: dict[str, list[int]]) -> dict[str, float]:
    """Class -> mean returns per box ('*' pooled); classes with fewer than 5 boxes use the pooled mean."""
    pooled = [n for v in counts_by_class.values() for n in v]
    out = {c: float(np.mean(v)) for c, v in counts_by_class.items() if len(v) >= 5}
    out["*"] = float(np.mean(pooled)) if pooled else 0.0
    return out


def radar_log_ratio(returns: int, expected: float, visible: float, clutter_p: float) -> float:
    """Return the radar's term of the "no object" vs "object" log likelihood ratio (see the module doc)."""
    if returns > 0:
        return -min(returns, MAX_RETURNS_COUNTED) * float(np.log(1.0 / clutter_p))
    return expected * visible

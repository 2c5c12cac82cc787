"""The size-bias estimator on real data: shrinking one class's real boxes by 10 % moves its estimate by 10 pp.

Independent of what fusioncheck thinks PandaSet's true car sizes are: the same sweeps are measured
against the real boxes and against the same boxes 10 % shorter (about their centres, in memory), and
the class estimate must move by 10 ± 3 percentage points (exactly: ``-0.1 × (1 + bias)``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from fusioncheck.checks.box_fit import BoxFitCheck
from fusioncheck.checks.size_bias import axis_bias
from fusioncheck.context import SequenceContext
from fusioncheck.loaders.nuscenes import NuScenesSource

CLASS = "vehicle.car"
KEYFRAMES = 3


def car_length_bias(context: SequenceContext, keyframes, scale: float):
    check = BoxFitCheck()
    residuals, tracks = [], []
    for keyframe in keyframes:
        boxes = tuple(
            replace(b, size_m=b.size_m * np.array([scale, 1.0, 1.0])) if b.category == CLASS else b
            for b in keyframe.annotations
        )
        for m in check._measure_keyframe(context, replace(keyframe, annotations=boxes), "LIDAR_TOP"):
            if m.box.category == CLASS and m.size is not None:
                residuals.append(m.size.residual(m.box.size_m)[0])
                tracks.append(m.box.instance)
    return axis_bias(np.array(residuals), np.array(tracks, dtype=object))


@pytest.mark.slow
def test_shrinking_real_cars_by_10_percent_moves_the_estimate_by_10_points(realdata):
    root = realdata / "nuscenes" / "pandaset-public"
    if not root.is_dir():
        pytest.skip("pandaset-public excerpt absent")
    source = NuScenesSource(root)
    sequence = source.load_sequence(source.sequence_names()[0])
    context = SequenceContext(source, sequence)
    keyframes = sequence.keyframes[:KEYFRAMES]
    real = car_length_bias(context, keyframes, 1.0)
    shrunk = car_length_bias(context, keyframes, 0.9)
    assert real.boxes >= 30 and real.tracks >= 10
    moved = shrunk.estimate - real.estimate
    assert moved == pytest.approx(-0.10, abs=0.03), (real, shrunk)
    # The exact relation of a pure rescaling holds to the trimming's reshuffle.
    assert moved == pytest.approx(-0.1 * (1.0 + real.estimate), abs=0.01)

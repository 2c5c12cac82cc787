"""Size priors: implausible boxes, swapped axes, class medians and the run-level size_prior entry."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.checks.base import CheckOutput
from fusioncheck.checks.size_priors import (
    CLASS_SAMPLE_NAME,
    PRIORS,
    SAMPLE_NAME,
    SizePriorCheck,
    class_size_prior,
)
from fusioncheck.geometry import quaternion
from fusioncheck.scene.boxes import BoxAnnotation


def box(category: str, size: tuple[float, float, float], token: str = "t") -> BoxAnnotation:
    return BoxAnnotation(
        token=token,
        instance="i",
        category=category,
        keyframe_token="k",
        timestamp_us=0,
        center_m=np.zeros(3),
        size_m=np.array(size),
        quat_wxyz=quaternion.from_yaw(0.0),
    )


@pytest.mark.parametrize(
    ("size", "kind"),
    [
        ((4.5, 1.9, 1.7), None),  # an ordinary car
        ((1.9, 4.5, 1.7), "swapped"),  # length and width swapped
        ((4.5, 1.9, 4.0), "out_of_range"),  # 4 m high
        ((45.0, 19.0, 17.0), "out_of_range"),  # decimetres read as metres
    ],
)
def test_box_verdicts(size, kind):
    check = SizePriorCheck()
    verdict = check._judge_box(box("vehicle.car", size), np.array(PRIORS["vehicle.car"][0]))
    if kind is None:
        assert verdict is None
    else:
        assert verdict is not None
        score, message, values = verdict
        assert values["kind"] == kind and 0.5 <= score <= 1.0 and "vehicle.car" in message


def test_class_median_far_from_the_prior_is_an_info_finding():
    check = SizePriorCheck()
    out = CheckOutput()
    prior = np.array(PRIORS["vehicle.truck"][0])
    sizes = np.tile([16.5, 2.6, 3.9], (12, 1))  # tractor-trailers labelled as trucks
    check._judge_class("s", "vehicle.truck", sizes, prior, out)
    assert len(out.findings) == 1
    f = out.findings[0]
    assert f.annotation is None and f.values["level"] == "class" and f.values["axis"] == "length"
    assert f.values["deviation"][0] == pytest.approx(16.5 / prior[0] - 1, abs=1e-3)
    # Within tolerance, or too few boxes: nothing.
    out = CheckOutput()
    check._judge_class("s", "vehicle.truck", np.tile(prior * 1.2, (12, 1)), prior, out)
    check._judge_class("s", "vehicle.truck", sizes[:5], prior, out)
    assert not out.findings


def test_size_prior_reducer():
    samples = {
        SAMPLE_NAME: [[4.0, 2.0, 1.5], [5.0, 2.0, 1.7], [4.5, 1.8, 1.6]],
        CLASS_SAMPLE_NAME: ["vehicle.car"],
    }
    out = class_size_prior(samples)
    assert out is not None
    assert out["median_m"] == {"length": 4.5, "width": 2.0, "height": 1.6}
    assert out["deviation"]["length"] == pytest.approx(4.5 / 4.61 - 1, abs=1e-4)
    assert out["boxes"] == 3 and out["source"] == "mmdet3d-nus"
    unknown = class_size_prior({SAMPLE_NAME: [[1.0, 1.0, 1.0]], CLASS_SAMPLE_NAME: ["animal"]})
    assert unknown is not None and unknown["prior_m"] is None
    assert class_size_prior({}) is None

"""Label faults of issue 3 in the fault spec: parsing, defaults off, and what a simulation records."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from fusioncheck.errors import PolicyError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.box_iou import box_iou_3d
from fusioncheck.simulate import FaultSpec, simulate

from .helpers import tiny_config

SPEC = {
    "size_noise": {"vehicle.car": 0.03},
    "size_jitter": {"fraction": 0.2, "magnitude": 0.1},
    "duplicate": 2,
    "heading_flip": 2,
}


def test_parse_and_round_trip():
    spec = FaultSpec.from_dict(SPEC)
    assert spec.size_noise == {"vehicle.car": 0.03}
    assert spec.size_jitter.fraction == 0.2 and spec.size_jitter.magnitude == 0.1
    assert spec.duplicate == 2 and spec.heading_flip == 2
    assert not spec.is_clean and spec.has_label_faults
    assert FaultSpec.from_dict(spec.to_dict()) == spec


def test_label_faults_default_off_and_leave_old_specs_unchanged():
    spec = FaultSpec.from_dict({"shrink": {"vehicle.car": {"length": -0.1}}})
    assert not spec.has_label_faults
    assert set(spec.to_dict()) == {"shrink", "delete", "ghost", "label_time_offset_ms"}
    assert FaultSpec().is_clean


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"size_jitter": {"fraction": 0.1, "size": 0.1}}, "size"),
        ({"size_noise": {"vehicle.plane": 0.1}}, "vehicle.plane"),
        ({"size_jitter": {"fraction": 0.1, "magnitude": 1.5}}, "magnitude"),
        ({"duplicate": -1}, "duplicate"),
        ({"heading_flip": 1.5}, "heading_flip"),
    ],
)
def test_bad_label_fault_specs_name_the_key(data, named):
    with pytest.raises(PolicyError, match=named):
        FaultSpec.from_dict(data)


@pytest.fixture(scope="module")
def label_fault_log(tmp_path_factory):
    out = tmp_path_factory.mktemp("label-faults")
    config = replace(tiny_config(), n_objects=20)
    simulate(out, scenes=1, seed=5, faults=FaultSpec.from_dict(SPEC), config=config)
    written = json.loads(next(out.glob("v1.0-*/sample_annotation.json")).read_text())
    return json.loads((out / "faults.json").read_text()), {r["token"]: r for r in written}


def row(record):
    """IoU row (x, y, z, l, w, h, yaw) of a written nuScenes annotation (size stored w, l, h)."""
    w, ln, h = record["size"]
    return [*record["translation"], ln, w, h, float(quaternion.yaw_of(np.array(record["rotation"])))]


def test_simulation_records_every_label_fault(label_fault_log):
    faults, written = label_fault_log
    records = faults["label_faults"]
    assert {r["fault"] for r in records} == {"size_noise", "size_jitter", "duplicate", "heading_flip"}
    ann = faults["annotations"]
    jittered = 0
    for r in records:
        a = ann[r["annotation_token"]]
        if r["fault"] == "size_jitter" and r["class"] not in SPEC["size_noise"]:
            jittered += 1
            axis = ["length", "width", "height"].index(r["axis"])
            assert abs(r["factor"] - 1.0) == pytest.approx(0.1)
            # Written size = true x (1 + label noise) x jitter: the jittered axis is off by about 10 %.
            ratio = a["written_size_lwh_m"][axis] / a["true_size_lwh_m"][axis]
            assert abs(ratio - 1.0) > 0.06
        if r["fault"] == "heading_flip":
            yaw = row(written[r["annotation_token"]])[6]
            turned = abs((yaw - a["true_yaw_rad"] + np.pi) % (2 * np.pi) - np.pi)
            assert turned == pytest.approx(np.pi, abs=0.05)
    assert jittered >= 1


def test_duplicates_overlap_their_original_above_half(label_fault_log):
    faults, written = label_fault_log
    duplicates = [r for r in faults["label_faults"] if r["fault"] == "duplicate"]
    assert len(duplicates) == 2
    for r in duplicates:
        copy, original = written[r["annotation_token"]], written[r["duplicate_of"]]
        assert copy["instance_token"] != original["instance_token"]
        iou = box_iou_3d(np.array([row(copy)]), np.array([row(original)]))[0, 0]
        assert 0.5 < iou < 1.0

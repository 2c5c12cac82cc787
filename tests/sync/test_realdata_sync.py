"""Real excerpts: shifting a stream's timestamps moves its estimated offset by the opposite amount."""

from __future__ import annotations

import pytest

from fusioncheck.context import SequenceContext
from fusioncheck.loaders.nuscenes import NuScenesSource
from fusioncheck.sync.camera import CameraSyncSettings, estimate_camera_offset
from fusioncheck.sync.estimate import SearchSettings
from fusioncheck.sync.labels import LabelSyncSettings, estimate_label_offset

from .realdata_shift import shifted_copy

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def context_of(root) -> SequenceContext:
    source = NuScenesSource(root)
    return SequenceContext(source, source.load_sequence(source.sequence_names()[0]))


def test_labels_stamped_50_ms_early_come_out_50_ms_later(realdata, tmp_path):
    root = realdata / "nuscenes" / "pandaset-public"
    if not root.is_dir():
        pytest.skip("pandaset-public excerpt not found")
    before = estimate_label_offset(context_of(root), LabelSyncSettings(), SearchSettings())
    shifted = shifted_copy(root, tmp_path / "shifted", labels_ms=-50.0)
    after = estimate_label_offset(context_of(shifted), LabelSyncSettings(), SearchSettings())
    assert before.support >= 20 and after.support == before.support
    assert after.offset_ms - before.offset_ms == pytest.approx(50.0, abs=5.0)


def test_a_camera_stamped_40_ms_late_comes_out_40_ms_earlier(realdata, tmp_path):
    root = realdata / "nuscenes" / "mmdet3d-nuscenes"
    if not root.is_dir():
        pytest.skip("mmdet3d-nuscenes excerpt not found")
    channel = "CAM_BACK_LEFT"
    before = estimate_camera_offset(context_of(root), channel, CameraSyncSettings(), SearchSettings())
    shifted = shifted_copy(root, tmp_path / "shifted", channel=channel, channel_ms=40.0)
    after = estimate_camera_offset(context_of(shifted), channel, CameraSyncSettings(), SearchSettings())
    # One keyframe: the interval resamples image strips and is wide, but the best offset is defined.
    assert before.offset_ms is not None and after.offset_ms is not None
    assert after.offset_ms - before.offset_ms == pytest.approx(-40.0, abs=10.0)

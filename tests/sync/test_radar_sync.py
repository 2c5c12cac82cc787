import pytest

from fusioncheck.sync.estimate import STATUS_NOT_ESTIMABLE, SearchSettings, not_estimable
from fusioncheck.sync.labels import LabelSyncSettings, estimate_label_offset
from fusioncheck.sync.radar import RadarSyncSettings, estimate_radar_offset

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def labels(offset_context):
    return estimate_label_offset(offset_context, LabelSyncSettings(), SearchSettings())


@pytest.mark.parametrize(
    ("channel", "truth_ms"),
    [
        ("RADAR_FRONT", -40.0),
        ("RADAR_BACK_RIGHT", 0.0),
        # 20 ms at the first keyframe drifting 1 ms/s over 10 s: 25 ms on average.
        ("RADAR_BACK_LEFT", 25.0),
    ],
)
def test_radar_offsets_are_recovered_within_15_ms_through_offset_labels(
    offset_context, labels, channel, truth_ms
):
    e = estimate_radar_offset(offset_context, channel, labels, RadarSyncSettings(), SearchSettings())
    assert e.support >= 5
    assert e.offset_ms == pytest.approx(truth_ms, abs=15.0)
    assert e.ci95_ms[0] - 2.0 <= truth_ms <= e.ci95_ms[1] + 2.0


def test_radar_against_labels_of_unknown_offset_says_so(offset_context):
    unknown = not_estimable("labels", "LIDAR_TOP", "no moving object")
    e = estimate_radar_offset(offset_context, "RADAR_FRONT", unknown, RadarSyncSettings(), SearchSettings())
    assert "not estimable (no moving object); taken as 0" in e.reason


def test_radar_without_moving_tracks_is_not_estimable(offset_context, labels):
    e = estimate_radar_offset(
        offset_context, "RADAR_FRONT", labels, RadarSyncSettings(min_speed_mps=100.0), SearchSettings()
    )
    assert e.status == STATUS_NOT_ESTIMABLE and e.offset_ms is None


def test_drift_is_reported_with_an_interval(offset_context, labels):
    # RADAR_BACK_LEFT drifts by +1 ms/s; RADAR_FRONT's clock is constant.
    drifting = estimate_radar_offset(
        offset_context, "RADAR_BACK_LEFT", labels, RadarSyncSettings(), SearchSettings()
    )
    steady = estimate_radar_offset(
        offset_context, "RADAR_FRONT", labels, RadarSyncSettings(), SearchSettings()
    )
    for e, truth in ((drifting, 1.0), (steady, 0.0)):
        lo, hi = e.drift_ci95_ms_per_s
        assert lo <= truth <= hi and hi - lo < 5.0
        assert e.to_row()["drift_ms_per_s"] == pytest.approx(e.drift_ms_per_s, abs=1e-3)

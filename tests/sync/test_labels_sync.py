import pytest

from fusioncheck.checks.sync import SyncCheck
from fusioncheck.sync.estimate import STATUS_EXCEEDS, STATUS_NOT_ESTIMABLE, SearchSettings
from fusioncheck.sync.labels import LabelSyncSettings, estimate_label_offset

pytestmark = pytest.mark.slow


def test_label_offset_is_recovered_within_5_ms(offset_log, offset_context):
    assert offset_log.faults["label_time_offset_ms"] == 40.0
    e = estimate_label_offset(offset_context, LabelSyncSettings(), SearchSettings())
    assert e.support >= 5
    assert e.offset_ms == pytest.approx(40.0, abs=5.0)
    lo, hi = e.ci95_ms
    assert lo <= 40.0 + 1.0 and hi >= 40.0 - 1.0
    assert hi - lo < 10.0


def test_sync_check_reports_a_row_and_a_finding_for_the_labels(offset_context):
    out = SyncCheck().run(offset_context)
    row = next(r for r in out.sections["sync"] if r["stream"] == "labels")
    assert row["reference"] == "LIDAR_TOP" and row["status"] == STATUS_EXCEEDS
    assert row["ci95_ms"][0] > 10.0
    finding = next(f for f in out.findings if f.values["stream"] == "labels")
    assert finding.check == "sync_offset" and finding.sensor is None and 0.5 <= finding.score <= 1.0


def test_without_moving_objects_the_labels_are_not_estimable(offset_context):
    e = estimate_label_offset(offset_context, LabelSyncSettings(min_speed_mps=100.0), SearchSettings())
    assert e.status == STATUS_NOT_ESTIMABLE and e.offset_ms is None and "100 m/s" in e.reason

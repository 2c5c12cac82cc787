"""The sync check through the pipeline: report rows valid against the schema, findings, the plot."""

import pytest

from fusioncheck.loaders.nuscenes import NuScenesSource
from fusioncheck.pipeline import check_sequence
from fusioncheck.policy import Policy
from fusioncheck.report.builder import build_report, validate_report
from fusioncheck.runner import plan

pytestmark = pytest.mark.slow


def test_sync_rows_findings_and_plot(offset_log, tmp_path):
    tasks, inputs = plan([str(offset_log.out_dir)], "auto")
    policy = Policy({"sync": {"streams": "labels,radar"}})
    source = NuScenesSource(offset_log.out_dir)
    result = check_sequence(source, tasks[0].sequence, policy, plot_dir=tmp_path / "plots")
    assert result.error is None
    rows = {r["stream"]: r for r in result.sections["sync"]}
    assert set(rows) == {"labels", "RADAR_FRONT", "RADAR_FRONT_LEFT", "RADAR_FRONT_RIGHT", "RADAR_BACK_LEFT",
                         "RADAR_BACK_RIGHT"}  # fmt: skip
    assert rows["labels"]["status"] == "exceeds" and rows["RADAR_FRONT"]["status"] == "exceeds"
    assert rows["RADAR_BACK_RIGHT"]["status"] == "ok"  # 0 ms, within the 25 ms radar tolerance
    flagged = {f.values["stream"] for f in result.findings if f.check == "sync_offset"}
    assert {"labels", "RADAR_FRONT"} <= flagged and "RADAR_BACK_RIGHT" not in flagged
    report = build_report([result], inputs, policy)
    validate_report(report)
    assert report["sequences"][0]["sync"][0]["ci95_ms"][0] < report["sequences"][0]["sync"][0]["offset_ms"]
    (plot,) = result.plots
    assert plot.endswith("sync.png") and (tmp_path / "plots").rglob("sync.png")
    with open(plot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_unknown_stream_kind_is_a_policy_error(offset_context):
    from fusioncheck.checks.sync import SyncCheck
    from fusioncheck.errors import PolicyError

    with pytest.raises(PolicyError, match="lidar"):
        SyncCheck(streams="labels,lidar").estimates(offset_context)

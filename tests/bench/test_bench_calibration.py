"""The calibration bench: its fields, and the fused numba score agreeing with OpenCV's projection."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusioncheck.bench.calibration import format_calibration_bench, run_calibration_bench


def test_calibration_bench_on_kitti(realdata: Path) -> None:
    root = realdata / "kitti"
    if not (root / "training" / "velodyne").is_dir():
        pytest.skip("no KITTI excerpt in the real data")
    result = run_calibration_bench(repeats=1, root=root)
    assert result["frames"] == 6
    assert set(result["median_ms"]) == {"edges", "lidar_edges", "search", "total"}
    assert all(v > 0 for v in result["median_ms"].values())
    assert set(result["median_cpu_ms"]) == set(result["median_ms"])
    assert all(v > 0 for v in result["median_cpu_ms"].values())
    # the three stages make up the total, in wall and in CPU time (medians of sums ~ sums of medians)
    for clock in ("median_ms", "median_cpu_ms"):
        m = result[clock]
        assert m["edges"] + m["lidar_edges"] + m["search"] == pytest.approx(m["total"], rel=0.35)
    assert 100 < result["candidates_per_search"] < 3000
    assert result["load_average_1min"]["before"] >= 0.0
    # Same points, same map: the fused kernel and cv2.projectPoints + remap give the same score.
    assert result["candidate_score_ms"]["max_relative_difference"] < 1e-4
    assert "one candidate extrinsic" in format_calibration_bench(result)

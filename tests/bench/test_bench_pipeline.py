"""The pipeline bench: recorded reads, I/O floor and runs on small scenes (correctness only, no timings)."""

from __future__ import annotations

from dataclasses import replace

from fusioncheck.bench.pipeline import (
    ensure_data,
    format_pipeline_bench,
    record_reads,
    run_pipeline_bench,
)
from fusioncheck.policy import Policy
from fusioncheck.simulate import SimConfig


def test_pipeline_bench_on_small_scenes(tmp_path):
    config = replace(SimConfig.small(), duration_s=1.0, image_width=160, image_height=96, n_objects=12)
    result = run_pipeline_bench(
        tmp_path / "data", scenes=2, seed=4, repeats=1, config=config, reference_work=100_000
    )
    assert result["machine_speedup_2_processes"] > 0
    assert result["sequences"] == 2 and result["keyframes_per_sequence"] == 2
    # Each keyframe's reference LiDAR sweep is read once (the checks share it): 2 per scene.
    assert result["files_read_by_checks"]["lidar"] == 4
    assert result["bytes_read"] > 0
    s = result["seconds"]
    assert 0 < s["raw_bytes"] < s["io_floor"] and s["run_1_worker"] > 0 and s["run_2_workers"] > 0
    assert result["ratios"]["run_1_worker_over_io_floor"] == s["run_1_worker"] / s["io_floor"]
    assert "target <= 2" in format_pipeline_bench(result)
    # The data is reused, not simulated again.
    stamp = (tmp_path / "data" / "faults.json").stat().st_mtime_ns
    reads = record_reads(tmp_path / "data", Policy.default())
    # The recorded reads are what the checks read: LiDAR sweeps, radar scans (radar checks) and images.
    kinds = {r.kind for items in reads.values() for r in items}
    assert "lidar" in kinds and kinds <= {"lidar", "radar", "image"}
    lidar_keyframes = {r.sample.token for items in reads.values() for r in items if r.kind == "lidar"}
    assert len(lidar_keyframes) == result["files_read_by_checks"]["lidar"]
    ensure_data(tmp_path / "data", 2, 4, config)
    assert (tmp_path / "data" / "faults.json").stat().st_mtime_ns == stamp

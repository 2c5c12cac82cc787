"""The points-in-boxes benchmark runs and its three implementations agree (no timing assertions)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fusioncheck.bench.points_in_boxes import (
    DevkitBox,
    devkit_points_in_box,
    format_points_in_boxes_bench,
    run_points_in_boxes_bench,
)
from fusioncheck.bench.synthetic import FRAME_SPECS, make_frame

pytest.importorskip("open3d")
pytest.importorskip("pyquaternion")


@pytest.fixture(scope="module")
def bench_result():
    return run_points_in_boxes_bench(repeats=1, sizes=("nuscenes",))


def test_bench_result_has_the_fields(bench_result):
    assert bench_result["benchmark"] == "points_in_boxes"
    assert bench_result["repeats"] == 1
    assert bench_result["shell_margin_m"] == pytest.approx(0.3)
    assert {"python", "numpy", "numba", "open3d", "cpu_count"} <= set(bench_result["machine"])
    (frame,) = bench_result["frames"]
    assert frame["name"] == "nuscenes"
    assert frame["points"] == 34_720
    assert frame["boxes"] == 50
    for key in ("median_ms", "min_ms", "cold_median_ms"):
        assert set(frame[key]) == {"devkit", "open3d", "fusioncheck"}
        assert all(value > 0 for value in frame[key].values())
    for key in ("ratio_devkit", "ratio_open3d", "cold_ratio_devkit", "cold_ratio_open3d", "open3d_points_ms"):
        assert frame[key] > 0
    cache = bench_result["numba_cache"]
    assert len(cache["runs"]) == 2
    for run in cache["runs"]:
        assert {"first_call_s", "second_call_s", "import_s", "cache_hits", "cache_misses"} <= set(run)
    # The second fresh interpreter must load the kernel from the cache the first one left.
    assert cache["runs"][1]["cache_misses"] == 0
    assert cache["runs"][1]["cache_hits"] >= 1
    json.dumps(bench_result)  # the CLI writes it as JSON


def test_the_three_implementations_agree_on_counts(bench_result):
    (frame,) = bench_result["frames"]
    for peer in ("devkit", "open3d"):
        agreement = frame["agreement"][peer]
        assert agreement["boxes_equal"] >= 0.99 * frame["boxes"], (peer, agreement)
        assert agreement["fraction_equal"] >= 0.99
    assert frame["points_in_boxes"] > 0


def test_format_is_a_plain_text_table(bench_result):
    text = format_points_in_boxes_bench(bench_result)
    assert "nuscenes" in text and "devkit/fc" in text and "open3d/fc" in text
    assert "numba cache" in text
    assert text.isascii()


def test_devkit_reimplementation_matches_a_local_frame_test():
    from pyquaternion import Quaternion

    rng = np.random.default_rng(1)
    points = rng.uniform(-4, 4, (3, 2000))
    quat = Quaternion(axis=(0.2, -0.3, 1.0), angle=0.7)
    center, length_width_height = np.array([0.5, -0.2, 0.1]), np.array([3.0, 1.5, 2.0])
    box = DevkitBox(center, length_width_height[[1, 0, 2]], quat)
    mask = devkit_points_in_box(box, points)
    local = quat.rotation_matrix.T @ (points - center[:, None])
    expected = np.all(np.abs(local) <= length_width_height[:, None] / 2, axis=0)
    assert np.count_nonzero(mask != expected) <= 2  # face points may round either way
    assert mask.sum() > 20


@pytest.mark.parametrize("name", ["nuscenes", "waymo"])
def test_synthetic_frames_are_deterministic_and_sized(name):
    spec = FRAME_SPECS[name]
    frame = make_frame(name)
    again = make_frame(name)
    assert frame.points.shape == (spec.n_points, 5) and frame.points.dtype == np.float32
    assert len(frame.boxes) == spec.n_boxes == len(frame.categories)
    assert frame.ground.shape == (spec.n_points,)
    np.testing.assert_array_equal(frame.points, again.points)
    np.testing.assert_array_equal(frame.boxes.centers_m, again.boxes.centers_m)
    assert 0.2 < frame.ground.mean() < 0.8


def test_unknown_frame_size_is_rejected():
    with pytest.raises(ValueError, match="unknown"):
        run_points_in_boxes_bench(repeats=1, sizes=("kitti",), measure_cache=False)

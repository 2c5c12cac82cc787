"""points_in_boxes: the numba kernel against its brute-force reference, and the rules at the edges."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fusioncheck.errors import ShapeError
from fusioncheck.geometry import quaternion
from fusioncheck.kernels.points_in_boxes import PointsInBoxesResult, points_in_boxes
from fusioncheck.kernels.points_in_boxes_reference import points_in_boxes_reference
from fusioncheck.kernels.warmup import WARM_UPS, warm_up_all
from fusioncheck.scene.boxes import BoxArrays

FIELDS = ("counts", "shell_counts", "point_box", "point_shell_box", "local_min", "local_max")
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")


def assert_same(actual: PointsInBoxesResult, expected: PointsInBoxesResult) -> None:
    for name in FIELDS:
        a, e = getattr(actual, name), getattr(expected, name)
        assert a.dtype == e.dtype, name
        assert a.shape == e.shape, name
        np.testing.assert_array_equal(a, e, err_msg=name)


def check(points, boxes, margin=0.0, eligible=None) -> PointsInBoxesResult:
    """Kernel result, after asserting that it equals the reference exactly."""
    result = points_in_boxes(points, boxes, margin, eligible)
    assert_same(result, points_in_boxes_reference(points, boxes, margin, eligible))
    return result


def box_arrays(centers, sizes, rotations=None) -> BoxArrays:
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 3)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 3)
    if rotations is None:
        rotations = np.broadcast_to(np.eye(3), (centers.shape[0], 3, 3)).copy()
    return BoxArrays(centers, sizes, np.asarray(rotations, dtype=np.float64).reshape(-1, 3, 3))


def random_scene(rng: np.random.Generator, n_boxes: int, n_points: int, *, extent_m: float = 15.0):
    """Overlapping boxes (half yaw-only, half fully 3D rotated) and points in, near and around them."""
    centers = np.column_stack(
        [rng.uniform(-extent_m, extent_m, (n_boxes, 2)), rng.uniform(-2.0, 2.0, n_boxes)]
    )
    sizes = np.exp(rng.uniform(np.log(0.2), np.log(8.0), (n_boxes, 3)))
    quat = quaternion.normalize(rng.normal(size=(n_boxes, 4)))
    yaw_only = rng.random(n_boxes) < 0.5
    quat[yaw_only] = quaternion.from_yaw(rng.uniform(-np.pi, np.pi, int(yaw_only.sum())))
    rotations = quaternion.to_matrix(quat)

    n_inside = n_points // 3
    n_face = n_points // 6
    n_uniform = n_points - n_inside - n_face
    owners = rng.integers(0, n_boxes, n_inside + n_face)
    local = rng.uniform(-0.65, 0.65, (owners.size, 3)) * sizes[owners]
    # Points right at a face: one coordinate at +-(half size) plus a tiny offset either way.
    face_rows = np.arange(n_inside, owners.size)
    axis = rng.integers(0, 3, face_rows.size)
    sign = rng.choice([-1.0, 1.0], face_rows.size)
    offset = rng.choice([-1e-9, 0.0, 1e-9, 0.3], face_rows.size)
    local[face_rows, axis] = sign * (sizes[owners[face_rows], axis] / 2 + offset)
    near = centers[owners] + np.einsum("nij,nj->ni", rotations[owners], local)
    uniform = np.column_stack(
        [rng.uniform(-extent_m - 5, extent_m + 5, (n_uniform, 2)), rng.uniform(-4.0, 4.0, n_uniform)]
    )
    points = np.concatenate([near, uniform])[rng.permutation(n_points)]
    return points, BoxArrays(centers, sizes, rotations)


# --- kernel == reference on random scenes -----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("margin_kind", ["scalar", "per_box"])
@pytest.mark.parametrize("with_eligible", [False, True])
def test_random_scenes_match_reference(seed, dtype, margin_kind, with_eligible):
    rng = np.random.default_rng(seed)
    points, boxes = random_scene(rng, n_boxes=60, n_points=6000)
    margin = 0.3 if margin_kind == "scalar" else rng.uniform(0.0, 0.6, (60, 3))
    eligible = rng.random(points.shape[0]) < 0.8 if with_eligible else None
    result = check(points.astype(dtype), boxes, margin, eligible)
    # The scenes are meant to exercise every output: overlaps, shells and empty boxes.
    assert np.count_nonzero(result.point_box >= 0) > 500
    assert np.count_nonzero(result.point_shell_box >= 0) > 50
    assert np.any(result.counts == 0) or np.all(result.counts > 0)


def test_small_random_matches_reference():
    rng = np.random.default_rng(42)
    points, boxes = random_scene(rng, n_boxes=12, n_points=400, extent_m=5.0)
    eligible = rng.random(points.shape[0]) < 0.7
    for dtype in (np.float32, np.float64):
        check(points.astype(dtype), boxes, 0.25, eligible)


def test_synthetic_lidar_frame_matches_reference():
    from fusioncheck.bench.synthetic import make_frame

    frame = make_frame("nuscenes", seed=3)
    result = check(frame.points, frame.boxes, 0.3, ~frame.ground)
    assert result.counts.sum() > 1000


def test_float32_points_equal_their_float64_widening():
    rng = np.random.default_rng(7)
    points, boxes = random_scene(rng, n_boxes=40, n_points=5000)
    p32 = points.astype(np.float32)
    assert_same(points_in_boxes(p32, boxes, 0.2), points_in_boxes(p32.astype(np.float64), boxes, 0.2))


def test_integer_points_are_converted():
    boxes = box_arrays([[0.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]])
    points = np.array([[0, 0, 0], [1, 1, 1], [2, 0, 0]], dtype=np.int64)
    result = check(points, boxes, 1.0)
    assert result.point_box.tolist() == [0, 0, -1]
    assert result.point_shell_box.tolist() == [-1, -1, 0]


# --- the rules at the edges ------------------------------------------------------------------------------


def faces_edges_corners(center, half):
    """All 26 points of the box surface lattice {-h, 0, +h}^3 except the centre, exactly representable."""
    offsets = np.array([[a, b, c] for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)], dtype=float)
    offsets = offsets[np.any(offsets != 0, axis=1)]
    return np.asarray(center) + offsets * np.asarray(half)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_points_on_faces_edges_and_corners_are_inside(dtype):
    center, half = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 0.75])
    boxes = box_arrays(center, 2 * half)
    on_surface = faces_edges_corners(center, half)
    result = check(on_surface.astype(dtype), boxes)
    assert result.counts.tolist() == [26]
    assert np.all(result.point_box == 0)
    # The extent reaches the faces exactly.
    np.testing.assert_array_equal(result.local_min[0], -half)
    np.testing.assert_array_equal(result.local_max[0], half)


def test_points_just_outside_faces_are_outside():
    # Faces and centre within a factor of two of each other, so p - c is exact (Sterbenz) and the next
    # float64 beyond a face is outside by the float64 rule.
    center, half = np.array([10.0, 20.0, 30.0]), np.array([1.0, 2.0, 0.75])
    boxes = box_arrays(center, 2 * half)
    points = np.tile(center, (6, 1))
    for row, (k, sign) in enumerate((k, sign) for k in range(3) for sign in (-1.0, 1.0)):
        points[row, k] = np.nextafter(center[k] + sign * half[k], sign * np.inf)
        assert abs(points[row, k] - center[k]) > half[k]
    result = check(points, boxes)
    assert result.counts.tolist() == [0]
    assert np.all(result.point_box == -1)
    assert np.all(np.isnan(result.local_min))


def test_faces_of_a_box_rotated_by_exact_quarter_turns():
    # Columns = box axes: box x along -y, box y along +z, box z along -x (a proper rotation, exact in floats).
    rotation = np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert np.allclose(rotation.T @ rotation, np.eye(3)) and np.isclose(np.linalg.det(rotation), 1.0)
    center, size = np.array([4.0, -2.0, 1.0]), np.array([4.0, 2.0, 1.0])
    boxes = box_arrays(center, size, rotation[None])
    local = faces_edges_corners(np.zeros(3), size / 2)
    points = center + local @ rotation.T
    result = check(points, boxes)
    assert result.counts.tolist() == [26]


def test_shell_boundary_is_inclusive():
    boxes = box_arrays([0.0, 0.0, 0.0], [2.0, 2.0, 2.0])
    margin = 0.5  # shell reaches |local| <= 1.5
    points = np.array(
        [
            [1.5, 0.0, 0.0],  # on the outer face: shell
            [np.nextafter(1.5, 2.0), 0.0, 0.0],  # just beyond: nothing
            [1.0, 0.0, 0.0],  # on the box face: inside, not shell
            [1.2, 1.5, -1.5],  # in the shell, on an outer edge
            [0.0, 0.0, -1.25],  # below the box, in the shell
        ]
    )
    result = check(points, boxes, margin)
    assert result.point_box.tolist() == [-1, -1, 0, -1, -1]
    assert result.point_shell_box.tolist() == [0, -1, -1, 0, 0]
    assert result.counts.tolist() == [1]
    assert result.shell_counts.tolist() == [3]
    np.testing.assert_array_equal(result.local_min[0], [0.0, 0.0, -1.5])
    np.testing.assert_array_equal(result.local_max[0], [1.5, 1.5, 0.0])


def test_overlapping_boxes_lowest_index_wins_and_both_count():
    boxes = box_arrays([[5.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], [[1.0] * 3, [4.0] * 3, [4.0] * 3])
    points = np.array([[0.5, 0.0, 0.0], [2.5, 0.0, 0.0], [-1.5, 0.0, 0.0]])
    result = check(points, boxes)
    assert result.point_box.tolist() == [1, 2, 1]
    assert result.counts.tolist() == [0, 2, 2]


def test_shell_excludes_points_inside_other_boxes():
    # Box 0's shell covers 1 < x <= 2; box 1 (no shell) covers 1.5 <= x <= 3.5.
    boxes = box_arrays([[0.0, 0.0, 0.0], [2.5, 0.0, 0.0]], [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]])
    margins = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    points = np.array([[1.7, 0.0, 0.0], [1.2, 0.0, 0.0]])
    result = check(points, boxes, margins)
    assert result.point_box.tolist() == [1, -1]
    assert result.point_shell_box.tolist() == [-1, 0]
    assert result.shell_counts.tolist() == [1, 0]
    np.testing.assert_array_equal(result.local_max[0], [1.2, 0.0, 0.0])


def test_point_in_two_shells_counts_in_both():
    # With a 1 m margin on both boxes, x = 1.2 lies in both shells (box 1's reaches down to x = 0.5).
    boxes = box_arrays([[0.0, 0.0, 0.0], [2.5, 0.0, 0.0]], [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]])
    result = check(np.array([[1.2, 0.0, 0.0]]), boxes, 1.0)
    assert result.point_shell_box.tolist() == [0]
    assert result.shell_counts.tolist() == [1, 1]


def test_per_box_per_axis_margins():
    boxes = box_arrays([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]], [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]])
    margins = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    points = np.array([[1.5, 0.0, 0.0], [0.0, 1.5, 0.0], [10.0, 0.0, 1.5], [11.5, 0.0, 0.0]])
    result = check(points, boxes, margins)
    assert result.point_shell_box.tolist() == [0, -1, 1, -1]


def test_ineligible_points_count_inside_but_not_in_shells():
    boxes = box_arrays([0.0, 0.0, 0.0], [2.0, 2.0, 2.0])
    points = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, -1.2], [0.0, 0.0, 1.2]])
    eligible = np.array([False, False, True])
    result = check(points, boxes, 0.5, eligible)
    assert result.counts.tolist() == [1]
    assert result.point_box.tolist() == [0, -1, -1]
    assert result.point_shell_box.tolist() == [-1, -1, 0]
    np.testing.assert_array_equal(result.local_min[0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(result.local_max[0], [0.0, 0.0, 1.2])


def test_zero_margin_gives_empty_shells():
    rng = np.random.default_rng(3)
    points, boxes = random_scene(rng, n_boxes=20, n_points=2000)
    result = check(points, boxes, 0.0)
    assert result.shell_counts.sum() == 0
    assert np.all(result.point_shell_box == -1)


# --- sizes, grids and empties ----------------------------------------------------------------------------


def test_tiny_and_zero_size_boxes():
    boxes = box_arrays(
        [[0.0, 0.0, 0.0], [3.0, 3.0, 3.0], [-2.0, 1.0, 0.5]], [[1e-6] * 3, [0.0] * 3, [1e-3] * 3]
    )
    points = np.array([[0.0, 0.0, 0.0], [3.0, 3.0, 3.0], [3.0, 3.0, 3.0 + 1e-12], [-2.0, 1.0, 0.5005]])
    result = check(points, boxes, 1e-6)
    assert result.counts.tolist() == [1, 1, 1]
    assert result.point_box.tolist() == [0, 1, -1, 2]
    assert result.point_shell_box.tolist() == [-1, -1, 1, -1]


def test_huge_box_spanning_many_cells_with_small_boxes():
    rng = np.random.default_rng(11)
    points, boxes = random_scene(rng, n_boxes=30, n_points=4000)
    big = box_arrays(
        [[0.0, 0.0, 0.0]], [[600.0, 80.0, 3.0]], quaternion.to_matrix(quaternion.from_yaw(0.3))[None]
    )
    all_boxes = BoxArrays(
        np.concatenate([boxes.centers_m, big.centers_m]),
        np.concatenate([boxes.sizes_m, big.sizes_m]),
        np.concatenate([boxes.rotations, big.rotations]),
    )
    far = np.column_stack([rng.uniform(-320, 320, (3000, 2)), rng.uniform(-3, 3, 3000)])
    result = check(np.concatenate([points, far]), all_boxes, 0.5)
    assert result.counts[-1] > 1000


def test_many_huge_boxes_hit_the_cell_budget():
    rng = np.random.default_rng(5)
    n = 200
    centers = np.column_stack([rng.uniform(-5e3, 5e3, (n, 2)), np.zeros(n)])
    sizes = np.column_stack([rng.uniform(500, 3000, (n, 2)), np.full(n, 10.0)])
    boxes = BoxArrays(centers, sizes, quaternion.to_matrix(quaternion.from_yaw(rng.uniform(-3, 3, n))))
    points = np.column_stack([rng.uniform(-7e3, 7e3, (20000, 2)), rng.uniform(-8, 8, 20000)])
    result = check(points, boxes, 2.0)
    assert result.counts.sum() > 1000


def test_boxes_far_from_the_origin():
    # UTM-like coordinates: the grid and the local frame must stay exact enough there.
    rng = np.random.default_rng(9)
    points, boxes = random_scene(rng, n_boxes=30, n_points=3000)
    offset = np.array([512_345.25, 5_401_234.5, 120.0])
    shifted = BoxArrays(boxes.centers_m + offset, boxes.sizes_m, boxes.rotations)
    check(points + offset, shifted, 0.3)


def test_rotations_orthonormal_only_to_the_tolerance():
    rng = np.random.default_rng(13)
    points, boxes = random_scene(rng, n_boxes=40, n_points=6000)
    noisy = boxes.rotations + rng.uniform(-3e-7, 3e-7, boxes.rotations.shape)
    check(points, BoxArrays(boxes.centers_m, boxes.sizes_m, noisy), 0.3)


def test_all_points_outside():
    boxes = box_arrays([[0.0, 0.0, 0.0], [5.0, 5.0, 0.0]], [[1.0] * 3, [2.0] * 3])
    points = np.array([[100.0, 100.0, 0.0], [-50.0, 3.0, 0.0], [0.0, 0.0, 10.0], [5.0, 5.0, -5.0]])
    result = check(points, boxes, 0.5)
    assert result.counts.tolist() == [0, 0]
    assert result.shell_counts.tolist() == [0, 0]
    assert np.all(result.point_box == -1) and np.all(result.point_shell_box == -1)
    assert np.all(np.isnan(result.local_min)) and np.all(np.isnan(result.local_max))


@pytest.mark.parametrize("n_points, n_boxes", [(0, 3), (5, 0), (0, 0)])
def test_empty_inputs(n_points, n_boxes):
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (n_points, 4)).astype(np.float32)
    boxes = box_arrays(rng.uniform(-1, 1, (n_boxes, 3)), np.ones((n_boxes, 3)))
    result = check(points, boxes, 0.2)
    assert result.counts.shape == (n_boxes,) and result.counts.dtype == np.int64
    assert result.shell_counts.shape == (n_boxes,) and result.shell_counts.dtype == np.int64
    assert result.point_box.shape == (n_points,) and result.point_box.dtype == np.int32
    assert result.point_shell_box.shape == (n_points,) and result.point_shell_box.dtype == np.int32
    assert result.local_min.shape == (n_boxes, 3) and result.local_max.shape == (n_boxes, 3)
    assert np.all(result.point_box == -1)
    assert np.all(np.isnan(result.local_min))


def test_non_contiguous_and_read_only_inputs():
    rng = np.random.default_rng(21)
    points, boxes = random_scene(rng, n_boxes=25, n_points=3000)
    eligible = rng.random(points.shape[0]) < 0.5
    expected = points_in_boxes(points, boxes, 0.3, eligible)

    wide = np.zeros((points.shape[0] * 2, 6), dtype=np.float32)
    wide[::2, 1:4] = points.astype(np.float32)
    strided = wide[::2, 1:]  # (N, 5), neither row- nor column-contiguous
    assert not strided.flags.c_contiguous and not strided.flags.f_contiguous
    mask = np.zeros(points.shape[0] * 2, dtype=bool)
    mask[::2] = eligible
    result32 = check(strided, boxes, 0.3, mask[::2])
    assert_same(result32, points_in_boxes(points.astype(np.float32), boxes, 0.3, eligible))

    fortran = np.asfortranarray(points)
    read_only = points.copy()
    read_only.flags.writeable = False
    frozen_mask = eligible.copy()
    frozen_mask.flags.writeable = False
    wide_boxes = np.zeros((25, 2, 3))
    wide_boxes[:, 0] = boxes.centers_m
    strided_boxes = BoxArrays(
        wide_boxes[:, 0],
        boxes.sizes_m,
        np.ascontiguousarray(boxes.rotations.transpose(0, 2, 1)).transpose(0, 2, 1),
    )
    assert not strided_boxes.centers_m.flags.c_contiguous
    assert not strided_boxes.rotations.flags.c_contiguous
    for pts, bxs, msk in ((fortran, boxes, eligible), (read_only, strided_boxes, frozen_mask)):
        assert_same(check(pts, bxs, 0.3, msk), expected)


def test_nan_and_infinite_points_are_counted_nowhere():
    boxes = box_arrays([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0]], [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]])
    bad = np.array(
        [
            [np.nan, 0.0, 0.0],
            [0.0, np.nan, 0.0],
            [0.0, 0.0, np.nan],
            [np.nan, np.nan, np.nan],
            [np.inf, 0.0, 0.0],
            [0.0, 0.0, -np.inf],
        ]
    )
    good = np.array([[0.0, 0.0, 0.0], [1.2, 0.0, 0.0], [0.0, 1.1, 0.0]])
    for dtype in (np.float32, np.float64):
        result = check(np.concatenate([bad, good]).astype(dtype), boxes, 0.5)
        assert np.all(result.point_box[:6] == -1) and np.all(result.point_shell_box[:6] == -1)
        clean = points_in_boxes(good.astype(dtype), boxes, 0.5)
        for name in ("counts", "shell_counts", "local_min", "local_max"):
            np.testing.assert_array_equal(getattr(result, name), getattr(clean, name))
        assert np.all(np.isfinite(result.local_min)) and np.all(np.isfinite(result.local_max))


# --- input validation ------------------------------------------------------------------------------------


def test_bad_shapes_raise_shape_error():
    boxes = box_arrays([[0.0, 0.0, 0.0]], [[1.0, 1.0, 1.0]])
    with pytest.raises(ShapeError, match="points_xyz"):
        points_in_boxes(np.zeros((4, 2)), boxes)
    with pytest.raises(ShapeError, match="points_xyz"):
        points_in_boxes(np.zeros(3), boxes)
    with pytest.raises(ShapeError, match="shell_margin_m"):
        points_in_boxes(np.zeros((4, 3)), boxes, np.zeros((2, 3)))
    with pytest.raises(ShapeError, match="shell_eligible"):
        points_in_boxes(np.zeros((4, 3)), boxes, 0.1, np.ones(3, dtype=bool))


def test_bad_dtypes_raise_type_error():
    boxes = box_arrays([[0.0, 0.0, 0.0]], [[1.0, 1.0, 1.0]])
    with pytest.raises(TypeError, match="shell_eligible"):
        points_in_boxes(np.zeros((4, 3)), boxes, 0.1, np.ones(4, dtype=np.int64))
    with pytest.raises(TypeError, match="points_xyz"):
        points_in_boxes(np.zeros((4, 3), dtype=complex), boxes)


@pytest.mark.parametrize(
    "centers, sizes, rotation, margin, message",
    [
        ([np.nan, 0.0, 0.0], [1.0, 1.0, 1.0], np.eye(3), 0.0, "centre"),
        ([0.0, 0.0, 0.0], [1.0, -1.0, 1.0], np.eye(3), 0.0, "size"),
        ([0.0, 0.0, 0.0], [1.0, np.inf, 1.0], np.eye(3), 0.0, "size"),
        ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], 2.0 * np.eye(3), 0.0, "rotation"),
        ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], np.eye(3), [[0.1, 0.1, 0.1], [0.1, -0.1, 0.1]], "margin"),
        ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], np.eye(3), [[0.1, 0.1, 0.1], [np.nan, 0.1, 0.1]], "margin"),
    ],
)
def test_invalid_boxes_raise_value_error(centers, sizes, rotation, margin, message):
    good = box_arrays([[5.0, 5.0, 5.0]], [[1.0, 1.0, 1.0]])
    boxes = BoxArrays(
        np.concatenate([good.centers_m, [centers]]),
        np.concatenate([good.sizes_m, [sizes]]),
        np.concatenate([good.rotations, [rotation]]),
    )
    for function in (points_in_boxes, points_in_boxes_reference):
        with pytest.raises(ValueError, match=f"box 1: .*{message}"):
            function(np.zeros((3, 3)), boxes, np.asarray(margin))


# --- warm-up and the pure-Python path -------------------------------------------------------------------


def test_warm_up_runs_every_kernel():
    timings = warm_up_all()
    assert [name for name, _ in timings] == [f"{w.__module__}.{w.__qualname__}" for w in WARM_UPS]
    assert any(name.endswith("points_in_boxes.warm_up") for name, _ in timings)
    assert any(name.endswith("ground_scan.warm_up") for name, _ in timings)
    assert any(name.endswith("camera.warm_up") for name, _ in timings)


@pytest.mark.skipif(JIT_DISABLED, reason="already running without the JIT")
def test_kernel_without_jit_in_a_subprocess():
    """Run a small subset of these tests with NUMBA_DISABLE_JIT=1, so the kernel's Python is covered."""
    selection = " or ".join(
        [
            "small_random",
            "faces",
            "shell_boundary",
            "overlapping",
            "shell_excludes",
            "two_shells",
            "ineligible",
            "tiny_and_zero",
            "all_points_outside",
            "empty_inputs",
            "nan_and_infinite",
        ]
    )
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    # Without the JIT, numpy scalars warn on NaN/inf arithmetic that compiled code does silently.
    pytest_args = ["-q", "-p", "no:cacheprovider", "-W", "ignore::RuntimeWarning", "-k", selection]
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, str(Path(__file__))],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert " passed" in completed.stdout

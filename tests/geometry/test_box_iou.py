"""3D and BEV IoU of oriented boxes: known cases by hand and a Monte-Carlo estimate on random pairs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusioncheck.errors import ShapeError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.box_iou import box_iou_3d, box_iou_bev, box_rows
from fusioncheck.scene.boxes import BoxAnnotation


def row(x=0.0, y=0.0, z=0.0, length=4.0, width=2.0, height=1.5, yaw=0.0):
    return np.array([[x, y, z, length, width, height, yaw]])


def test_identical_boxes_have_iou_one() -> None:
    box = row(3.0, -2.0, 1.0, 4.5, 1.9, 1.6, 0.7)
    assert box_iou_3d(box, box)[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert box_iou_bev(box, box)[0, 0] == pytest.approx(1.0, abs=1e-12)


def test_disjoint_boxes_have_iou_zero() -> None:
    assert box_iou_3d(row(), row(x=10.0))[0, 0] == 0.0
    # Footprints overlap but vertical intervals do not: BEV IoU 1, 3D IoU 0.
    assert box_iou_3d(row(), row(z=2.0))[0, 0] == 0.0
    assert box_iou_bev(row(), row(z=2.0))[0, 0] == pytest.approx(1.0)
    # Footprint circumcircles overlap, rectangles do not (diagonal neighbours, rotated 45 degrees).
    assert box_iou_bev(row(length=2, width=2), row(x=2.5, y=0.0, length=2, width=2, yaw=math.pi / 4))[
        0, 0
    ] == pytest.approx(0.0, abs=1e-12)


def test_rotated_square_by_90_degrees_is_the_same_square() -> None:
    square = row(length=2.0, width=2.0, height=1.0)
    turned = row(length=2.0, width=2.0, height=1.0, yaw=math.pi / 2)
    assert box_iou_3d(square, turned)[0, 0] == pytest.approx(1.0, abs=1e-12)
    # A 4 x 2 box against itself turned by 90 degrees: overlap is the 2 x 2 centre square.
    box = row(length=4.0, width=2.0, height=1.0)
    box_turned = row(length=4.0, width=2.0, height=1.0, yaw=math.pi / 2)
    assert box_iou_3d(box, box_turned)[0, 0] == pytest.approx(4.0 / (8.0 + 8.0 - 4.0))


def test_square_rotated_45_degrees_by_hand() -> None:
    # Unit-half squares (2 x 2); the 45-degree one is an octagon cut: intersection = 8 (sqrt 2 - 1).
    a = row(length=2.0, width=2.0, height=1.0)
    b = row(length=2.0, width=2.0, height=1.0, yaw=math.pi / 4)
    inter = 8.0 * (math.sqrt(2.0) - 1.0)
    assert box_iou_bev(a, b)[0, 0] == pytest.approx(inter / (8.0 - inter), rel=1e-12)


def test_half_shifted_boxes() -> None:
    # Shift by half the length: intersection is half of each box, IoU = 0.5 / 1.5 = 1/3.
    a = row(length=4.0, width=2.0, height=1.5, yaw=0.4)
    shift = 2.0 * np.array([math.cos(0.4), math.sin(0.4)])
    b = row(x=shift[0], y=shift[1], length=4.0, width=2.0, height=1.5, yaw=0.4)
    assert box_iou_3d(a, b)[0, 0] == pytest.approx(1.0 / 3.0, rel=1e-12)
    # Half a height up: vertical overlap is half, footprint identical.
    c = row(z=0.75, length=4.0, width=2.0, height=1.5, yaw=0.4)
    assert box_iou_3d(a, c)[0, 0] == pytest.approx(1.0 / 3.0, rel=1e-12)
    # Both: a quarter of each box, IoU = 0.25 / 1.75.
    d = row(x=shift[0], y=shift[1], z=0.75, length=4.0, width=2.0, height=1.5, yaw=0.4)
    assert box_iou_3d(a, d)[0, 0] == pytest.approx(0.25 / 1.75, rel=1e-12)


def test_contained_box() -> None:
    outer = row(length=4.0, width=2.0, height=2.0, yaw=1.0)
    inner = row(length=2.0, width=1.0, height=1.0, yaw=1.0)
    assert box_iou_3d(outer, inner)[0, 0] == pytest.approx(1.0 / 8.0, rel=1e-12)


def test_matrix_shape_symmetry_and_empty_inputs() -> None:
    rng = np.random.default_rng(3)
    a = random_boxes(rng, 5)
    b = random_boxes(rng, 3)
    iou = box_iou_3d(a, b)
    assert iou.shape == (5, 3)
    np.testing.assert_allclose(iou, box_iou_3d(b, a).T, atol=1e-12)
    assert box_iou_3d(a, np.zeros((0, 7))).shape == (5, 0)
    assert box_iou_bev(np.zeros((0, 7)), b).shape == (0, 3)
    # Degenerate (zero-volume) boxes have IoU 0, not NaN.
    flat = row(length=0.0, width=0.0, height=0.0)
    assert box_iou_3d(flat, flat)[0, 0] == 0.0


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ShapeError):
        box_iou_3d(np.zeros((2, 6)), row())
    with pytest.raises(ValueError, match="row 0 is not finite"):
        box_iou_3d(row(x=np.nan), row())
    with pytest.raises(ValueError, match="negative size"):
        box_iou_bev(row(), row(width=-1.0))


def random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.empty((n, 7))
    out[:, 0:2] = rng.uniform(-1.5, 1.5, (n, 2))
    out[:, 2] = rng.uniform(-0.5, 0.5, n)
    out[:, 3] = rng.uniform(1.0, 5.0, n)
    out[:, 4] = rng.uniform(0.5, 2.5, n)
    out[:, 5] = rng.uniform(0.5, 2.0, n)
    out[:, 6] = rng.uniform(-math.pi, math.pi, n)
    return out


def inside(points: np.ndarray, box: np.ndarray) -> np.ndarray:
    c, s = math.cos(box[6]), math.sin(box[6])
    d = points - box[:3]
    local_x = c * d[:, 0] + s * d[:, 1]
    local_y = -s * d[:, 0] + c * d[:, 1]
    return (np.abs(local_x) <= box[3] / 2) & (np.abs(local_y) <= box[4] / 2) & (np.abs(d[:, 2]) <= box[5] / 2)


def test_monte_carlo_iou_on_random_pairs() -> None:
    rng = np.random.default_rng(11)
    a = random_boxes(rng, 20)
    b = random_boxes(rng, 20)
    exact = np.diag(box_iou_3d(a, b))
    exact_bev = np.diag(box_iou_bev(a, b))
    overlapping = 0
    for k in range(20):
        reach_a, reach_b = np.linalg.norm(a[k, 3:6]) / 2, np.linalg.norm(b[k, 3:6]) / 2
        lo = np.minimum(a[k, :3] - reach_a, b[k, :3] - reach_b)
        hi = np.maximum(a[k, :3] + reach_a, b[k, :3] + reach_b)
        points = rng.uniform(lo, hi, (200_000, 3))
        in_a, in_b = inside(points, a[k]), inside(points, b[k])
        estimate = np.count_nonzero(in_a & in_b) / max(np.count_nonzero(in_a | in_b), 1)
        assert exact[k] == pytest.approx(estimate, abs=0.01), k
        flat_a = inside(np.c_[points[:, :2], np.full(len(points), a[k, 2])], a[k])
        flat_b = inside(np.c_[points[:, :2], np.full(len(points), b[k, 2])], b[k])
        estimate_bev = np.count_nonzero(flat_a & flat_b) / max(np.count_nonzero(flat_a | flat_b), 1)
        assert exact_bev[k] == pytest.approx(estimate_bev, abs=0.01), k
        overlapping += exact[k] > 0.05
    assert overlapping >= 8  # the random pairs exercise real overlaps, not only zeros


def test_box_rows_from_annotations() -> None:
    box = BoxAnnotation(
        token="t",
        instance="i",
        category="vehicle.car",
        keyframe_token="k",
        timestamp_us=0,
        center_m=np.array([1.0, 2.0, 3.0]),
        size_m=np.array([4.0, 2.0, 1.5]),
        quat_wxyz=quaternion.from_yaw(0.5),
    )
    np.testing.assert_allclose(box_rows([box]), [[1.0, 2.0, 3.0, 4.0, 2.0, 1.5, 0.5]], atol=1e-12)
    assert box_rows([]).shape == (0, 7)

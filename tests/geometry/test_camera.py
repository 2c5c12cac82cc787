"""Camera projection: bit-level agreement with cv2.projectPoints, the distortion's valid field of view."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from scipy.optimize import brentq

from fusioncheck.errors import ShapeError
from fusioncheck.geometry import camera
from fusioncheck.geometry.camera import (
    distortion_coefficients,
    in_image,
    max_valid_radius,
    project_points,
    project_points_reference,
)
from fusioncheck.scene.sensors import CameraIntrinsics

# A nuScenes-like front camera (1600 x 900).
K_NUSCENES = np.array([[1266.4, 0.0, 816.27], [0.0, 1266.4, 491.51], [0.0, 0.0, 1.0]])
# An aiMotive-like front camera (1280 x 704), strongly barrel-distorted.
K_BARREL = np.array([[1054.7, 0.0, 641.1], [0.0, 1054.7, 352.4], [0.0, 0.0, 1.0]])

DISTORTIONS = {
    "none": np.zeros(0),
    "nuscenes_like_5": np.array([-0.054, 0.011, 0.0009, -0.0004, 0.0021]),
    "strong_barrel_aimotive_like": np.array([-0.30, 0.084, 0.002, 0.0006, 0.0]),
    "four_coefficients": np.array([-0.12, 0.03, -0.001, 0.0015]),
    "rational_8": np.array([2.1, 0.6, 0.0004, -0.0007, 0.01, 2.4, 1.1, 0.05]),
    "rational_8_folding": np.array([0.2, -0.05, 0.001, 0.0005, 0.01, 0.5, -0.02, 0.03]),
    "barrel_folding": np.array([-0.30, 0.084, 0.002, 0.0006, -0.01]),
}


def radial_map(r: np.ndarray | float, k: np.ndarray) -> np.ndarray:
    """r -> r (1 + k1 r² + k2 r⁴ + k3 r⁶) / (1 + k4 r² + k5 r⁴ + k6 r⁶), written independently."""
    k1, k2, _, _, k3, k4, k5, k6 = distortion_coefficients(k)
    s = np.asarray(r, dtype=float) ** 2
    return np.asarray(r * (1 + k1 * s + k2 * s**2 + k3 * s**3) / (1 + k4 * s + k5 * s**2 + k6 * s**3))


def random_points_within(r_max: float, n: int, seed: int, r_cap: float = 1.5) -> np.ndarray:
    """Random camera-frame points with normalised radius below min(r_max, r_cap), depths 0.1..120 m."""
    rng = np.random.default_rng(seed)
    r_lim = min(r_max, r_cap) * 0.999
    r = r_lim * np.sqrt(rng.uniform(0, 1, n))
    phi = rng.uniform(-np.pi, np.pi, n)
    z = rng.uniform(0.1, 120.0, n)
    return np.column_stack([r * np.cos(phi) * z, r * np.sin(phi) * z, z])


def cv2_project(points: np.ndarray, k: np.ndarray, d: np.ndarray) -> np.ndarray:
    uv, _ = cv2.projectPoints(points, np.zeros(3), np.zeros(3), k, d if d.size else None)
    return np.asarray(uv.reshape(-1, 2))


class TestAgainstOpenCV:
    @pytest.mark.parametrize("name", sorted(DISTORTIONS))
    def test_bit_identical_pixels(self, name: str) -> None:
        d = DISTORTIONS[name]
        intrinsics = CameraIntrinsics(K_NUSCENES, d)
        points = random_points_within(max_valid_radius(d), 20_000, seed=len(name))
        uv, depth, valid = project_points(points, intrinsics)
        assert valid.all()
        expected = cv2_project(points, K_NUSCENES, d)
        # The same operations in the same order: equal to the last bit, not just to 1e-9 px.
        np.testing.assert_array_equal(uv, expected)
        np.testing.assert_array_equal(depth, points[:, 2])

    def test_distortion_really_moves_pixels(self) -> None:
        # Guard against a test that passes because distortion is ignored on both sides.
        points = random_points_within(math.inf, 1000, seed=1, r_cap=0.6)
        d = DISTORTIONS["strong_barrel_aimotive_like"]
        distorted, _, _ = project_points(points, CameraIntrinsics(K_BARREL, d))
        pinhole, _, _ = project_points(points, CameraIntrinsics(K_BARREL))
        assert np.max(np.abs(distorted - pinhole)) > 50.0

    def test_behind_camera_cv2_mirrors_ours_rejects(self) -> None:
        # cv2 divides by a negative z and lands the point in the image, mirrored through the centre.
        points = np.array([[1.0, 0.5, -5.0], [-2.0, 0.0, -10.0]])
        cv_uv = cv2_project(points, K_NUSCENES, np.zeros(0))
        assert in_image(cv_uv, 1600, 900).all()
        uv, depth, valid = project_points(points, CameraIntrinsics(K_NUSCENES))
        assert not valid.any()
        assert np.isnan(uv).all()
        np.testing.assert_array_equal(depth, [-5.0, -10.0])


class TestValidity:
    def test_depth_threshold(self) -> None:
        points = np.array([[0.0, 0.0, z] for z in (-1.0, 0.0, 0.05, 0.0999, 0.1, 0.5, 30.0)])
        uv, depth, valid = project_points(points, CameraIntrinsics(K_NUSCENES))
        np.testing.assert_array_equal(valid, [False, False, False, False, True, True, True])
        np.testing.assert_array_equal(depth, points[:, 2])
        assert np.isnan(uv[~valid]).all()
        np.testing.assert_array_equal(uv[valid], [[816.27, 491.51]] * 3)
        _, _, valid_far = project_points(points, CameraIntrinsics(K_NUSCENES), min_depth_m=1.0)
        np.testing.assert_array_equal(valid_far, [False] * 6 + [True])

    def test_non_finite_points(self) -> None:
        points = np.array([[np.nan, 0, 5], [0, np.inf, 5], [0, 0, np.inf], [0, 0, -np.inf], [1, 1, 5]])
        uv, _, valid = project_points(points, CameraIntrinsics(K_NUSCENES))
        np.testing.assert_array_equal(valid, [False, False, False, False, True])
        assert np.isnan(uv[:4]).all()
        assert np.isfinite(uv[4]).all()

    @pytest.mark.parametrize("name", ["barrel_folding", "rational_8_folding"])
    def test_points_beyond_valid_radius_invalid(self, name: str) -> None:
        d = DISTORTIONS[name]
        r_max = max_valid_radius(d)
        assert math.isfinite(r_max)
        z = 7.0
        directions = np.array([[1.0, 0.0], [0.0, 1.0], [-0.6, 0.8]])
        for sign_r, expect in ((0.999, True), (1.001, False), (3.0, False)):
            xy = directions * r_max * sign_r * z
            points = np.column_stack([xy, np.full(len(xy), z)])
            uv, _, valid = project_points(points, CameraIntrinsics(K_BARREL, d))
            assert (valid == expect).all(), (sign_r, valid)
            assert np.isnan(uv).all() != expect

    def test_cv2_wraps_points_outside_the_field_of_view_back_into_the_image(self) -> None:
        # aiMotive-like barrel with a small negative k3: the radial mapping peaks at r ~ 1.87 (62 deg off
        # axis) and then falls, so points far to the side come back into the 1280 x 704 image.
        d = DISTORTIONS["barrel_folding"]
        intrinsics = CameraIntrinsics(K_BARREL, d, 1280, 704)
        r_max = max_valid_radius(d)
        assert r_max == pytest.approx(1.8677, abs=1e-4)
        # 67.4 and 68.2 degrees to the right of the optical axis, 20 m ahead.
        points = np.array([[2.4 * 20.0, 0.0, 20.0], [2.5 * 20.0, 0.0, 20.0]])
        cv_uv = cv2_project(points, K_BARREL, d)
        assert in_image(cv_uv, 1280, 704).all()
        # One folds back on its own side, the other flips through the centre to the left half.
        assert cv_uv[0, 0] > 641.1
        assert cv_uv[1, 0] < 641.1
        # The image's real edge is ~35 deg off axis: both points are far outside the field of view.
        edge_r = brentq(lambda r: float(radial_map(r, d)) - 641.1 / 1054.7, 0.1, r_max)
        assert np.degrees(np.arctan(edge_r)) < 40.0
        uv, _, valid = project_points(points, intrinsics)
        assert not valid.any()
        assert np.isnan(uv).all()

    def test_monotone_barrel_keeps_far_points(self) -> None:
        # -0.30 / 0.084 alone never folds (1 + 3 k1 s + 5 k2 s² has no real root): far points stay valid
        # and cv2 puts them outside the image on their own side, as it should.
        d = DISTORTIONS["strong_barrel_aimotive_like"]
        assert max_valid_radius(d) == math.inf
        points = np.array([[2.5 * 20.0, 0.0, 20.0]])
        uv, _, valid = project_points(points, CameraIntrinsics(K_BARREL, d))
        assert valid.all()
        assert uv[0, 0] > 1280
        np.testing.assert_array_equal(uv, cv2_project(points, K_BARREL, d))


class TestMaxValidRadius:
    def test_no_distortion_is_unbounded(self) -> None:
        assert max_valid_radius(np.zeros(0)) == math.inf
        assert max_valid_radius(np.zeros(8)) == math.inf
        # Tangential terms alone do not bound the radial mapping.
        assert max_valid_radius(np.array([0.0, 0.0, 0.01, -0.01])) == math.inf

    def test_pure_k1_barrel_analytic(self) -> None:
        # f = r (1 + k1 r²): f' = 1 + 3 k1 r² = 0 at r = 1 / sqrt(-3 k1).
        for k1 in (-0.05, -0.3, -1.2):
            assert max_valid_radius(np.array([k1, 0.0, 0.0, 0.0])) == pytest.approx(
                1.0 / math.sqrt(-3.0 * k1), rel=1e-14
            )

    def test_pincushion_is_unbounded(self) -> None:
        assert max_valid_radius(np.array([0.1, 0.02, 0.0, 0.0, 0.001])) == math.inf

    def test_k1_k2_discriminant(self) -> None:
        # g(s) = 1 + 3 k1 s + 5 k2 s²: a real root exists iff 9 k1² >= 20 k2.
        assert max_valid_radius(np.array([-0.3, 0.084, 0, 0])) == math.inf
        k1, k2 = -0.3, 0.02
        s = (-3 * k1 - math.sqrt(9 * k1**2 - 20 * k2)) / (10 * k2)
        assert max_valid_radius(np.array([k1, k2, 0, 0])) == pytest.approx(math.sqrt(s), rel=1e-13)

    def test_pole_of_the_rational_denominator(self) -> None:
        # f = r / (1 - 0.5 r²) increases everywhere up to its pole at r = sqrt(2).
        d = np.array([0, 0, 0, 0, 0, -0.5, 0, 0])
        assert max_valid_radius(d) == pytest.approx(math.sqrt(2.0), rel=1e-14)

    @pytest.mark.parametrize("name", ["barrel_folding", "rational_8_folding"])
    def test_is_first_stationary_point(self, name: str) -> None:
        d = DISTORTIONS[name]
        r_max = max_valid_radius(d)
        r = np.linspace(0, r_max, 20_001)
        assert np.all(np.diff(radial_map(r, d)) > 0)
        slope = (radial_map(r_max + 1e-7, d) - radial_map(r_max - 1e-7, d)) / 2e-7
        assert abs(float(slope)) < 1e-6
        assert radial_map(r_max * 1.01, d) < radial_map(r_max, d)

    @pytest.mark.parametrize("name", sorted(DISTORTIONS))
    def test_monotone_up_to_bound_on_every_set(self, name: str) -> None:
        d = DISTORTIONS[name]
        r = np.linspace(0, min(max_valid_radius(d), 10.0) * (1 - 1e-9), 50_001)
        assert np.all(np.diff(radial_map(r, d)) > 0)

    def test_padding_equivalent_and_cached(self) -> None:
        d4 = np.array([-0.2, 0.0, 0.001, 0.002])
        d8 = distortion_coefficients(d4)
        np.testing.assert_array_equal(d8, [-0.2, 0.0, 0.001, 0.002, 0, 0, 0, 0])
        r4 = max_valid_radius(d4)
        hits = camera._max_valid_radius.cache_info().hits
        assert max_valid_radius(d8) == r4
        assert max_valid_radius(np.append(d4, 0.0)) == r4
        assert camera._max_valid_radius.cache_info().hits == hits + 2

    def test_bad_coefficients(self) -> None:
        with pytest.raises(ValueError, match="0, 4, 5 or 8"):
            max_valid_radius(np.zeros(6))
        with pytest.raises(ValueError, match="finite"):
            max_valid_radius(np.array([np.nan, 0, 0, 0]))


class TestKernelAndReference:
    @pytest.mark.parametrize("name", sorted(DISTORTIONS))
    def test_numba_equals_numpy_reference(self, name: str) -> None:
        d = DISTORTIONS[name]
        rng = np.random.default_rng(3)
        # Include invalid points: behind, too near, non-finite, beyond any valid radius.
        points = np.column_stack(
            [rng.uniform(-40, 40, 5000), rng.uniform(-40, 40, 5000), rng.uniform(-5, 60, 5000)]
        )
        points[:10, 0] = np.nan
        intrinsics = CameraIntrinsics(K_NUSCENES, d)
        uv, depth, valid = project_points(points, intrinsics)
        uv_ref, depth_ref, valid_ref = project_points_reference(points, intrinsics)
        np.testing.assert_array_equal(valid, valid_ref)
        np.testing.assert_array_equal(uv, uv_ref)  # NaN where invalid, on both
        np.testing.assert_array_equal(depth, depth_ref)
        assert 0 < valid.sum() < len(valid)

    def test_uncompiled_kernel_equals_compiled(self) -> None:
        # The kernel's Python body (what NUMBA_DISABLE_JIT=1 runs) against its compiled form.
        d = distortion_coefficients(DISTORTIONS["barrel_folding"])
        points = random_points_within(3.0, 300, seed=4, r_cap=3.0)
        r2_max = max_valid_radius(d) ** 2
        outs = []
        # Under NUMBA_DISABLE_JIT=1 the kernel is a plain function without py_func.
        python_body = getattr(camera._project_kernel, "py_func", camera._project_kernel)
        for fn in (camera._project_kernel, python_body):
            uv = np.empty((300, 2))
            valid = np.empty(300, dtype=bool)
            fn(points, 1054.7, 1054.7, 641.1, 352.4, 0.0, d, r2_max, 0.1, uv, valid)
            outs.append((uv, valid))
        np.testing.assert_array_equal(outs[0][0], outs[1][0])
        np.testing.assert_array_equal(outs[0][1], outs[1][1])
        assert 0 < outs[0][1].sum() < 300


class TestPinhole:
    def test_hand_computed(self) -> None:
        uv, depth, valid = project_points(np.array([[2.0, -1.0, 10.0]]), CameraIntrinsics(K_NUSCENES))
        assert valid[0]
        assert depth[0] == 10.0
        np.testing.assert_allclose(uv[0], [816.27 + 1266.4 * 0.2, 491.51 - 1266.4 * 0.1], rtol=0, atol=1e-9)

    def test_axes_convention(self) -> None:
        # x right, y down, z forward: +x moves right (u grows), +y moves down (v grows).
        uv, _, _ = project_points(
            np.array([[0, 0, 5.0], [1, 0, 5.0], [0, 1, 5.0]]), CameraIntrinsics(K_NUSCENES)
        )
        assert uv[1, 0] > uv[0, 0]
        assert uv[1, 1] == uv[0, 1]
        assert uv[2, 1] > uv[0, 1]
        assert uv[2, 0] == uv[0, 0]

    def test_skew_is_applied(self) -> None:
        k = K_NUSCENES.copy()
        k[0, 1] = 3.0
        uv, _, _ = project_points(np.array([[1.0, 2.0, 10.0]]), CameraIntrinsics(k))
        np.testing.assert_allclose(
            uv[0], [1266.4 * 0.1 + 3.0 * 0.2 + 816.27, 1266.4 * 0.2 + 491.51], atol=1e-9
        )

    def test_float32_input_and_empty(self) -> None:
        points = random_points_within(math.inf, 50, seed=5).astype(np.float32)
        intrinsics = CameraIntrinsics(K_NUSCENES, DISTORTIONS["nuscenes_like_5"])
        uv32, _, _ = project_points(points, intrinsics)
        uv64, _, _ = project_points(points.astype(np.float64), intrinsics)
        np.testing.assert_array_equal(uv32, uv64)
        uv, depth, valid = project_points(np.zeros((0, 3)), intrinsics)
        assert uv.shape == (0, 2)
        assert depth.shape == (0,)
        assert valid.shape == (0,)
        assert valid.dtype == np.bool_

    def test_bad_arguments(self) -> None:
        intrinsics = CameraIntrinsics(K_NUSCENES)
        with pytest.raises(ShapeError, match="points_cam"):
            project_points(np.zeros((5, 2)), intrinsics)
        for bad in (0.0, -1.0, math.nan):
            with pytest.raises(ValueError, match="min_depth_m"):
                project_points(np.zeros((1, 3)), intrinsics, min_depth_m=bad)


class TestInImage:
    def test_pixel_area_boundaries(self) -> None:
        uv = np.array(
            [
                [-0.5, -0.5],  # outer corner of pixel (0, 0): in
                [-0.5001, 10.0],
                [10.0, -0.5001],
                [1599.4999, 899.4999],  # inside pixel (1599, 899)
                [1599.5, 10.0],  # would round to column 1600
                [10.0, 899.5],
                [np.nan, 10.0],
                [800.0, 450.0],
            ]
        )
        np.testing.assert_array_equal(
            in_image(uv, 1600, 900), [True, False, False, True, False, False, False, True]
        )

    def test_margin(self) -> None:
        uv = np.array([[5.0, 450.0], [1590.0, 450.0], [-3.0, 450.0], [800.0, 902.0]])
        np.testing.assert_array_equal(in_image(uv, 1600, 900, margin_px=10), [False, False, False, False])
        np.testing.assert_array_equal(in_image(uv, 1600, 900, margin_px=5), [True, True, False, False])
        np.testing.assert_array_equal(in_image(uv, 1600, 900), [True, True, False, False])
        np.testing.assert_array_equal(in_image(uv, 1600, 900, margin_px=-3), [True, True, True, True])

    def test_bad_arguments(self) -> None:
        with pytest.raises(ValueError, match="image size"):
            in_image(np.zeros((1, 2)), 0, 900)
        with pytest.raises(ShapeError):
            in_image(np.zeros((1, 3)), 1600, 900)


class TestIntrinsicsInterplay:
    def test_distortion_coefficients_order(self) -> None:
        np.testing.assert_array_equal(distortion_coefficients(np.arange(1.0, 6.0)), [1, 2, 3, 4, 5, 0, 0, 0])
        assert distortion_coefficients(np.zeros(0)).shape == (8,)

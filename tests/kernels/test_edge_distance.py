"""Edge map, distance transform and edge attraction (Levinson & Thrun) on images with known edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusioncheck.kernels.edge_distance import (
    EdgeParameters,
    edge_attraction,
    edge_attraction_image,
    edge_distance,
    edge_map,
    to_grey,
)


def _square_image() -> np.ndarray:
    image = np.full((120, 160), 40, dtype=np.uint8)
    image[30:90, 50:110] = 220  # bright square: rows 30..89, columns 50..109
    return image


def test_edges_lie_on_the_square_outline() -> None:
    edges = edge_map(_square_image())
    rows, cols = np.nonzero(edges)
    assert rows.size > 200
    on_outline = (
        (np.abs(rows - 29.5) <= 1.5) | (np.abs(rows - 89.5) <= 1.5)
        | (np.abs(cols - 49.5) <= 1.5) | (np.abs(cols - 109.5) <= 1.5)
    )  # fmt: skip
    assert on_outline.all()
    # The interior and the background far from the square have no edges.
    assert not edges[40:80, 60:100].any()
    assert not edges[:20].any()


def test_bgr_and_grey_give_the_same_edges() -> None:
    grey = _square_image()
    bgr = np.repeat(grey[:, :, None], 3, axis=2)
    assert np.array_equal(to_grey(bgr), grey)
    assert np.array_equal(edge_map(bgr), edge_map(grey))


def test_distance_to_a_vertical_edge_line() -> None:
    edges = np.zeros((50, 80), dtype=bool)
    edges[:, 30] = True
    d = edge_distance(edges)
    assert d.dtype == np.float32
    expected = np.abs(np.arange(80) - 30).astype(np.float32)
    np.testing.assert_allclose(d[25], expected, atol=1e-3)


def test_distance_without_edges_is_beyond_the_image() -> None:
    d = edge_distance(np.zeros((10, 20), dtype=bool))
    assert np.all(d == 30.0)


def test_attraction_follows_levinson_thrun() -> None:
    params = EdgeParameters(edge_weight=1.0 / 3.0, decay_px=-1.0 / math.log(0.98))
    d = np.array([[0.0, 1.0, 5.0, 40.0]], dtype=np.float32)
    a = edge_attraction(d, params)
    expected = [1.0, (2.0 / 3.0) * 0.98, (2.0 / 3.0) * 0.98**5, (2.0 / 3.0) * 0.98**40]
    np.testing.assert_allclose(a[0], expected, rtol=1e-5)


def test_attraction_image_peaks_on_edges_and_decays_away() -> None:
    a = edge_attraction_image(_square_image(), EdgeParameters(decay_px=5.0))
    edges = edge_map(_square_image())
    assert np.all(a[edges] == 1.0)
    row = a[60]
    # Moving left from the square's left edge, the attraction falls off monotonically.
    left = row[20:49][::-1]
    assert np.all(np.diff(left) <= 0.0)
    assert left[-1] < 0.01


@pytest.mark.parametrize(
    "kwargs",
    [
        {"blur_sigma_px": -1.0},
        {"canny_low": 200.0, "canny_high": 100.0},
        {"edge_weight": 1.5},
        {"decay_px": 0.0},
    ],
)
def test_bad_parameters_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        EdgeParameters(**kwargs)


def test_bad_image_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="image"):
        edge_map(np.zeros((4, 4, 2), dtype=np.uint8))

"""Image edges, their distance transform, and the edge-attraction image of Levinson & Thrun (RSS 2013).

Levinson & Thrun, "Automatic Online Calibration of Cameras and Lasers" (RSS 2013) score a camera-LiDAR
extrinsic by how well projected LiDAR depth discontinuities land on image edges. The image side is an
*edge-attraction* map that is largest on an edge and decays with the distance to the nearest edge, so
that a slightly wrong extrinsic still earns partial credit and the score varies smoothly with it:

    D(u, v) = alpha * E(u, v) + (1 - alpha) * gamma ** d(u, v)

with ``E`` the (binary) edge map, ``d`` the distance in pixels to the nearest edge pixel and L&T's
``alpha = 1/3``, ``gamma = 0.98`` (a decay length of ``-1 / ln(gamma)`` ~ 49.5 px). On an edge pixel
``D = 1``; off edges ``D = (1 - alpha) * gamma ** d``. Here the edges come from OpenCV's Canny detector on
the grey image after a Gaussian blur, and ``d`` from ``cv2.distanceTransform`` (Euclidean, 5x5 chamfer
mask: within ~2 % of exact).

Pixel convention (OpenCV): pixel ``(u, v)`` = column ``u``, row ``v``, centre at integer coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fusioncheck.typing import Float32Array


@dataclass(frozen=True)
class EdgeParameters:
    """How edges are found and how their attraction decays.

    Attributes:
        blur_sigma_px: standard deviation of the Gaussian blur before Canny, pixels (0 = no blur). It
            suppresses texture noise (asphalt grain, JPEG blocks) that would otherwise give edges
            everywhere.
        canny_low: Canny's lower hysteresis threshold on the gradient magnitude (L2 norm of the 3x3 Sobel
            gradient of 8-bit grey values).
        canny_high: Canny's upper threshold; pixels above it seed edges, pixels above ``canny_low``
            connected to a seed continue them.
        edge_weight: L&T's ``alpha``: extra attraction of an edge pixel itself (0..1).
        decay_px: decay length of the attraction, pixels: ``gamma = exp(-1 / decay_px)``. L&T's
            ``gamma = 0.98`` is ``decay_px`` ~ 49.5; a shorter decay gives a sharper optimum.
    """

    blur_sigma_px: float = 1.0
    canny_low: float = 50.0
    canny_high: float = 150.0
    edge_weight: float = 1.0 / 3.0
    decay_px: float = 49.5

    def __post_init__(self) -> None:
        if not (self.blur_sigma_px >= 0.0 and math.isfinite(self.blur_sigma_px)):
            raise ValueError(f"blur_sigma_px must be a finite number >= 0, got {self.blur_sigma_px}")
        if not 0.0 <= self.canny_low <= self.canny_high:
            raise ValueError(
                f"Canny thresholds must satisfy 0 <= low <= high, got {self.canny_low}, {self.canny_high}"
            )
        if not 0.0 <= self.edge_weight <= 1.0:
            raise ValueError(f"edge_weight must lie in 0..1, got {self.edge_weight}")
        if not (self.decay_px > 0.0 and math.isfinite(self.decay_px)):
            raise ValueError(f"decay_px must be a positive finite number of pixels, got {self.decay_px}")


def to_grey(pixels: np.ndarray) -> np.ndarray:
    """``(H, W)`` uint8 grey image from ``(H, W, 3)`` uint8 BGR or ``(H, W)`` uint8/float grey pixels."""
    image = np.asarray(pixels)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_BGR2GRAY)
    elif image.ndim != 2:
        raise ValueError(f"pixels: expected an (H, W) grey or (H, W, 3) BGR image, got shape {image.shape}")
    if image.dtype != np.uint8:
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image)


def edge_map(pixels: np.ndarray, parameters: EdgeParameters | None = None) -> np.ndarray:
    """Binary edge map of an image (Canny on the blurred grey image).

    Args:
        pixels: ``(H, W, 3)`` uint8 BGR or ``(H, W)`` grey image.
        parameters: blur and Canny thresholds (defaults: :class:`EdgeParameters`).

    Returns:
        ``(H, W)`` bool, True on edge pixels.
    """
    p = parameters or EdgeParameters()
    grey = to_grey(pixels)
    if p.blur_sigma_px > 0.0:
        grey = cv2.GaussianBlur(grey, (0, 0), p.blur_sigma_px)
    edges = cv2.Canny(grey, p.canny_low, p.canny_high, L2gradient=True)
    return np.asarray(edges > 0)


def edge_distance(edges: np.ndarray) -> Float32Array:
    """Euclidean distance of every pixel to the nearest edge pixel (``cv2.distanceTransform``).

    Args:
        edges: ``(H, W)`` bool edge map.

    Returns:
        ``(H, W)`` float32 distance in pixels (0 on edges). Without any edge pixel every distance is
        ``H + W`` (farther than anything in the image), so the attraction is ~0 everywhere.
    """
    e = np.asarray(edges, dtype=bool)
    if e.ndim != 2:
        raise ValueError(f"edges: expected an (H, W) map, got shape {e.shape}")
    if not e.any():
        return np.full(e.shape, float(e.shape[0] + e.shape[1]), dtype=np.float32)
    # distanceTransform measures the distance to the nearest zero pixel: edges must be the zeros.
    non_edge = np.where(e, np.uint8(0), np.uint8(255))  # uint8 directly, no int64 intermediate
    # The 5x5 chamfer mask approximates the Euclidean distance within ~2 % at a tenth of the exact
    # transform's cost; the attraction decays over a few pixels, so the difference does not matter.
    return np.asarray(cv2.distanceTransform(non_edge, cv2.DIST_L2, cv2.DIST_MASK_5), dtype=np.float32)


def edge_attraction(distance_px: np.ndarray, parameters: EdgeParameters | None = None) -> Float32Array:
    """L&T's edge-attraction image from the distance to the nearest edge.

    Args:
        distance_px: ``(H, W)`` distance to the nearest edge, pixels (:func:`edge_distance`).
        parameters: ``edge_weight`` (alpha) and ``decay_px`` (defaults: :class:`EdgeParameters`).

    Returns:
        ``(H, W)`` float32 in ``0..1``: 1 on edges, ``(1 - alpha) * exp(-d / decay_px)`` elsewhere.
    """
    p = parameters or EdgeParameters()
    d = np.asarray(distance_px, dtype=np.float32)
    attraction = (1.0 - p.edge_weight) * np.exp(-d / np.float32(p.decay_px))
    attraction[d <= 0.0] = 1.0
    return attraction.astype(np.float32, copy=False)


def edge_attraction_image(pixels: np.ndarray, parameters: EdgeParameters | None = None) -> Float32Array:
    """Edge map, distance transform and attraction in one call: ``(H, W)`` float32 in ``0..1``."""
    p = parameters or EdgeParameters()
    return edge_attraction(edge_distance(edge_map(pixels, p)), p)

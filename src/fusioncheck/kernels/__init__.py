"""Numba kernels: arrays in, arrays out, each with a typed wrapper and a plain-numpy reference.

Kernels import nothing from the package but typing aliases and error types, and never touch files.
``python -m fusioncheck.kernels.warmup`` compiles all of them into the numba cache.
"""

from fusioncheck.kernels.points_in_boxes import PointsInBoxesResult, points_in_boxes

__all__ = ["PointsInBoxesResult", "points_in_boxes"]

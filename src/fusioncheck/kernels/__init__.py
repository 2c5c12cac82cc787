"""Numba kernels: arrays in, arrays out, each with a typed wrapper and a plain-numpy reference.

Import a kernel from its module (``from fusioncheck.kernels.points_in_boxes import points_in_boxes``);
this package re-exports nothing, so that module and function names cannot shadow each other.
Kernels import nothing from the package but typing aliases and error types, and never touch files.
``python -m fusioncheck.kernels.warmup`` compiles all of them into the numba cache.
"""

"""Compile every numba kernel of the package once, so that the numba cache is filled before the first run.

Run ``python -m fusioncheck.kernels.warmup`` after installing (``scripts/install.sh`` does). Each kernel
module provides a ``warm_up()`` that calls its public wrapper on tiny inputs for every dtype it supports
(float32 and float64 points); a new kernel adds its ``warm_up`` to :data:`WARM_UPS`. Set
``NUMBA_CACHE_DIR`` to a writable directory where the installation itself is read-only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence

from fusioncheck.geometry import box_iou, camera
from fusioncheck.kernels import (
    box_offset_score,
    camera_offset_score,
    edge_score,
    grid_clusters,
    ground_scan,
    lidar_edges,
    points_in_boxes,
    scan_lines,
)

#: The warm-up callables, one per kernel module: each compiles (or loads from the cache) its kernels.
WARM_UPS: tuple[Callable[[], None], ...] = (
    points_in_boxes.warm_up,
    ground_scan.warm_up,
    camera.warm_up,
    box_offset_score.warm_up,
    camera_offset_score.warm_up,
    edge_score.warm_up,
    scan_lines.warm_up,
    box_iou.warm_up,
    grid_clusters.warm_up,
    lidar_edges.warm_up,
)


def warm_up_all(warm_ups: Sequence[Callable[[], None]] = WARM_UPS) -> list[tuple[str, float]]:
    """Call every warm-up; returns ``(name, seconds)`` per warm-up, in order."""
    timings = []
    for warm_up in warm_ups:
        start = time.perf_counter()
        warm_up()
        timings.append((f"{warm_up.__module__}.{warm_up.__qualname__}", time.perf_counter() - start))
    return timings


def main() -> int:
    """Warm up all kernels and print how long each took; exit status 0."""
    for name, seconds in warm_up_all():
        print(f"fusioncheck: warmed up {name} in {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

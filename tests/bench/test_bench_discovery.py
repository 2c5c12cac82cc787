from __future__ import annotations

import numpy as np

from fusioncheck.bench.discovery import _agreement, format_discovery_bench


def test_agreement_is_purity_both_ways() -> None:
    grid = np.array([0, 0, 0, 1, 1, 2])
    same = np.array([5, 5, 5, 7, 7, 9])
    assert _agreement(grid, same) == {"grid_in_dbscan": 1.0, "dbscan_in_grid": 1.0}
    merged = np.array([3, 3, 3, 3, 3, 4])  # DBSCAN joins grid clusters 0 and 1
    a = _agreement(grid, merged)
    assert a["grid_in_dbscan"] == 1.0 and a["dbscan_in_grid"] == round(4 / 6, 4)


def test_format_names_every_number() -> None:
    lidar = {
        "points": 34720, "boxes": 50, "free_points": 1209, "sweep_median_ms": 9.5, "clusters_kept": 40,
        "grid_median_ms": 0.1, "dbscan_median_ms": 3.0, "dbscan_over_grid": 30.0, "grid_clusters": 90,
        "dbscan_clusters": 88, "agreement": {"grid_in_dbscan": 0.99, "dbscan_in_grid": 1.0},
    }  # fmt: skip
    radar = {
        "scans": 294, "returns": 3340, "tracks": 25, "per_scan_ms": 0.9, "devkit_per_scan_ms": 5.0,
        "devkit_over_fusioncheck": 5.5, "associated": 1502, "associated_devkit": 1502,
    }  # fmt: skip
    text = format_discovery_bench({"repeats": 5, "lidar": lidar, "radar": radar})
    for needle in ("34,720 points", "9.50 ms", "30x", "99.0 %", "0.900 ms", "5.5x", "1502 vs 1502"):
        assert needle in text

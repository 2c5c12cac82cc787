"""The loaders bench measures equal work on both copies (timings themselves are not asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusioncheck.bench.loaders import SAMPLE, format_loaders_bench, load_log
from fusioncheck.convert.openlabel_writer import write_openlabel
from fusioncheck.loaders import NuScenesSource


def test_both_copies_load_the_same_content(tmp_path: Path) -> None:
    write_openlabel(NuScenesSource(SAMPLE), tmp_path)
    nuscenes = load_log(SAMPLE, "nuscenes")
    openlabel = load_log(tmp_path, "openlabel")
    assert openlabel == nuscenes
    # The sample: 2 scenes of 10 keyframes, 20 LiDAR sweeps and about 600 radar scans.
    assert nuscenes["files"] > 600 and nuscenes["points"] > 100_000 and nuscenes["boxes"] == 370


def test_table_reports_ratio_and_target() -> None:
    result = {
        "results": [
            {
                "pair": "openlabel",
                "format": "openlabel",
                "contents": {"boxes": 10, "files": 3},
                "median_s": {"openlabel": 2.0, "nuscenes": 1.0},
                "speed_ratio": 0.5,
            }
        ],
        "skipped": ["av2: pyarrow is not installed"],
    }
    text = format_loaders_bench(result)
    assert "0.50x" in text and "skipped: av2" in text and ">= 0.80x" in text
    assert pytest.approx(0.5) == result["results"][0]["speed_ratio"]

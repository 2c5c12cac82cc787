"""A delivery of 20 simulated logs in two dataroots, one log with a truncated LiDAR file."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from fusioncheck.loaders import open_source
from fusioncheck.simulate import SimConfig, simulate


@dataclass(frozen=True)
class Delivery:
    roots: tuple[Path, Path]
    corrupt_sequence: str
    corrupt_file: Path


def delivery_config() -> SimConfig:
    """Two keyframes per log, tiny images: the runner is under test here, not the checks."""
    return replace(SimConfig.small(), duration_s=1.0, image_width=160, image_height=96, n_objects=12)


@pytest.fixture(scope="session")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Delivery:
    base = tmp_path_factory.mktemp("delivery")
    a = simulate(base / "a", 10, 5, config=delivery_config())
    b = simulate(base / "b", 10, 6, config=delivery_config())
    assert len(a.scenes) == len(b.scenes) == 10
    sequence = open_source(base / "b").load_sequence("sim-6-0003")
    lidar = sequence.keyframes[1].samples["LIDAR_TOP"].path
    data = lidar.read_bytes()
    lidar.write_bytes(data[: len(data) // 2 + 3])  # no longer a whole number of points
    return Delivery((base / "a", base / "b"), "sim-6-0003", lidar)

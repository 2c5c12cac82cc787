"""One simulated log with a label offset and clock faults on a camera and two radars (session scope)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fusioncheck.context import SequenceContext
from fusioncheck.loaders.nuscenes import NuScenesSource
from fusioncheck.simulate import FaultSpec, SimConfig, SimulationResult, simulate

#: 10 s of the small rig with 50 objects: about ten moving tracks (the small preset has two to four).
SYNC_CONFIG = replace(SimConfig.small(), duration_s=10.0, n_objects=50)
SYNC_FAULTS = {
    "label_time_offset_ms": 40.0,
    "stream_time_offsets": {
        "CAM_BACK_LEFT": 40.0,
        "RADAR_FRONT": -40.0,
        "RADAR_BACK_LEFT": {"offset_ms": 20.0, "drift_ms_per_s": 1.0},
    },
}


@pytest.fixture(scope="session")
def offset_log(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(tmp_path_factory.mktemp("sync"), 1, 4, FaultSpec.from_dict(SYNC_FAULTS), SYNC_CONFIG)


@pytest.fixture(scope="session")
def offset_context(offset_log: SimulationResult) -> SequenceContext:
    source = NuScenesSource(offset_log.out_dir)
    return SequenceContext(source, source.load_sequence(offset_log.scenes[0]))

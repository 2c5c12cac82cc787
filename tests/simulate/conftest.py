"""Shared simulator fixtures: a tiny clean log and the same log (same seed) with faults."""

from __future__ import annotations

import pytest

from fusioncheck.simulate import FaultSpec, SimulationResult, simulate

from .helpers import FAULTS, SCENES, SEED, tiny_config


@pytest.fixture(scope="session")
def clean_log(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(tmp_path_factory.mktemp("clean"), SCENES, SEED, config=tiny_config())


@pytest.fixture(scope="session")
def faulty_log(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(
        tmp_path_factory.mktemp("faulty"), SCENES, SEED, FaultSpec.from_dict(FAULTS), tiny_config()
    )

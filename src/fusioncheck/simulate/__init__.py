"""Simulator of nuScenes-layout driving logs with known, injected label faults.

``simulate(out_dir, scenes, seed, faults, config)`` writes a nuScenes dataroot (13 tables, LiDAR sweeps,
camera JPEGs, radar PCDs) of a simulated vehicle driving through traffic, plus ``faults.json``: what was
injected and the ground truth of every box. Accuracy tests of the checks score against it.

Modules: ``config`` (SimConfig), ``faults`` (FaultSpec, JSON loader), ``world`` (road, motions, object
shapes), ``rig`` (sensor mounting), ``raycast`` (numba ray caster), ``lidar``, ``camera``, ``radar``
(sensor models), ``labels`` (annotation rule, noise, faults), ``nuscenes_writer`` (tables and files),
``simulation`` (the orchestration and the ``faults.json`` format).
"""

from fusioncheck.simulate.config import LabelNoise, SimConfig
from fusioncheck.simulate.faults import DeleteSpec, FaultSpec, load_fault_spec
from fusioncheck.simulate.nuscenes_writer import VERSION
from fusioncheck.simulate.simulation import SimulationResult, simulate

__all__ = [
    "VERSION",
    "DeleteSpec",
    "FaultSpec",
    "LabelNoise",
    "SimConfig",
    "SimulationResult",
    "load_fault_spec",
    "simulate",
]

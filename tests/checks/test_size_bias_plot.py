"""The size-bias figure: drawn from class samples, skipped when no class has evidence."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from fusioncheck.checks.size_bias import NOTE_SAMPLE_NAME, SAMPLE_NAME
from fusioncheck.plots.size_bias import plot_run_size_bias, plot_size_residuals


def samples(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    items = [
        [f"t{k % 12}", float(-0.1 + rng.normal(0, 0.02)), float(rng.normal(0, 0.02)), None] for k in range(60)
    ]
    return {
        "vehicle.car": {SAMPLE_NAME: items},
        "human.pedestrian.adult": {NOTE_SAMPLE_NAME: [["length", "limbs"], ["width", "limbs"]]},
    }


def test_sequence_and_run_figures_are_written(tmp_path):
    path = plot_size_residuals(samples(0), tmp_path / "seq" / "size_bias.png", "one sequence")
    assert path is not None and path.stat().st_size > 10_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = [SimpleNamespace(class_samples=samples(1)), SimpleNamespace(class_samples=samples(2))]
    run = plot_run_size_bias(results, tmp_path)
    assert run == tmp_path / "size_bias_run.png" and run.stat().st_size > 10_000


def test_nothing_to_draw_returns_none(tmp_path):
    assert plot_size_residuals({"vehicle.car": {NOTE_SAMPLE_NAME: []}}, tmp_path / "x.png", "t") is None
    assert not (tmp_path / "x.png").exists()

"""Size evidence of one box (synthetic points) and the per-class bias with its track bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.checks.size_bias import (
    NOTE_SAMPLE_NAME,
    SAMPLE_NAME,
    axis_bias,
    class_size_bias,
    trimmed_mean,
)
from fusioncheck.checks.size_evidence import size_evidence


def side_face_points(rng, half_len, half_wid, height, face_y, n=400, noise=0.01):
    """Points on a vertical face at y = face_y (box frame), over x in the box and z in its lower half."""
    x = rng.uniform(-half_len + 0.4, half_len - 0.4, n)
    z = rng.uniform(-height / 2 + 0.2, 0.0, n)
    y = face_y + rng.normal(0.0, noise, n)
    return np.stack([x, y, z], axis=1)


def test_sensor_side_face_gives_the_true_width():
    rng = np.random.default_rng(0)
    true_width = 2.0
    labelled = np.array([4.5, 1.8, 1.6])  # 10 % too narrow, centred on the object
    pts = side_face_points(rng, 2.25, 0.9, 1.6, face_y=-true_width / 2)
    sensor = np.array([0.5, -10.0, 1.0])  # on the box's right (-y) side
    ev = size_evidence(pts, labelled, sensor, "vehicle.car")
    assert ev.kind[1] == "face"
    assert ev.true_size_m[1] == pytest.approx(true_width, abs=0.01)
    assert ev.residual(labelled)[1] == pytest.approx(1.8 / 2.0 - 1.0, abs=0.006)
    # Length: the front and back faces do not face the sensor.
    assert np.isnan(ev.true_size_m[0])


def test_horizontal_surfaces_next_to_the_face_do_not_pull_it_in():
    rng = np.random.default_rng(1)
    labelled = np.array([4.5, 2.0, 1.6])
    face = side_face_points(rng, 2.25, 1.0, 1.6, face_y=-1.0, n=200)
    # A shoulder seen from above, reaching 0.15 m inwards from the face, just below mid-height.
    shoulder = np.stack(
        [rng.uniform(-1.8, 1.8, 200), rng.uniform(-1.0, -0.85, 200), np.full(200, -0.05)], axis=1
    )
    ev = size_evidence(np.concatenate([face, shoulder]), labelled, np.array([0.0, -8.0, 1.0]), "vehicle.car")
    assert ev.true_size_m[1] == pytest.approx(2.0, abs=0.015)


def test_pedestrian_length_and_width_are_not_measured():
    rng = np.random.default_rng(2)
    pts = side_face_points(rng, 0.4, 0.3, 1.7, face_y=-0.3)
    ev = size_evidence(pts, np.array([0.8, 0.6, 1.7]), np.array([0.0, -6.0, 1.0]), "human.pedestrian.adult")
    assert np.isnan(ev.true_size_m[:2]).all()


def test_trimmed_mean_ignores_outliers():
    values = np.r_[np.full(18, -0.1), 5.0, -5.0]
    assert trimmed_mean(values) == pytest.approx(-0.1)


def test_axis_bias_recovers_a_known_bias_and_its_interval_covers_it():
    rng = np.random.default_rng(3)
    covered = 0
    for trial in range(40):
        n_tracks = 30
        track_effect = rng.normal(0.0, 0.02, n_tracks)  # boxes of one track share an error
        tracks = np.repeat(np.arange(n_tracks), 8)
        residuals = -0.1 + track_effect[tracks] + rng.normal(0.0, 0.03, tracks.size)
        bias = axis_bias(residuals, tracks, seed=trial)
        assert bias.estimate == pytest.approx(-0.1, abs=0.02)
        covered += bias.ci95[0] <= -0.1 <= bias.ci95[1]
        assert bias.boxes == 240 and bias.tracks == 30
    assert covered >= 34  # ~95 % of 40; a box-level bootstrap would cover far less with track effects


def test_axis_bias_needs_support():
    bias = axis_bias(np.array([0.1, 0.2, np.nan]), np.array(["a", "b", "c"]))
    assert np.isnan(bias.estimate) and "2 boxes in 2 tracks" in bias.reason


def test_class_reducer_output():
    rng = np.random.default_rng(4)
    items = [[f"t{k % 10}", float(-0.05 + rng.normal(0, 0.01)), None, 0.0] for k in range(60)]
    out = class_size_bias({SAMPLE_NAME: items, NOTE_SAMPLE_NAME: [["width", "no evidence by convention"]]})
    assert out is not None
    assert out["length"] == pytest.approx(-0.05, abs=0.005)
    lo, hi = out["ci95"]["length"]
    assert lo < -0.05 < hi and hi - lo < 0.02
    assert out["width"] is None and out["not_estimable"]["width"] == "no evidence by convention"
    assert out["height"] == 0.0 and out["tracks"]["height"] == 10
    assert class_size_bias({}) is None


def test_vectorised_track_bootstrap_equals_pooling_the_drawn_tracks():
    from fusioncheck.checks import size_bias

    rng = np.random.default_rng(5)
    tracks = np.repeat(np.arange(12), rng.integers(1, 9, 12))
    residuals = -0.05 + rng.normal(0.0, 0.04, tracks.size)
    _, index = np.unique(tracks, return_inverse=True)
    replicates = size_bias._bootstrap_over_tracks(1.0 / (1.0 + residuals), index, 12, seed=3)
    drawn = np.random.default_rng(3).integers(0, 12, (size_bias.BOOTSTRAP, 12))
    for b in range(0, size_bias.BOOTSTRAP, 97):
        pooled = np.concatenate([residuals[tracks == k] for k in drawn[b]])
        assert replicates[b] == pytest.approx(size_bias.class_bias(pooled), abs=1e-12)

import numpy as np
import pytest

from fusioncheck.sync.estimate import (
    STATUS_EXCEEDS,
    STATUS_NOT_ESTIMABLE,
    STATUS_OK,
    SearchSettings,
    estimate_from_curves,
    judge,
    refined_minimum,
)


def test_parabola_refinement_finds_the_vertex_between_grid_points():
    offsets = np.array([-10.0, -5.0, 0.0, 2.0, 4.0, 9.0])
    curves = ((offsets - 1.3) ** 2)[None]
    assert refined_minimum(offsets, curves)[0] == pytest.approx(1.3, abs=1e-9)


def quadratic_groups(true_ms, n_groups, noise_ms, seed=0):
    rng = np.random.default_rng(seed)
    centres = true_ms + rng.normal(0.0, noise_ms, n_groups)

    def curves_of(offsets_ms):
        return np.minimum((offsets_ms[None, :] - centres[:, None]) ** 2 / 100.0, 4.0)

    return curves_of, centres


def test_estimate_recovers_the_offset_and_the_interval_covers_it():
    curves_of, centres = quadratic_groups(37.0, 30, 4.0)
    e = estimate_from_curves("labels", "LIDAR_TOP", curves_of, 30, SearchSettings())
    assert e.status == STATUS_OK
    assert e.offset_ms == pytest.approx(centres.mean(), abs=0.3)
    lo, hi = e.ci95_ms
    # The standard error of the mean of 30 groups with 4 ms spread is 0.73 ms: a 95 % interval ~ +-1.4 ms.
    assert lo < 37.0 < hi
    assert 1.5 < hi - lo < 5.0
    assert e.support == 30


def test_too_few_groups_and_edge_minima_are_not_estimable():
    curves_of, _ = quadratic_groups(0.0, 2, 1.0)
    e = estimate_from_curves("RADAR_FRONT", "LIDAR_TOP", curves_of, 2, SearchSettings())
    assert e.status == STATUS_NOT_ESTIMABLE and "fewer than 3" in e.reason
    curves_of, _ = quadratic_groups(400.0, 10, 1.0)
    e = estimate_from_curves("RADAR_FRONT", "LIDAR_TOP", curves_of, 10, SearchSettings())
    assert e.status == STATUS_NOT_ESTIMABLE and "edge" in e.reason


def test_judge_needs_the_whole_interval_beyond_the_tolerance():
    curves_of, _ = quadratic_groups(30.0, 30, 2.0)
    e = judge(estimate_from_curves("labels", "L", curves_of, 30, SearchSettings()), 10.0)
    assert e.status == STATUS_EXCEEDS
    curves_of, _ = quadratic_groups(11.0, 30, 20.0)
    e = judge(estimate_from_curves("labels", "L", curves_of, 30, SearchSettings()), 10.0)
    assert e.ci95_ms[0] < 10.0 and e.status == STATUS_OK

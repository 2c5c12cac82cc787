from __future__ import annotations

from dataclasses import replace

import numpy as np

from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.world import SIDEWALK_M, build_world


def test_vegetation_adds_bushes_and_trees_beside_the_sidewalk_and_keeps_the_other_clutter() -> None:
    config = SimConfig.small()
    plain = build_world(config, 3, 0)
    green = build_world(replace(config, vegetation=True), 3, 0)
    n = len(plain.static)
    assert len(green.static) > n + 10
    # Everything else is drawn from the same random streams as without vegetation.
    np.testing.assert_array_equal(green.static.centers_m[:n], plain.static.centers_m)
    extra = green.static.centers_m[n:]
    s = np.linspace(-200, 400, 6001)
    line = green.road.point(s, 0.0)
    lateral = np.min(np.hypot(*(extra[:, None, :2] - line[None, :, :]).transpose(2, 0, 1)), axis=1)
    assert np.all(lateral > SIDEWALK_M[1]) and np.all(lateral < 17.5)
    tall = green.static.sizes_m[n:, 2]
    assert np.any(green.static.centers_m[n:, 2] - tall / 2 > 1.5)  # tree crowns float above head height
    assert not green.static.is_pole[n:].any()


def test_vegetation_is_recorded_only_when_on() -> None:
    assert "vegetation" not in SimConfig.small().to_dict()
    assert replace(SimConfig.small(), vegetation=True).to_dict()["vegetation"] is True

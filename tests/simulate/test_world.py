"""World generation: motions, shapes inside their boxes, no overlaps, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.simulate import SimConfig
from fusioncheck.simulate.world import (
    EGO_CENTER_AHEAD_M,
    EGO_FOOTPRINT_M,
    SpeedProfile,
    build_world,
    rects_overlap,
    shape_parts,
)


@pytest.fixture(scope="module")
def world():
    return build_world(SimConfig(duration_s=8.0, n_objects=50), seed=5, scene_index=1)


def test_speed_profile_distance_is_integral_of_speed() -> None:
    p = SpeedProfile(6.0, (2.0, 1.0), (7.0, 3.0), (0.3, 1.1))
    t = np.linspace(-2.0, 10.0, 120001)
    integral = np.concatenate([[0.0], np.cumsum(0.5 * (p.speed(t)[1:] + p.speed(t)[:-1]) * np.diff(t))])
    np.testing.assert_allclose(p.distance(t) - p.distance(t[0]), integral, atol=1e-6)
    with pytest.raises(ValueError):
        SpeedProfile(1.0, (2.0,), (5.0,), (0.0,))


def test_object_poses_match_lane_motion(world) -> None:
    t = np.array([-0.3, 0.0, 1.7, 4.2])
    centers, yaws = world.object_poses(t)
    for m, obj in enumerate(world.objects):
        xy, yaw = obj.motion.pose(world.road, t)
        np.testing.assert_allclose(centers[:, m, :2], xy, atol=1e-9)
        np.testing.assert_allclose(np.angle(np.exp(1j * (yaws[:, m] - yaw))), 0.0, atol=1e-12)
        np.testing.assert_allclose(centers[:, m, 2], obj.size_lwh_m[2] / 2)


@pytest.mark.parametrize(
    "kind",
    ["car", "truck", "bus", "motorcycle", "bicycle", "bicycle_parked", "pedestrian", "cone", "barrier"],
)
def test_parts_lie_inside_the_box_and_fill_it(kind: str) -> None:
    size = np.array([4.0, 2.0, 1.6])
    offsets, sizes = shape_parts(kind, size)
    lo = offsets - sizes / 2
    hi = offsets + sizes / 2
    assert np.all(lo >= -size / 2 - 1e-12) and np.all(hi <= size / 2 + 1e-12)
    union_lo, union_hi = lo.min(axis=0), hi.max(axis=0)
    # Every part stands on the ground (the lowest part touches the box bottom) and reaches the top.
    assert union_lo[2] == pytest.approx(-size[2] / 2) and union_hi[2] == pytest.approx(size[2] / 2)
    if kind != "pedestrian":
        np.testing.assert_allclose(union_lo, -size / 2, atol=1e-12)
        np.testing.assert_allclose(union_hi, size / 2, atol=1e-12)
    if kind in ("car", "truck", "bus", "bicycle", "motorcycle", "pedestrian", "cone"):
        assert sizes.shape[0] >= 2  # a shape, not the box itself


def test_objects_never_overlap_each_other_or_the_ego(world) -> None:
    t = np.arange(-0.5, 8.5, 0.1)
    centers, yaws = world.object_poses(t)
    half = np.stack([o.size_lwh_m[:2] / 2 for o in world.objects])
    ego_xy, ego_yaw = world.ego_pose(t)
    ego_c = ego_xy + EGO_CENTER_AHEAD_M * np.stack([np.cos(ego_yaw), np.sin(ego_yaw)], -1)
    for m in range(len(world.objects)):
        others = [k for k in range(len(world.objects)) if k != m]
        hit = rects_overlap(
            centers[:, m : m + 1, :2],
            yaws[:, m : m + 1],
            half[m],
            centers[:, others, :2],
            yaws[:, others],
            half[others],
        )
        assert not np.any(hit), f"object {m} overlaps another"
        assert not np.any(
            rects_overlap(
                centers[:, m, :2], yaws[:, m], half[m], ego_c, ego_yaw, np.array(EGO_FOOTPRINT_M) / 2
            )
        )


def test_population_is_realistic(world) -> None:
    assert len(world.objects) == 50
    categories = {o.category for o in world.objects}
    assert {"vehicle.car", "human.pedestrian.adult"} <= categories
    assert len(world.static) > 0
    for o in world.objects:
        v = o.motion.speed.speed(np.linspace(0, 8, 50))
        limit = {"pedestrian": 2.0, "bicycle": 8.0}.get(o.kind, 18.0)
        assert np.all(v >= 0) and np.all(v <= limit)
    ego_speed = world.ego.speed.speed(np.linspace(0, 8, 50))
    assert np.all((ego_speed >= 0) & (ego_speed <= 21.0))


def test_world_is_deterministic_per_seed_and_scene() -> None:
    config = SimConfig(duration_s=4.0, n_objects=20)
    a, b = build_world(config, 3, 0), build_world(config, 3, 0)
    c = build_world(config, 3, 1)
    ca, _ = a.object_poses(np.array([1.0]))
    cb, _ = b.object_poses(np.array([1.0]))
    cc, _ = c.object_poses(np.array([1.0]))
    np.testing.assert_array_equal(ca, cb)
    assert ca.shape != cc.shape or not np.allclose(ca, cc)


def test_clutter_can_be_switched_off() -> None:
    world = build_world(SimConfig(duration_s=4.0, n_objects=10, clutter=False), 3, 0)
    assert len(world.static) == 0
    assert len(world.parts) == world.parts.n_object_parts

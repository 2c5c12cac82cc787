"""Camera rendering: object edges at their projected pixels, occlusion order, near-plane clipping."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fusioncheck.simulate import SimConfig
from fusioncheck.simulate.camera import clip_near, encode_jpeg, render_image
from fusioncheck.simulate.rig import CameraModel, cameras
from fusioncheck.simulate.world import LaneMotion, SpeedProfile

from .helpers import make_object, make_world


@pytest.fixture(scope="module")
def front() -> CameraModel:
    cam = cameras(SimConfig())[0]
    assert cam.channel == "CAM_FRONT"
    return cam


def _project(cam: CameraModel, world, t: float, points_global: np.ndarray) -> np.ndarray:
    pose = world.global_from_ego(t).compose(cam.ego_from_camera).inverse()
    p = pose.transform_points(points_global)
    return np.stack(
        [
            cam.matrix[0, 0] * p[:, 0] / p[:, 2] + cam.matrix[0, 2],
            cam.matrix[1, 1] * p[:, 1] / p[:, 2] + cam.matrix[1, 2],
        ],
        1,
    )


def _silhouette(row: np.ndarray, u: float, inward: int, window: int = 6) -> int:
    """First pixel that changes colour, walking from the background at ``u - inward * window`` to ``u``."""
    start = round(u) - inward * window
    background = row[start].astype(np.int64)
    for i in range(2 * window):
        col = start + inward * i
        if np.abs(row[col].astype(np.int64) - background).sum() > 60:
            return col
    raise AssertionError("no colour change near the expected edge")


def _dominant(pixel: np.ndarray) -> str:
    """``b``, ``g`` or ``r`` when that channel exceeds both others by 40, else ``-``."""
    values = [int(c) for c in pixel]
    for i, name in enumerate("bgr"):
        if all(values[i] > values[j] + 40 for j in range(3) if j != i):
            return name
    return "-"


def test_object_edges_appear_at_their_projected_pixels(front: CameraModel) -> None:
    # A red car 15 m ahead in the ego lane, seen from behind: its body's rear face spans the full width.
    car = make_object("car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(15.0 + 2.3, -1.75), (40, 40, 190))
    world = make_world([car])
    image = render_image(world, front, 0.0)
    assert image.shape == (900, 1600, 3) and image.dtype == np.uint8
    rear_x = 15.0
    z = 0.5  # inside the body (0 .. 0.58 h)
    corners = np.array([[rear_x, -1.75 + 0.95, z], [rear_x, -1.75 - 0.95, z]])
    (u_left, v), (u_right, _) = _project(front, world, 0.0, corners)
    row = image[round(v)]
    # Pixel centres are at integer coordinates: the first covered pixel is the first one past the edge.
    assert abs(_silhouette(row, u_left, +1) - u_left) <= 1.0
    assert abs(_silhouette(row, u_right, -1) - u_right) <= 1.0
    # Between the edges: the car's (shaded) red; outside: not red.
    assert _dominant(row[round((u_left + u_right) / 2)]) == "r"
    assert _dominant(row[int(u_left) - 8]) != "r"
    # The edge survives JPEG compression.
    decoded = cv2.imdecode(np.frombuffer(encode_jpeg(image, 90), np.uint8), cv2.IMREAD_COLOR)
    assert abs(_silhouette(decoded[round(v)], u_left, +1) - u_left) <= 1.5


def test_nearer_object_hides_farther_one(front: CameraModel) -> None:
    near = make_object("car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(12.0, -1.75), (200, 60, 20))  # blue
    far = make_object(
        "truck", "vehicle.truck", (7.0, 2.5, 3.0), LaneMotion(25.0, -1.75), (40, 200, 40)
    )  # green
    world = make_world([far, near])  # drawing order must not matter
    image = render_image(world, front, 0.0)
    centre_near = _project(front, world, 0.0, np.array([[12.0 - 2.3, -1.75, 0.5]]))[0]
    pixel = image[round(centre_near[1]), round(centre_near[0])]
    assert _dominant(pixel) == "b"  # the blue car, not the green truck behind it
    truck_top = _project(front, world, 0.0, np.array([[25.0 - 3.5, -1.75, 2.8]]))[0]
    pixel = image[round(truck_top[1]), round(truck_top[0])]
    assert _dominant(pixel) == "g"  # the truck's cargo box rises above the car


def test_objects_beside_and_behind_the_camera_are_clipped_not_wrapped(front: CameraModel) -> None:
    # A bus alongside the ego reaching behind the front camera; a car behind the ego.
    bus = make_object("bus", "vehicle.bus.rigid", (11.0, 2.9, 3.4), LaneMotion(0.0, -5.25), (40, 200, 40))
    behind = make_object("car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(-12.0, -1.75), (200, 60, 20))
    world = make_world([bus, behind])
    image = render_image(world, front, 0.0)
    b, g, r = (image[..., i].astype(np.int64) for i in range(3))
    green = (g > b + 40) & (g > r + 40)
    assert green[:, 800:].sum() > 1000 and green[:, :700].sum() == 0  # bus on the right only
    blue = (b > g + 60) & (b > r + 60)
    assert blue.sum() == 0  # the car behind does not leak into the front view


def test_near_plane_clipping_keeps_front_part_and_flags_new_edge() -> None:
    quad = np.array([[-1.0, 0.0, -2.0], [1.0, 0.0, -2.0], [1.0, 0.0, 3.0], [-1.0, 0.0, 3.0]])
    clipped, flags = clip_near(quad, 0.5)
    assert clipped.shape == (4, 3)
    assert np.all(clipped[:, 2] >= 0.5 - 1e-12)
    cut = [i for i in range(4) if not flags[i]]
    assert len(cut) == 1  # exactly one edge lies on the near plane
    a, b = clipped[cut[0]], clipped[(cut[0] + 1) % 4]
    assert a[2] == pytest.approx(0.5) and b[2] == pytest.approx(0.5)
    empty, _ = clip_near(quad - np.array([0.0, 0.0, 10.0]), 0.5)
    assert empty.shape[0] == 0


def test_moving_object_is_rendered_at_the_image_time(front: CameraModel) -> None:
    car = make_object(
        "car", "vehicle.car", (4.6, 1.9, 1.7), LaneMotion(20.0, -1.75, 1, SpeedProfile(10.0)), (40, 40, 190)
    )
    world = make_world([car])
    for t in (0.0, 0.5):
        image = render_image(world, front, t)
        rear_x = 20.0 + 10.0 * t - 2.3
        ((u, v),) = _project(front, world, t, np.array([[rear_x, -1.75 + 0.95, 0.5]]))
        assert abs(_silhouette(image[round(v)], u, +1) - u) <= 1.0

import numpy as np

from fusioncheck.checks.ray_evidence import ray_evidence

ROT = np.eye(3)
SIZE = np.array([4.0, 2.0, 1.6])
CENTER = np.array([10.0, 0.0, 0.8])
ORIGIN = np.array([0.0, 0.0, 0.8])


def test_beams_through_in_front_and_inside():
    behind = np.array([[20.0, 0.0, 0.8], [25.0, 0.2, 0.7]])  # beam crosses the box, ends beyond it
    before = np.array([[5.0, 0.0, 0.8]])  # beam aimed at the box, ends before it
    inside = np.array([[10.0, 0.1, 0.8]])
    aside = np.array([[10.0, 8.0, 0.8]])  # not aimed at the box
    ev = ray_evidence(np.vstack([behind, before, inside, aside]), ORIGIN, CENTER, ROT, SIZE)
    assert (ev.through, ev.front, ev.inside) == (2, 1, 1)


def test_core_excludes_grazing_corner_beams():
    # A beam passing 0.9 m off the centre line crosses the full box (half width 1.0) but not its 70 % core.
    graze = np.array([[20.0, 1.8, 0.8]])
    assert ray_evidence(graze, ORIGIN, CENTER, ROT, SIZE).through == 0
    assert ray_evidence(graze, ORIGIN, CENTER, ROT, SIZE, core_fraction=1.0).through == 1


def test_rotated_box_and_degenerate_inputs():
    yaw = np.pi / 2
    rot = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    # Rotated by 90 degrees the box is 2 m along x and 4 m along y: a beam at y=1.2 crosses its core.
    pts = np.array([[20.0, 2.4, 0.8]])
    assert ray_evidence(pts, ORIGIN, CENTER, rot, SIZE).through == 1
    assert ray_evidence(pts, ORIGIN, CENTER, ROT, SIZE).through == 0
    assert ray_evidence(np.zeros((0, 3)), ORIGIN, CENTER, ROT, SIZE).through == 0
    # Sensor inside the box: no statement possible.
    assert ray_evidence(pts, CENTER, CENTER, ROT, SIZE).through == 0

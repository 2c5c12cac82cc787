import numpy as np
import pytest

from fusioncheck.sync.camera import CameraSyncSettings, estimate_camera_offset, poses_at, silhouette_points
from fusioncheck.sync.estimate import STATUS_NOT_ESTIMABLE, SearchSettings


def test_oblique_walls_are_not_silhouettes_and_outlines_move_half_a_step_out():
    # One scan line: a wall seen at a grazing angle (range grows linearly), then an object at 10 m in
    # front of a 30 m background.
    az = np.deg2rad(np.arange(0, 20, 1.0))
    rng = np.concatenate([np.linspace(10, 20, 10), [10.0, 10.0, 10.0, 10.0, 10.0], [30.0] * 5])
    xyz = np.column_stack([rng * np.cos(az), rng * np.sin(az), np.zeros(az.size)])
    ring = np.zeros(az.size, dtype=int)
    candidates = np.array([3, 14])  # inside the wall, and the object's last point before the background
    keep, outline, step = silhouette_points(xyz, ring, candidates, 0.5)
    assert keep.tolist() == [False, True]
    assert np.rad2deg(np.arctan2(outline[1, 1], outline[1, 0])) == pytest.approx(14.5)
    assert np.hypot(outline[1, 0], outline[1, 1]) == pytest.approx(10.0)
    assert np.rad2deg(step) == pytest.approx(1.0)


def test_vectorised_poses_match_the_pose_track(offset_context):
    poses = offset_context.sequence.ego_poses
    t = np.linspace(poses.start_us + 1000, poses.end_us - 1000, 7)
    rot, trans = poses_at(poses, t)
    for k, tk in enumerate(t):
        pose = poses.at(tk)
        np.testing.assert_allclose(rot[k], pose.rotation, atol=1e-12)
        np.testing.assert_allclose(trans[k], pose.translation, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize(("channel", "truth_ms"), [("CAM_BACK_LEFT", 40.0), ("CAM_BACK_RIGHT", 0.0)])
def test_side_camera_offsets_are_recovered_within_10_ms(offset_context, channel, truth_ms):
    e = estimate_camera_offset(offset_context, channel, CameraSyncSettings(), SearchSettings())
    assert e.support >= 10
    assert e.offset_ms == pytest.approx(truth_ms, abs=10.0)
    assert e.ci95_ms[0] <= truth_ms <= e.ci95_ms[1]


@pytest.mark.slow
def test_a_camera_looking_along_the_motion_is_not_estimable_with_the_reason(offset_context):
    e = estimate_camera_offset(offset_context, "CAM_FRONT", CameraSyncSettings(), SearchSettings())
    assert e.status == STATUS_NOT_ESTIMABLE and e.offset_ms is None
    assert "mrad/ms" in e.reason and "optical axis" in e.reason

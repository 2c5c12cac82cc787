"""Track consistency on hand-built tracks: size changes, heading flips, yaw spikes, position jumps."""

from __future__ import annotations

import numpy as np
import pytest

from fusioncheck.checks.base import CheckOutput
from fusioncheck.checks.track_consistency import TrackConsistencyCheck, motion_limits
from fusioncheck.geometry import quaternion
from fusioncheck.scene.boxes import BoxAnnotation, BoxTrack

DT_US = 500_000


def track(
    category: str = "vehicle.car",
    n: int = 6,
    speed: float = 10.0,
    size=(4.5, 1.9, 1.6),
    edits: dict[int, dict] | None = None,
) -> BoxTrack:
    boxes = []
    for k in range(n):
        center = np.array([speed * k * DT_US * 1e-6, 0.0, 0.8])
        yaw = 0.0
        s = np.array(size, dtype=float)
        e = (edits or {}).get(k, {})
        center = center + np.array(e.get("shift", (0.0, 0.0, 0.0)))
        yaw += e.get("yaw", 0.0)
        s = s * np.array(e.get("scale", (1.0, 1.0, 1.0)))
        boxes.append(
            BoxAnnotation(
                token=f"b{k}", instance="i", category=category, keyframe_token=f"k{k}",
                timestamp_us=k * DT_US, center_m=center, size_m=s, quat_wxyz=quaternion.from_yaw(yaw),
            )
        )  # fmt: skip
    return BoxTrack("i", category, tuple(boxes))


def run(t: BoxTrack) -> CheckOutput:
    check = TrackConsistencyCheck()
    out = CheckOutput()
    check._size("s", t, out)
    check._jumps("s", t, out)
    return out


def flagged(out: CheckOutput, check: str) -> list[str]:
    return [f.annotation for f in out.findings if f.check == check]


def test_a_clean_track_raises_nothing():
    out = run(track())
    assert out.findings == []
    assert out.tallies["vehicle.car"].evaluated == {"size_inconsistent_track": 6, "track_jump": 6}


def test_one_box_8_percent_longer_is_flagged_alone():
    out = run(track(edits={3: {"scale": (1.08, 1.0, 1.0)}}))
    assert flagged(out, "size_inconsistent_track") == ["b3"]
    f = out.findings[0]
    assert f.values["axis"] == "length" and f.values["relative_change"] == pytest.approx(0.08)
    assert 0.5 < f.score <= 1.0


def test_pedestrians_are_judged_on_height_only():
    size = (0.7, 0.6, 1.75)
    wider = track("human.pedestrian.adult", speed=1.2, size=size, edits={2: {"scale": (1.4, 1.3, 1.0)}})
    assert flagged(run(wider), "size_inconsistent_track") == []
    out = run(track("human.pedestrian.adult", speed=1.2, size=size, edits={2: {"scale": (1.0, 1.0, 0.9)}}))
    assert flagged(out, "size_inconsistent_track") == ["b2"]


@pytest.mark.parametrize("k", [0, 3, 5])
def test_heading_flip_inside_and_at_both_ends(k):
    out = run(track(edits={k: {"yaw": np.pi}}))
    assert flagged(out, "track_jump") == [f"b{k}"]
    assert out.findings[0].values["kind"] == "heading_flip"


def test_yaw_spike_but_not_a_steady_turn():
    out = run(track(edits={2: {"yaw": np.radians(70)}}))
    assert flagged(out, "track_jump") == ["b2"] and out.findings[0].values["kind"] == "yaw"
    # A steady turn of 20 degrees per keyframe (40 deg/s) is plausible.
    steady = run(track(edits={k: {"yaw": np.radians(20 * k)} for k in range(6)}))
    assert flagged(steady, "track_jump") == []


def test_position_jump_given_the_time_step():
    out = run(track(edits={3: {"shift": (0.0, 2.0, 0.0)}}))
    assert flagged(out, "track_jump") == ["b3"] and out.findings[0].values["kind"] == "position"
    # 0.5 m off the path at 10 m/s is within what braking or steering does in 0.5 s.
    assert flagged(run(track(edits={3: {"shift": (0.5, 0.0, 0.0)}})), "track_jump") == []
    # A traffic cone moving 3 m between keyframes is implausible (6 m/s), a car doing it is not.
    cone = run(
        track(
            "movable_object.trafficcone", speed=0.0, size=(0.4, 0.4, 1.0), edits={2: {"shift": (3.0, 0, 0)}}
        )
    )
    assert flagged(cone, "track_jump") == ["b2"]
    assert motion_limits("movable_object.trafficcone")[0] < 6.0 < motion_limits("vehicle.car")[0]


def test_short_tracks_are_not_judged():
    out = run(track(n=2, edits={1: {"yaw": np.pi}}))
    assert out.findings == []
    assert out.tallies["vehicle.car"].evaluated == {"size_inconsistent_track": 0, "track_jump": 0}

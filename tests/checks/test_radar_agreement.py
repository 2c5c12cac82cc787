"""Radar association, Doppler agreement and radar-only objects against the simulator and real radar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fusioncheck.checks.box_motion import TrackTable
from fusioncheck.checks.radar_agreement import RadarAgreementCheck
from fusioncheck.checks.radar_returns import estimate_background
from fusioncheck.context import SequenceContext
from fusioncheck.errors import PolicyError
from fusioncheck.loaders.nuscenes import NuScenesSource
from fusioncheck.simulate.config import SimConfig
from fusioncheck.simulate.faults import FaultSpec
from fusioncheck.simulate.simulation import simulate


def run(root: Path) -> tuple[Any, dict[str, Any]]:
    source = NuScenesSource(root)
    sequence = source.load_sequence(source.sequence_names()[0])
    return RadarAgreementCheck().run(SequenceContext(source, sequence)), json.loads(
        (root / "faults.json").read_text()
    )


@pytest.fixture(scope="session")
def radar_fault_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("radar") / "faulty"
    spec = FaultSpec.from_dict({"radar": {"fraction": 0.3}, "delete": {"fraction": 0.1, "unit": "track"}})
    simulate(root, 1, 5, spec, SimConfig.small())
    return root


def test_radar_faults_on_moving_boxes_are_found(radar_fault_log: Path) -> None:
    out, faults = run(radar_fault_log)
    records = [r for r in faults["radar_faults"] if r["moving"]]
    kinds = {r["kind"] for r in records}
    assert kinds == {"heading_flipped", "velocity_zeroed"}
    support = {r["annotation"]: r for r in out.sections["radar_support"]}
    seen = [r for r in records if support[r["annotation_token"]]["returns"] >= 3]
    assert len(seen) >= 8
    flagged = {f.annotation for f in out.findings if f.check == "radar_velocity_mismatch"}
    recall = np.mean([r["annotation_token"] in flagged for r in seen])
    assert recall >= 0.8
    faulted = {r["annotation_token"] for r in faults["radar_faults"]}
    assert flagged <= faulted  # no false alarm on this log
    finding = next(f for f in out.findings if f.check == "radar_velocity_mismatch")
    assert finding.values["scans"] >= 2 and abs(finding.values["normalised_residual"]) > 3.0


def test_radar_sees_a_deleted_moving_track(radar_fault_log: Path) -> None:
    out, faults = run(radar_fault_log)
    found = [f for f in out.findings if f.check == "radar_unlabeled_object"]
    assert found
    for f in found:
        # Each radar-only finding lies on a deleted moving object near its time.
        near = [
            d
            for d in faults["deleted"]
            if abs(d["timestamp_us"] - f.timestamp_us) <= 1_000_000
            and np.hypot(
                *(
                    np.asarray(f.position_m[:2])
                    - np.asarray(d["true_center_m"][:2])
                    - 1e-6 * (f.timestamp_us - d["timestamp_us"]) * np.asarray(d["velocity_mps"][:2])
                )
            )
            <= d["true_size_lwh_m"][0] / 2 + 2.5
        ]
        assert near, f.values
        assert f.values["scans"] >= 3 and f.values["speed_mps"] > 1.0


def test_clean_log_support_table_and_no_alarm(tmp_path: Path) -> None:
    root = tmp_path / "clean"
    simulate(root, 1, 7, FaultSpec(), SimConfig.small())
    out, faults = run(root)
    assert "radar_faults" not in faults  # runs without radar faults keep their old record
    boxes = len(out.sections["radar_support"])
    assert len(out.findings) <= boxes / 100
    stats = out.statistics
    # Moving returns nearly all fall on boxes; clutter (poles, buildings, free returns) does not.
    assert stats["moving_association_rate"] >= 0.9
    assert 0.2 <= stats["association_rate"] <= 0.8
    assert stats["doppler_noise_mps"] == pytest.approx(0.1, abs=0.05)
    supported = [r for r in out.sections["radar_support"] if r["returns"]]
    assert len(supported) >= boxes / 2
    assert all(abs(r["median_residual_mps"]) < 1.0 for r in supported)


def test_track_table_matches_track_interpolation(radar_fault_log: Path) -> None:
    source = NuScenesSource(radar_fault_log)
    sequence = source.load_sequence(source.sequence_names()[0])
    table = TrackTable(sequence.tracks)
    t0 = sequence.keyframes[0].timestamp_us
    for dt in (0, 123_456, 777_777, 2_250_000):
        at = table.at(t0 + dt, max_extrapolation_s=0.0)
        for k, instance in enumerate(at.instances):
            track = sequence.tracks[instance]
            state = track.state_at(t0 + dt)
            np.testing.assert_allclose(at.boxes.centers_m[k], state.center_m, atol=1e-9)
            yaw = np.arctan2(at.boxes.rotations[k, 1, 0], at.boxes.rotations[k, 0, 0])
            assert abs(np.angle(np.exp(1j * (yaw - state.yaw_rad)))) < 1e-9
    # Extrapolation along the end velocity, and nothing beyond the limit.
    last = max(sequence.tracks.values(), key=lambda t: t.timestamps_us[-1])
    v = last.velocities_mps[-1]
    at = table.at(int(last.timestamps_us[-1]) + 200_000, max_extrapolation_s=0.3)
    k = at.instances.index(last.instance)
    np.testing.assert_allclose(at.boxes.centers_m[k], last.centers_m[-1] + 0.2 * np.nan_to_num(v), atol=1e-9)
    assert last.instance not in table.at(int(last.timestamps_us[-1]) + 400_000, 0.3).instances


def test_background_velocity_of_an_uncompensated_scan() -> None:
    rng = np.random.default_rng(0)
    az = rng.uniform(-1.2, 1.2, 60)
    los = np.stack([np.cos(az), np.sin(az)], 1)
    ego = np.array([30.0, 0.5])
    radial = -los @ ego + rng.normal(0, 0.05, 60)
    radial[:10] = rng.uniform(-5, 5, 10)  # movers
    np.testing.assert_allclose(estimate_background(los, radial), -ego, atol=0.1)
    np.testing.assert_allclose(estimate_background(los, rng.normal(0, 0.05, 60)), 0.0, atol=1e-12)


def test_radar_fault_spec_is_validated() -> None:
    with pytest.raises(PolicyError, match="unknown key 'kind'"):
        FaultSpec.from_dict({"radar": {"kind": "flip"}})
    with pytest.raises(PolicyError, match="fraction"):
        FaultSpec.from_dict({"radar": {"fraction": 1.5}})
    assert not FaultSpec.from_dict({"radar": {"count": 2}}).is_clean
    assert FaultSpec.from_dict({"radar": {"count": 2}}).to_dict()["radar"] == {"count": 2}
    assert "radar" not in FaultSpec().to_dict()


@pytest.mark.realdata
def test_real_aimotive_radar_association(realdata: Path) -> None:
    root = realdata / "nuscenes" / "aimotive-public"
    if not root.is_dir():
        pytest.skip("aimotive-public excerpt absent")
    source = NuScenesSource(root)
    sequence = source.load_sequence(source.sequence_names()[0])
    out = RadarAgreementCheck().run(SequenceContext(source, sequence))
    stats = out.statistics
    # Night highway at ~30 m/s: most returns are guard rails and signs; the moving ones are the traffic.
    assert stats["scans"] == 30 and stats["returns_kept"] > 900
    assert 0.05 <= stats["association_rate"] <= 0.3
    assert stats["moving_association_rate"] >= 0.7
    assert stats["boxes_with_support"] >= 60
    assert not [f for f in out.findings if f.check == "radar_velocity_mismatch"]


def test_bev_plots_are_written_per_sequence(radar_fault_log: Path, tmp_path: Path) -> None:
    from fusioncheck.pipeline import check_sequence
    from fusioncheck.policy import Policy

    source = NuScenesSource(radar_fault_log)
    name = source.sequence_names()[0]
    policy = Policy({"missing_boxes": {}, "radar_agreement": {}})
    result = check_sequence(source, name, policy, plot_dir=tmp_path)
    names = sorted(Path(p).name for p in result.plots)
    assert len(names) == 2
    assert names[0].startswith("bev_missing_boxes_kf") and names[1].startswith("bev_radar_kf")
    for p in result.plots:
        data = Path(p).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000

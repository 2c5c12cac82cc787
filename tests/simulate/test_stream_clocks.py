import json

import pytest

from fusioncheck.errors import PolicyError
from fusioncheck.simulate import FaultSpec
from fusioncheck.simulate.stream_clocks import StreamClock


def test_clock_offset_drifts_linearly_with_scene_time():
    clock = StreamClock(20.0, 1.5)
    assert clock.offset_s(0.0) == pytest.approx(0.020)
    assert clock.offset_s(4.0) == pytest.approx(0.026)


def test_fault_spec_parses_numbers_and_objects_and_rejects_unknown_streams():
    spec = FaultSpec.from_dict(
        {"stream_time_offsets": {"CAM_FRONT": 30, "RADAR_FRONT": {"drift_ms_per_s": 0.5}}}
    )
    assert spec.clock("CAM_FRONT") == StreamClock(30.0, 0.0)
    assert spec.clock("RADAR_FRONT") == StreamClock(0.0, 0.5)
    assert spec.clock("CAM_BACK").is_clean and not spec.is_clean
    assert spec.to_dict()["stream_time_offsets"]["CAM_FRONT"] == {"offset_ms": 30.0, "drift_ms_per_s": 0.0}
    with pytest.raises(PolicyError, match="unknown stream 'LIDAR_TOP'"):
        FaultSpec.from_dict({"stream_time_offsets": {"LIDAR_TOP": 5}})
    with pytest.raises(PolicyError, match="unknown key 'skew'"):
        FaultSpec.from_dict({"stream_time_offsets": {"CAM_FRONT": {"skew": 5}}})


def test_clean_spec_keeps_its_old_json_form():
    assert "stream_time_offsets" not in FaultSpec().to_dict()
    assert FaultSpec.from_dict({}).is_clean


def test_labels_clock_adds_to_the_label_offset():
    spec = FaultSpec.from_dict(
        {"label_time_offset_ms": 10, "stream_time_offsets": {"labels": {"drift_ms_per_s": 2}}}
    )
    assert spec.label_offset_s(5.0) == pytest.approx(0.020)


def test_offsets_are_recorded_in_faults_json(tmp_path):
    from fusioncheck.simulate import simulate
    from tests.sync.conftest import SYNC_CONFIG, SYNC_FAULTS

    result = simulate(tmp_path, 1, 4, FaultSpec.from_dict(SYNC_FAULTS), SYNC_CONFIG.__class__.small())
    record = json.loads(result.faults_path.read_text())
    assert record["stream_time_offsets"]["RADAR_BACK_LEFT"] == {"offset_ms": 20.0, "drift_ms_per_s": 1.0}
    assert record["spec"]["stream_time_offsets"]["CAM_BACK_LEFT"]["offset_ms"] == 40.0
    assert not record["clean"]

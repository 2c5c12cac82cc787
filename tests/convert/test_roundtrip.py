"""Writers: the repository's simulated sample (nuScenes layout, with injected faults) through OpenLABEL and
back, and through the nuScenes writer; the real AV2 excerpt through both writers.

The sample's faults (shrunk cars, deleted boxes, ghosts) make the checks raise findings, so "identical
findings" compares real output, not two empty lists.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fusioncheck.cli import cli
from fusioncheck.convert.nuscenes_writer import write_nuscenes
from fusioncheck.convert.openlabel_writer import write_openlabel
from fusioncheck.geometry import quaternion
from fusioncheck.loaders import NuScenesSource, OpenLabelSource, detect_format, open_source
from fusioncheck.loaders.base import DataSource
from fusioncheck.pipeline import SequenceResult, check_sequence
from fusioncheck.policy import Policy
from fusioncheck.scene import Sequence

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="session")
def sample_source() -> NuScenesSource:
    return NuScenesSource(SAMPLE)


@pytest.fixture(scope="session")
def sample_results(sample_source: NuScenesSource) -> dict[str, SequenceResult]:
    return {
        name: check_sequence(sample_source, name, Policy.default()) for name in sample_source.sequence_names()
    }


@pytest.fixture(scope="session", params=["quaternion", "euler"])
def openlabel_copy(request: pytest.FixtureRequest, sample_source: NuScenesSource, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp(f"openlabel-{request.param}")
    write_openlabel(sample_source, out, cuboid_form=request.param)
    return out


def box_differences(a: Sequence, b: Sequence) -> tuple[float, float, float]:
    """Largest centre (m), size (m) and rotation (deg) difference between boxes of equal token."""
    boxes_a = {x.token: x for x in a.annotations}
    boxes_b = {x.token: x for x in b.annotations}
    assert boxes_a.keys() == boxes_b.keys()
    centre = max(float(np.abs(boxes_a[k].center_m - boxes_b[k].center_m).max()) for k in boxes_a)
    size = max(float(np.abs(boxes_a[k].size_m - boxes_b[k].size_m).max()) for k in boxes_a)
    angle = max(float(quaternion.angle_between(boxes_a[k].quat_wxyz, boxes_b[k].quat_wxyz)) for k in boxes_a)
    return centre, size, float(np.degrees(angle))


def by_token(sequence: Sequence, field: str) -> dict[str, object]:
    return {b.token: getattr(b, field) for b in sequence.annotations}


def findings_of(result: SequenceResult) -> list[tuple[object, ...]]:
    return [
        (f.check, f.annotation, f.instance, f.sensor, f.timestamp_us, round(f.score, 6))
        for f in result.findings
    ]


def same_structure(a: Sequence, b: Sequence) -> None:
    assert {c: len(s) for c, s in a.samples.items()} == {c: len(s) for c, s in b.samples.items()}
    assert [k.token for k in a.keyframes] == [k.token for k in b.keyframes]
    assert [k.timestamp_us for k in a.keyframes] == [k.timestamp_us for k in b.keyframes]
    for channel, samples in a.samples.items():
        for x, y in zip(samples, b.samples[channel], strict=True):
            assert x.timestamp_us == y.timestamp_us and x.is_keyframe == y.is_keyframe
            assert np.allclose(x.global_from_ego.translation, y.global_from_ego.translation, atol=1e-9)
    for channel, sensor in a.sensors.items():
        other = b.sensors[channel]
        assert np.allclose(sensor.ego_from_sensor.as_matrix(), other.ego_from_sensor.as_matrix(), atol=1e-12)
        if sensor.intrinsics is not None:
            assert other.intrinsics is not None
            assert np.allclose(sensor.intrinsics.matrix, other.intrinsics.matrix)


def test_openlabel_round_trip_same_boxes_and_findings(
    sample_source: NuScenesSource, sample_results: dict[str, SequenceResult], openlabel_copy: Path
) -> None:
    assert detect_format(openlabel_copy) == "openlabel"
    copy = OpenLabelSource(openlabel_copy)
    assert copy.sequence_names() == sample_source.sequence_names()
    total_findings = 0
    for name in sample_source.sequence_names():
        original, read_back = sample_source.load_sequence(name), copy.load_sequence(name)
        centre, size, angle = box_differences(original, read_back)
        assert centre <= 1e-3 and size <= 1e-3 and angle <= 0.01
        same_structure(original, read_back)
        result = check_sequence(copy, name, Policy.default())
        assert result.error is None
        assert findings_of(result) == findings_of(sample_results[name])
        assert result.notes == sample_results[name].notes
        total_findings += len(result.findings)
    assert total_findings >= 10


def test_nuscenes_writer_round_trip(
    sample_source: NuScenesSource,
    sample_results: dict[str, SequenceResult],
    openlabel_copy: Path,
    tmp_path: Path,
) -> None:
    """OpenLABEL -> nuScenes (the convert path every format takes) gives the original back."""
    write_nuscenes(OpenLabelSource(openlabel_copy), tmp_path)
    copy = NuScenesSource(tmp_path)
    for name in sample_source.sequence_names():
        original, read_back = sample_source.load_sequence(name), copy.load_sequence(name)
        centre, size, angle = box_differences(original, read_back)
        assert centre <= 1e-3 and size <= 1e-3 and angle <= 0.01
        same_structure(original, read_back)
        assert by_token(original, "num_lidar_pts") == by_token(read_back, "num_lidar_pts")
        assert findings_of(check_sequence(copy, name, Policy.default())) == findings_of(sample_results[name])


def test_convert_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["convert", str(SAMPLE), str(tmp_path / "ol"), "--to", "openlabel"])
    assert result.exit_code == 0, result.output
    assert "converted 2 sequence(s) from nuscenes to openlabel" in result.output
    result = runner.invoke(cli, ["convert", str(tmp_path / "ol"), str(tmp_path / "nus"), "--to", "nuscenes"])
    assert result.exit_code == 0, result.output
    assert detect_format(tmp_path / "nus") == "nuscenes"


@pytest.mark.realdata
def test_av2_through_both_writers(realdata: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    root = realdata / "av2"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    av2: DataSource = open_source(root)
    (name,) = av2.sequence_names()
    original = av2.load_sequence(name)
    write_nuscenes(av2, tmp_path / "nus")
    write_openlabel(av2, tmp_path / "ol")
    for copy in (NuScenesSource(tmp_path / "nus"), OpenLabelSource(tmp_path / "ol")):
        read_back = copy.load_sequence(name)
        centre, size, angle = box_differences(original, read_back)
        assert centre <= 1e-3 and size <= 1e-3 and angle <= 0.01
        same_structure(original, read_back)
        assert by_token(read_back, "num_lidar_pts") == by_token(original, "num_lidar_pts")
        assert by_token(read_back, "category") == by_token(original, "category")
        assert by_token(read_back, "instance") == by_token(original, "instance")
        sample = read_back.samples["LIDAR_TOP"][0]
        sweep, reference = copy.read_lidar(sample), av2.read_lidar(original.samples["LIDAR_TOP"][0])
        assert np.array_equal(sweep.xyz, reference.xyz)
        assert sweep.point_times_s is not None and reference.point_times_s is not None
        assert np.array_equal(sweep.point_times_s, reference.point_times_s)
    # nuScenes keeps one ego pose per sample_data: every sample_data has its own record.
    nus = NuScenesSource(tmp_path / "nus")
    tables = nus._tables
    assert len(tables["ego_pose"]) == len(tables["sample_data"]) == 2

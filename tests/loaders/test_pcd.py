"""PCD v0.7 and nuScenes ``.pcd.bin`` readers: exact values back, and a clear error for every corruption."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fusioncheck.errors import InputError
from fusioncheck.loaders.pcd import RADAR_DTYPE, parse_pcd_header, read_lidar_bin, read_pcd, read_radar_pcd
from fusioncheck.scene.samples import RADAR_FIELDS
from tests.loaders.test_nuscenes import RADAR_PCD_TYPES, radar_records, write_radar_pcd

HEADER = (
    "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z label normal rgb\n"
    "SIZE 4 4 4 2 8 1\nTYPE F F F U F I\nCOUNT 1 1 1 1 2 1\nWIDTH {w}\nHEIGHT {h}\n"
    "VIEWPOINT 1 2 3 1 0 0 0\nPOINTS {n}\nDATA {data}\n"
)
MIXED_DTYPE = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("label", "<u2"), ("normal", "<f8", (2,)),
                        ("rgb", "i1")])  # fmt: skip


def mixed_points(n: int) -> np.ndarray:
    points = np.zeros(n, dtype=MIXED_DTYPE)
    points["x"] = np.arange(n) * 1.5
    points["y"] = -np.arange(n) * 0.25
    points["z"] = 7.0
    points["label"] = 65000 - np.arange(n)
    points["normal"] = np.stack([np.arange(n) * 0.1, np.full(n, -1e-9)], axis=1)
    points["rgb"] = -(np.arange(n) % 100)
    return points


def write(path: Path, text: str, data: bytes = b"") -> Path:
    path.write_bytes(text.encode("ascii") + data)
    return path


# ---------------------------------------------------------------------------------------- read_lidar_bin


def test_lidar_bin_round_trip(tmp_path: Path) -> None:
    points = np.arange(35, dtype=np.float32).reshape(7, 5) * 0.5 - 3
    path = tmp_path / "sweep.pcd.bin"
    points.tofile(path)
    out = read_lidar_bin(path)
    assert out.dtype == np.float32 and out.shape == (7, 5)
    np.testing.assert_array_equal(out, points)
    four = read_lidar_bin(path, columns=7)
    assert four.shape == (5, 7)


def test_lidar_bin_truncated(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcd.bin"
    path.write_bytes(np.zeros((3, 5), np.float32).tobytes()[:-6])
    with pytest.raises(InputError, match=r"truncated: 54 bytes is not a multiple of 20") as err:
        read_lidar_bin(path)
    assert err.value.path == str(path)


def test_lidar_bin_nan_points_reported_with_count_and_first_index(tmp_path: Path) -> None:
    points = np.ones((10, 5), np.float32)
    points[4, 0] = np.nan
    points[8, 2] = np.inf
    path = tmp_path / "nan.pcd.bin"
    points.tofile(path)
    with pytest.raises(InputError, match=r"2 of 10 points have NaN/inf values, first at point index 4"):
        read_lidar_bin(path)


def test_lidar_bin_empty_and_missing(tmp_path: Path) -> None:
    (tmp_path / "empty.pcd.bin").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_lidar_bin(tmp_path / "empty.pcd.bin")
    with pytest.raises(InputError, match="not found") as err:
        read_lidar_bin(tmp_path / "nope.pcd.bin")
    assert "nope.pcd.bin" in str(err.value)


# ---------------------------------------------------------------------------------------- read_pcd


def test_pcd_binary_mixed_types_and_counts(tmp_path: Path) -> None:
    points = mixed_points(5)
    path = write(tmp_path / "m.pcd", HEADER.format(w=5, h=1, n=5, data="binary"), points.tobytes())
    out = read_pcd(path)
    assert out.dtype == MIXED_DTYPE
    assert out.shape == (5,)
    for name in MIXED_DTYPE.names or ():
        np.testing.assert_array_equal(out[name], points[name], err_msg=name)
    assert out["label"][0] == 65000 and out["rgb"][3] == -3
    out["x"][0] = 1.0  # the array owns writable memory


def test_pcd_header_fields(tmp_path: Path) -> None:
    text = HEADER.format(w=3, h=2, n=6, data="binary")
    header = parse_pcd_header(text.encode())
    assert header.fields == ("x", "y", "z", "label", "normal", "rgb")
    assert header.counts == (1, 1, 1, 1, 2, 1)
    assert (header.width, header.height, header.points) == (3, 2, 6)
    assert header.viewpoint == (1.0, 2.0, 3.0, 1.0, 0.0, 0.0, 0.0)
    assert header.data == "binary" and header.version == "0.7"
    assert header.data_offset == len(text)
    assert header.dtype.itemsize == 4 * 3 + 2 + 16 + 1


def test_pcd_ascii(tmp_path: Path) -> None:
    text = (
        "VERSION .7\nFIELDS x y z intensity\nSIZE 4 4 4 1\nTYPE F F F U\nWIDTH 3\nHEIGHT 1\nPOINTS 3\n"
        "DATA ascii\n1.5 2 3 10\n-4 5.25 6 255\nnan 0 0 0\n"
    )
    out = read_pcd(write(tmp_path / "a.pcd", text))
    assert out.dtype.names == ("x", "y", "z", "intensity")
    np.testing.assert_array_equal(out["y"], [2.0, 5.25, 0.0])
    assert out["intensity"].dtype == np.uint8 and out["intensity"].tolist() == [10, 255, 0]
    assert np.isnan(out["x"][2])


def test_pcd_ascii_row_count_disagrees(tmp_path: Path) -> None:
    text = "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 3\nHEIGHT 1\nDATA ascii\n1 2 3\n4 5 6\n"
    with pytest.raises(InputError, match="header claims 3 points, the ascii data holds 2 rows"):
        read_pcd(write(tmp_path / "a.pcd", text))


def test_pcd_tolerates_one_trailing_newline_only(tmp_path: Path) -> None:
    points = mixed_points(4)
    head = HEADER.format(w=4, h=1, n=4, data="binary")
    assert read_pcd(write(tmp_path / "nl.pcd", head, points.tobytes() + b"\n")).shape == (4,)
    with pytest.raises(InputError, match=r"header claims 4 points .* but 3 more bytes follow"):
        read_pcd(write(tmp_path / "junk.pcd", head, points.tobytes() + b"abc"))


def test_pcd_header_claims_more_points_than_the_file_holds(tmp_path: Path) -> None:
    points = mixed_points(4)
    head = HEADER.format(w=6, h=1, n=6, data="binary")
    with pytest.raises(
        InputError, match=r"header claims 6 points of 31 bytes \(186 bytes .*\), file holds 124 bytes"
    ):
        read_pcd(write(tmp_path / "short.pcd", head, points.tobytes()))


def test_pcd_points_disagree_with_width_height(tmp_path: Path) -> None:
    head = HEADER.format(w=4, h=2, n=7, data="binary")
    with pytest.raises(InputError, match=r"POINTS 7 but WIDTH\*HEIGHT = 4\*2 = 8"):
        read_pcd(write(tmp_path / "wh.pcd", head, mixed_points(7).tobytes()))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FIELDS x\nSIZE 4\nTYPE F\nWIDTH 1\nHEIGHT 1\n\x00\x00\x00\x00\n", r"unknown entry '\\x00"),
        ("FIELDS x y\nSIZE 4\nTYPE F F\nWIDTH 1\nHEIGHT 1\nDATA binary\n", "SIZE has 1 entries for 2 FIELDS"),
        ("FIELDS x\nSIZE 3\nTYPE F\nWIDTH 1\nHEIGHT 1\nDATA binary\n", "unsupported TYPE F with SIZE 3"),
        ("FIELDS x x\nSIZE 4 4\nTYPE F F\nWIDTH 1\nHEIGHT 1\nDATA binary\n", "appears twice"),
        ("SIZE 4\nTYPE F\nWIDTH 1\nHEIGHT 1\nDATA binary\n", "no FIELDS line"),
        (
            "FIELDS x\nSIZE 4\nTYPE F\nWIDTH one\nHEIGHT 1\nDATA binary\n",
            "WIDTH one is not a list of integers",
        ),
        ("FIELDS x\nSIZE 4\nTYPE F\nWIDTH 1\nHEIGHT 1\nCOLOR red\nDATA binary\n", "unknown entry 'COLOR'"),
        ("FIELDS x\nSIZE 4\nTYPE F\nWIDTH 1\nHEIGHT 1\nDATA binary_compressed\n", "binary_compressed"),
    ],
)
def test_pcd_malformed_headers(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.pcd", text, b"\0\0\0\0")
    with pytest.raises(InputError, match=message) as err:
        read_pcd(path)
    assert str(path) in str(err.value)


def test_pcd_without_data_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no DATA line"):
        read_pcd(write(tmp_path / "nodata.pcd", "FIELDS x\nSIZE 4\nTYPE F\nWIDTH 1\nHEIGHT 1\n"))
    with pytest.raises(InputError, match="no DATA line"):
        read_pcd(write(tmp_path / "empty.pcd", ""))


def test_pcd_padding_fields_are_renamed(tmp_path: Path) -> None:
    text = "FIELDS x _ y _\nSIZE 4 1 4 1\nTYPE F U F U\nWIDTH 1\nHEIGHT 1\nDATA binary\n"
    data = np.array(
        [(1.0, 0, 2.0, 0)], dtype=[("a", "<f4"), ("b", "u1"), ("c", "<f4"), ("d", "u1")]
    ).tobytes()
    out = read_pcd(write(tmp_path / "pad.pcd", text, data))
    assert out.dtype.names == ("x", "_1", "y", "_3") and out["y"][0] == 2.0


def test_pcd_with_no_points(tmp_path: Path) -> None:
    text = "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 0\nHEIGHT 1\nPOINTS 0\nDATA binary"
    assert read_pcd(write(tmp_path / "zero.pcd", text)).shape == (0,)


# ---------------------------------------------------------------------------------------- read_radar_pcd


def test_radar_pcd_nuscenes_types_cast_to_fixed_dtype(tmp_path: Path) -> None:
    records = radar_records(9, seed=3)
    path = tmp_path / "radar.pcd"
    write_radar_pcd(path, records)
    out = read_radar_pcd(path)
    assert out.dtype == RADAR_DTYPE and out.dtype.names == RADAR_FIELDS
    for name in RADAR_FIELDS:
        np.testing.assert_array_equal(out[name], records[name], err_msg=name)
    # The raw file really holds nuScenes' int8 state fields.
    assert read_pcd(path)["x_rms"].dtype == np.int8
    assert RADAR_DTYPE["id"] == np.int32 and RADAR_DTYPE["vx_comp"] == np.float32


def test_radar_pcd_float_state_fields_must_be_integral(tmp_path: Path) -> None:
    records = radar_records(3, seed=4)
    types = dict(RADAR_PCD_TYPES, dyn_prop=(4, "F"))
    write_radar_pcd(tmp_path / "ok.pcd", records, types=types)
    np.testing.assert_array_equal(read_radar_pcd(tmp_path / "ok.pcd")["dyn_prop"], records["dyn_prop"])
    bad = np.zeros(3, dtype=[(n, "<f4") for n in RADAR_FIELDS])
    bad["dyn_prop"] = [1.0, 2.5, 3.0]
    write_radar_pcd(tmp_path / "bad.pcd", bad, types=types)
    with pytest.raises(InputError, match="'dyn_prop' holds non-integral values"):
        read_radar_pcd(tmp_path / "bad.pcd")


def test_radar_pcd_missing_and_unknown_fields(tmp_path: Path) -> None:
    records = radar_records(2, seed=5)
    types = {n: t for n, t in RADAR_PCD_TYPES.items() if n not in ("pdh0", "vy_rms")}
    types["power"] = (4, "F")
    full = np.zeros(2, dtype=[*((n, "<f4") for n in RADAR_FIELDS), ("power", "<f4")])
    for n in RADAR_FIELDS:
        full[n] = records[n]
    write_radar_pcd(tmp_path / "fields.pcd", full, types=types)
    with pytest.raises(
        InputError, match=r"missing fields \['pdh0', 'vy_rms'\] and unknown fields \['power'\]"
    ):
        read_radar_pcd(tmp_path / "fields.pcd")


def test_radar_pcd_non_finite_position(tmp_path: Path) -> None:
    records = radar_records(6, seed=6)
    records["vx_comp"][[2, 5]] = np.nan
    write_radar_pcd(tmp_path / "nan.pcd", records)
    with pytest.raises(InputError, match=r"'vx_comp': 2 of 6 returns are NaN/inf, first at index 2"):
        read_radar_pcd(tmp_path / "nan.pcd")


def test_empty_radar_scan_marker_reads_as_zero_returns(tmp_path: Path) -> None:
    from fusioncheck.simulate.radar import RADAR_DTYPE as SIM_DTYPE
    from fusioncheck.simulate.radar import encode_pcd

    # nuScenes (and the simulator) write an empty scan as one all-NaN point.
    (tmp_path / "empty.pcd").write_bytes(encode_pcd(np.zeros(0, dtype=SIM_DTYPE)))
    records = read_radar_pcd(tmp_path / "empty.pcd")
    assert records.shape == (0,) and records.dtype == RADAR_DTYPE
    # A real return beside a NaN-only row survives; a row with only some NaN fields is still an error.
    two = np.zeros(2, dtype=SIM_DTYPE)
    two["x"] = [5.0, np.nan]
    for name in ("y", "z", "rcs", "vx", "vy", "vx_comp", "vy_comp"):
        two[name][1] = np.nan
    (tmp_path / "one.pcd").write_bytes(encode_pcd(two))
    records = read_radar_pcd(tmp_path / "one.pcd")
    assert records.shape == (1,) and records["x"][0] == 5.0
    two["x"][1] = 1.0
    (tmp_path / "bad.pcd").write_bytes(encode_pcd(two))
    with pytest.raises(InputError, match="NaN"):
        read_radar_pcd(tmp_path / "bad.pcd")

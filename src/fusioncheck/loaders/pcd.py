"""Readers of point-cloud files: nuScenes LiDAR ``.pcd.bin`` and PCD v0.7 (nuScenes radar ``.pcd``).

Pure functions on paths that return numpy arrays; every malformed file raises
:class:`~fusioncheck.errors.InputError` naming the file and what is wrong. Nothing here loops over points:
binary data is viewed with ``np.frombuffer``/``np.fromfile``.

Formats:

- **nuScenes LiDAR** (``*.pcd.bin``, despite the name not a PCD file): a headerless little-endian float32
  array, row per point, columns ``x, y, z`` (metres, sensor frame), ``intensity``, ``ring`` (laser index).
- **PCD v0.7** (Point Cloud Library): an ASCII header (``VERSION FIELDS SIZE TYPE COUNT WIDTH HEIGHT
  VIEWPOINT POINTS DATA``) followed by ``ascii`` or ``binary`` data (``binary_compressed`` is refused with a
  clear message). nuScenes radar scans are binary PCD with the 18 fields of
  :data:`fusioncheck.scene.samples.RADAR_FIELDS`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fusioncheck.errors import InputError
from fusioncheck.scene.samples import RADAR_FIELDS
from fusioncheck.typing import Float32Array

#: Column names of a nuScenes LiDAR ``.pcd.bin`` file.
LIDAR_COLUMNS: tuple[str, ...] = ("x", "y", "z", "intensity", "ring")

#: PCD ``(TYPE, SIZE)`` -> little-endian numpy type (PCD binary data is little-endian).
PCD_TYPES: dict[tuple[str, int], str] = {
    ("F", 4): "<f4",
    ("F", 8): "<f8",
    ("I", 1): "i1",
    ("I", 2): "<i2",
    ("I", 4): "<i4",
    ("I", 8): "<i8",
    ("U", 1): "u1",
    ("U", 2): "<u2",
    ("U", 4): "<u4",
    ("U", 8): "<u8",
}

#: Radar fields stored as floats (metres, m/s, dBsm); the other radar fields are integer state codes.
RADAR_FLOAT_FIELDS: frozenset[str] = frozenset({"x", "y", "z", "rcs", "vx", "vy", "vx_comp", "vy_comp"})

#: The fixed dtype of radar records returned by :func:`read_radar_pcd`: the :data:`RADAR_FIELDS` in file
#: order, float32 for positions (metres), velocities (m/s) and ``rcs`` (dBsm), int32 for the state codes
#: (wide enough for any integer type a writer may have used, unlike nuScenes' own int8/int16).
RADAR_DTYPE = np.dtype([(name, "<f4" if name in RADAR_FLOAT_FIELDS else "<i4") for name in RADAR_FIELDS])

_HEADER_KEYS = (
    "VERSION",
    "FIELDS",
    "SIZE",
    "TYPE",
    "COUNT",
    "WIDTH",
    "HEIGHT",
    "VIEWPOINT",
    "POINTS",
    "DATA",
)
_MAX_HEADER_BYTES = 65536
#: Trailing bytes after the binary block that are tolerated: some writers (the aiMotive conversion among
#: them) end the file with a newline.
_TOLERATED_TRAILERS = (b"", b"\n", b"\r\n")


@dataclass(frozen=True)
class PcdHeader:
    """The parsed header of a PCD file.

    Attributes:
        version: the ``VERSION`` entry (``"0.7"``), empty when absent.
        fields: field names in file order.
        sizes: bytes per element of each field.
        types: ``F`` (float), ``I`` (signed) or ``U`` (unsigned) per field.
        counts: elements per field (1 for scalars).
        width: points per row (or all points of an unorganised cloud).
        height: rows (1 for an unorganised cloud).
        viewpoint: ``(tx, ty, tz, qw, qx, qy, qz)`` acquisition viewpoint.
        points: number of points.
        data: ``ascii``, ``binary`` or ``binary_compressed``.
        data_offset: byte offset of the data block in the file.
    """

    version: str
    fields: tuple[str, ...]
    sizes: tuple[int, ...]
    types: tuple[str, ...]
    counts: tuple[int, ...]
    width: int
    height: int
    viewpoint: tuple[float, ...]
    points: int
    data: str
    data_offset: int

    @property
    def dtype(self) -> np.dtype:
        """The numpy structured dtype of one point (fields with ``COUNT > 1`` become sub-arrays)."""
        entries: list[tuple[str, str] | tuple[str, str, tuple[int]]] = []
        for name, kind, size, count in zip(self.fields, self.types, self.sizes, self.counts, strict=True):
            code = PCD_TYPES[(kind, size)]
            entries.append((name, code) if count == 1 else (name, code, (count,)))
        return np.dtype(entries)


def read_lidar_bin(path: str | Path, columns: int = 5) -> Float32Array:
    """Read a nuScenes LiDAR ``.pcd.bin`` file.

    Args:
        path: the file.
        columns: float32 values per point (5 for nuScenes: x, y, z, intensity, ring).

    Returns:
        ``(N, columns)`` float32, row per point; ``x, y, z`` in metres in the sensor frame.

    Raises:
        InputError: missing or empty file, a size that is not a whole number of points ("truncated"), or
            non-finite values (with their count and the first offending point index).
    """
    path = Path(path)
    if columns < 3:
        raise ValueError(f"columns must be >= 3 (x, y, z), got {columns}")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("LiDAR file not found", path=path) from None
    point_bytes = 4 * columns
    if size == 0:
        raise InputError("LiDAR file is empty (0 points)", path=path)
    if size % point_bytes != 0:
        raise InputError(
            f"truncated: {size} bytes is not a multiple of {point_bytes} ({columns} float32 per point); "
            f"the last {size % point_bytes} bytes are an incomplete point",
            path=path,
        )
    points = np.fromfile(path, dtype="<f4").astype(np.float32, copy=False).reshape(-1, columns)
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{int(bad.sum())} of {points.shape[0]} points have NaN/inf values, first at point index {first}",
            path=path,
        )
    return points


def parse_pcd_header(buffer: bytes, path: str | Path = "<buffer>") -> PcdHeader:
    """Parse the ASCII header at the start of a PCD file's bytes.

    Raises:
        InputError: missing or malformed entries, unsupported ``TYPE``/``SIZE`` pairs, duplicate field
            names, or ``POINTS`` disagreeing with ``WIDTH * HEIGHT``.
    """
    entries: dict[str, list[str]] = {}
    offset = 0
    line_no = 0
    while "DATA" not in entries:
        if offset >= min(len(buffer), _MAX_HEADER_BYTES):
            raise InputError(f"not a PCD file: no DATA line in its first {offset} bytes", path=path)
        end = buffer.find(b"\n", offset, _MAX_HEADER_BYTES)
        if end < 0:
            # A last header line without a newline only ends a file that holds no points.
            end = min(len(buffer), _MAX_HEADER_BYTES)
        raw = buffer[offset:end]
        offset = min(end + 1, len(buffer))
        line_no += 1
        try:
            line = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise InputError(f"PCD header line {line_no} is not ASCII text", path=path) from None
        if not line or line.startswith("#"):
            continue
        key, *values = line.split()
        key = key.upper()
        if key not in _HEADER_KEYS:
            raise InputError(f"PCD header line {line_no}: unknown entry {key[:40]!r}", path=path)
        if key in entries:
            raise InputError(f"PCD header line {line_no}: {key} given twice", path=path)
        entries[key] = values

    for key in ("FIELDS", "SIZE", "TYPE", "WIDTH", "HEIGHT"):
        if key not in entries:
            raise InputError(f"PCD header has no {key} line", path=path)
    fields = tuple(entries["FIELDS"])
    n = len(fields)
    if n == 0:
        raise InputError("PCD header: FIELDS is empty", path=path)
    sizes = _ints(entries["SIZE"], "SIZE", path)
    types = tuple(t.upper() for t in entries["TYPE"])
    counts = _ints(entries.get("COUNT", ["1"] * n), "COUNT", path)
    for key, length in (("SIZE", len(sizes)), ("TYPE", len(types)), ("COUNT", len(counts))):
        if length != n:
            raise InputError(f"PCD header: {key} has {length} entries for {n} FIELDS", path=path)
    for name, kind, size, count in zip(fields, types, sizes, counts, strict=True):
        if (kind, size) not in PCD_TYPES:
            raise InputError(
                f"PCD header: field {name!r} has unsupported TYPE {kind} with SIZE {size}", path=path
            )
        if count < 1:
            raise InputError(f"PCD header: field {name!r} has COUNT {count}", path=path)
    fields = _unique_field_names(fields, path)
    width = _single_int(entries["WIDTH"], "WIDTH", path)
    height = _single_int(entries["HEIGHT"], "HEIGHT", path)
    points = _single_int(entries["POINTS"], "POINTS", path) if "POINTS" in entries else width * height
    if points != width * height:
        raise InputError(
            f"PCD header is inconsistent: POINTS {points} but WIDTH*HEIGHT = {width}*{height} = "
            f"{width * height}",
            path=path,
        )
    viewpoint: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    if "VIEWPOINT" in entries:
        try:
            viewpoint = tuple(float(v) for v in entries["VIEWPOINT"])
        except ValueError:
            raise InputError(
                f"PCD header: VIEWPOINT {entries['VIEWPOINT']} is not numeric", path=path
            ) from None
        if len(viewpoint) != 7:
            raise InputError(f"PCD header: VIEWPOINT has {len(viewpoint)} values, expected 7", path=path)
    data = " ".join(entries["DATA"]).lower()
    if data not in ("ascii", "binary", "binary_compressed"):
        raise InputError(f"PCD header: unknown DATA kind {data!r}", path=path)
    version = " ".join(entries.get("VERSION", []))
    return PcdHeader(version, fields, sizes, types, counts, width, height, viewpoint, points, data, offset)


def read_pcd(path: str | Path) -> np.ndarray:
    """Read a PCD v0.7 file (``DATA binary`` or ``ascii``) into a numpy structured array.

    Returns:
        ``(POINTS,)`` structured array with one field per PCD field (dtype from SIZE/TYPE/COUNT, in file
        order). Units and frames are those of the file (nuScenes: metres, sensor frame).

    Raises:
        InputError: missing file, malformed header, a header whose point count needs more bytes than the
            file holds, trailing bytes other than one newline, or ``binary_compressed`` data.
    """
    path = Path(path)
    try:
        buffer = path.read_bytes()
    except FileNotFoundError:
        raise InputError("PCD file not found", path=path) from None
    header = parse_pcd_header(buffer, path)
    dtype = header.dtype
    payload = memoryview(buffer)[header.data_offset :]
    if header.data == "binary_compressed":
        raise InputError("DATA binary_compressed (LZF) is not supported; save the cloud as binary", path=path)
    if header.data == "ascii":
        return _parse_ascii(bytes(payload), header, path)
    need = header.points * dtype.itemsize
    if len(payload) < need:
        raise InputError(
            f"header claims {header.points} points of {dtype.itemsize} bytes ({need} bytes of binary data), "
            f"file holds {len(payload)} bytes after the header",
            path=path,
        )
    trailer = bytes(payload[need:])
    if trailer not in _TOLERATED_TRAILERS:
        raise InputError(
            f"header claims {header.points} points ({need} bytes of binary data) but {len(trailer)} more "
            "bytes follow them; the header's point count is wrong or the file is corrupt",
            path=path,
        )
    return np.frombuffer(payload, dtype=dtype, count=header.points).copy()


def read_radar_pcd(path: str | Path) -> np.ndarray:
    """Read a nuScenes radar scan (binary PCD with the 18 :data:`RADAR_FIELDS`).

    Returns:
        ``(N,)`` structured array of dtype :data:`RADAR_DTYPE`: ``x, y, z`` metres in the sensor frame,
        ``vx, vy`` raw and ``vx_comp, vy_comp`` ego-motion compensated radial velocities in m/s, ``rcs``
        in dBsm, and the Continental ARS 408 state codes as int32.

    A return whose float fields are all NaN is nuScenes' marker of an empty scan and is dropped (an
    empty scan gives a ``(0,)`` array with every field).

    Raises:
        InputError: as :func:`read_pcd`, plus missing or unknown fields, fields with ``COUNT > 1``,
            non-integral state codes, and non-finite positions, velocities or ``rcs``.
    """
    records = read_pcd(path)
    names = tuple(records.dtype.names or ())
    missing = [f for f in RADAR_FIELDS if f not in names]
    unknown = [f for f in names if f not in RADAR_FIELDS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing fields {missing}")
        if unknown:
            parts.append(f"unknown fields {unknown}")
        raise InputError(
            f"not a nuScenes radar PCD: {' and '.join(parts)}; "
            f"expected the 18 fields {' '.join(RADAR_FIELDS)}",
            path=path,
        )
    # nuScenes writes an empty scan as one point whose float fields are all NaN (nuscenes-devkit's
    # "empty cloud" marker): such rows are dropped, so an empty scan reads as 0 returns.
    float_columns = [records[f].astype(np.float64) for f in RADAR_FLOAT_FIELDS if records[f].ndim == 1]
    if records.shape[0] and float_columns:
        records = records[~np.all(np.isnan(np.stack(float_columns, axis=1)), axis=1)]
    out = np.empty(records.shape[0], dtype=RADAR_DTYPE)
    for name in RADAR_FIELDS:
        column = records[name]
        if column.ndim != 1:
            raise InputError(f"radar field {name!r} has COUNT {column.shape[1]}, expected 1", path=path)
        if name in RADAR_FLOAT_FIELDS:
            bad = ~np.isfinite(column.astype(np.float64))
            if bad.any():
                raise InputError(
                    f"radar field {name!r}: {int(bad.sum())} of {column.size} returns are NaN/inf, "
                    f"first at index {int(np.flatnonzero(bad)[0])}",
                    path=path,
                )
        elif column.dtype.kind == "f" and not np.all(np.isfinite(column) & (column == np.round(column))):
            raise InputError(f"radar state field {name!r} holds non-integral values", path=path)
        out[name] = column
    return out


def _parse_ascii(payload: bytes, header: PcdHeader, path: Path) -> np.ndarray:
    """Structured array from the ``DATA ascii`` block (one point per line, values in field order)."""
    dtype = header.dtype
    width = sum(header.counts)
    try:
        text = payload.decode("ascii")
        values = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2)
    except (UnicodeDecodeError, ValueError) as err:
        raise InputError(f"malformed ascii PCD data: {err}", path=path) from None
    if values.size == 0:
        values = values.reshape(0, width)
    if values.shape[0] != header.points:
        raise InputError(
            f"header claims {header.points} points, the ascii data holds {values.shape[0]} rows", path=path
        )
    if values.shape[1] != width:
        raise InputError(
            f"ascii PCD rows hold {values.shape[1]} values, the header declares {width}", path=path
        )
    out = np.empty(header.points, dtype=dtype)
    start = 0
    for name, kind, count in zip(header.fields, header.types, header.counts, strict=True):
        block = values[:, start : start + count]
        start += count
        if kind != "F" and not np.all(np.isfinite(block) & (block == np.round(block))):
            raise InputError(
                f"ascii PCD field {name!r} is integer-typed but holds non-integral values", path=path
            )
        out[name] = block[:, 0] if count == 1 else block
    return out


def _ints(values: list[str], key: str, path: str | Path) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in values)
    except ValueError:
        raise InputError(
            f"PCD header: {key} {' '.join(values)} is not a list of integers", path=path
        ) from None


def _single_int(values: list[str], key: str, path: str | Path) -> int:
    ints = _ints(values, key, path)
    if len(ints) != 1 or ints[0] < 0:
        raise InputError(
            f"PCD header: {key} must be one non-negative integer, got {' '.join(values)}", path=path
        )
    return ints[0]


def _unique_field_names(fields: tuple[str, ...], path: str | Path) -> tuple[str, ...]:
    """Field names made unique: PCL pads with repeated ``_`` fields, which are renamed ``_1, _2, ...``."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(fields):
        if name == "_":
            name = f"_{i}"
        if name in seen:
            raise InputError(f"PCD header: field {name!r} appears twice in FIELDS", path=path)
        seen.add(name)
        out.append(name)
    return tuple(out)

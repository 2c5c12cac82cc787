"""Native reader of the nuScenes layout (JSON tables + ``samples/`` + ``sweeps/``), without nuscenes-devkit.

Layout: ``<dataroot>/<version>/{attribute,calibrated_sensor,category,ego_pose,instance,log,map,sample,
sample_annotation,sample_data,scene,sensor,visibility}.json`` and the sensor files that
``sample_data.filename`` names relative to ``<dataroot>``. The version folder may have any name
(``v1.0-trainval``, ``v1.0-mini``, ``v1.0-fusioncheck``, ...).

Conventions converted here:

- ``sample_annotation.size`` is ``[width, length, height]`` in nuScenes; the scene model stores
  ``(length, width, height)``. ``translation`` is the box centre in the global frame, metres.
- Quaternions (``rotation``) are ``[w, x, y, z]``, as in the package. They must be of unit norm within
  :data:`fusioncheck.geometry.quaternion.UNIT_NORM_TOLERANCE`; they are never normalised silently.
- ``calibrated_sensor`` gives ``ego_from_sensor``; ``ego_pose`` gives ``global_from_ego`` at the time of the
  ``sample_data`` that references it. Timestamps are integer microseconds.
- Every ``sample_data`` has a ``sample_token``: keyframes (``is_key_frame``) point to their sample, sweeps
  to the nearest sample. A sequence's samples of a channel are all ``sample_data`` of that channel whose
  ``sample_token`` is one of the scene's samples.

Extensions fusioncheck honours (ignored by nuScenes tools):

- ``calibrated_sensor.camera_distortion``: OpenCV distortion ``[k1, k2, p1, p2[, k3[, k4, k5, k6]]]`` of a
  camera whose images are not undistorted. Absent or empty means a rectified image.
- ``<dataroot>/fusioncheck_point_times/<sample_data token>.npy``: per-point capture times of a LiDAR sweep,
  ``(N,)`` float32 seconds relative to the ``sample_data`` timestamp, in the point order of the sweep file
  (fusioncheck's simulator writes them). Its length must equal the sweep's point count.

Validation: the tables are parsed once when the source is created (JSON syntax, one ``token`` per record,
unique tokens, the keys used for indexing). The records a sequence uses are validated when it is built
(keys, types, finite numbers, unit quaternions, positive sizes, every token link, prev/next chains,
increasing timestamps, one calibration per channel, at most one box per track and timestamp), so one
corrupt scene fails alone and building a scene costs time proportional to its size only. Sensor files are
checked when read. Every problem raises :class:`~fusioncheck.errors.InputError` naming file, table and
record.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NoReturn

import cv2
import numpy as np

from fusioncheck.errors import InputError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.se3 import SE3
from fusioncheck.loaders.base import DataSource
from fusioncheck.loaders.object_ann import FILE_NAME as OBJECT_ANN_FILE
from fusioncheck.loaders.object_ann import read_object_ann
from fusioncheck.loaders.pcd import LIDAR_COLUMNS, read_lidar_bin, read_radar_pcd
from fusioncheck.scene.boxes import BoxAnnotation
from fusioncheck.scene.boxes_2d import ImageBox
from fusioncheck.scene.poses import PoseTrack, same_time_poses
from fusioncheck.scene.samples import CameraImage, LidarSweep, RadarScan, SensorSample
from fusioncheck.scene.sensors import CameraIntrinsics, Modality, Sensor
from fusioncheck.scene.sequence import Keyframe, Sequence
from fusioncheck.typing import Float32Array, FloatArray

#: The 13 tables of the nuScenes schema.
TABLES: tuple[str, ...] = (
    "attribute", "calibrated_sensor", "category", "ego_pose", "instance", "log", "map", "sample",
    "sample_annotation", "sample_data", "scene", "sensor", "visibility",
)  # fmt: skip

#: Tables that may be empty lists (every other table must hold at least one record).
OPTIONAL_CONTENT_TABLES: frozenset[str] = frozenset({"attribute", "map", "visibility"})


#: Folder (under the dataroot) of the per-point LiDAR time extension.
POINT_TIMES_DIR = "fusioncheck_point_times"

#: ``read_image`` scale -> OpenCV reduced-decode flags (colour, grey).
_IMREAD_FLAGS: dict[float, tuple[int, int]] = {
    1.0: (cv2.IMREAD_COLOR, cv2.IMREAD_GRAYSCALE),
    0.5: (cv2.IMREAD_REDUCED_COLOR_2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
    0.25: (cv2.IMREAD_REDUCED_COLOR_4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
    0.125: (cv2.IMREAD_REDUCED_COLOR_8, cv2.IMREAD_REDUCED_GRAYSCALE_8),
}

Record = dict[str, Any]


def find_version_folders(dataroot: str | Path) -> list[str]:
    """List the folders under ``dataroot`` that hold nuScenes tables (any of the 13 ``*.json``), sorted."""
    root = Path(dataroot)
    if not root.is_dir():
        return []
    names = {f"{t}.json" for t in TABLES}
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any((p / n).is_file() for n in names))


class NuScenesSource(DataSource):
    """A dataset in the nuScenes layout.

    Args:
        dataroot: the folder holding the version folder and the sensor files.
        version: the version folder's name; found automatically when the dataroot holds exactly one.

    Raises:
        InputError: no or several candidate version folders, a missing table file, malformed JSON, a record
            without a token, duplicate tokens or scene names.
    """

    format_name = "nuscenes"

    def __init__(self, dataroot: str | Path, version: str | None = None) -> None:
        root = Path(dataroot).absolute()
        if not root.is_dir():
            raise InputError("nuScenes dataroot is not a folder", path=root)
        if version is None:
            candidates = find_version_folders(root)
            if not candidates:
                raise InputError(
                    "no nuScenes version folder found: expected a sub-folder (e.g. v1.0-trainval) holding "
                    f"{', '.join(t + '.json' for t in TABLES)}",
                    path=root,
                )
            if len(candidates) > 1:
                raise InputError(
                    f"several nuScenes version folders: {', '.join(candidates)}; pass version= to choose one",
                    path=root,
                )
            version = candidates[0]
        elif not (root / version).is_dir():
            found = find_version_folders(root)
            raise InputError(
                f"version folder {version!r} not found; candidates: {', '.join(found) or 'none'}", path=root
            )
        self._dataroot = root
        self.version = version
        self._tables: dict[str, dict[str, Record]] = {t: self._load_table(t) for t in TABLES}
        self._scene_by_name: dict[str, str] = {}
        for token, scene in self._tables["scene"].items():
            name = self._field("scene", token, scene, "name", str)
            if name in self._scene_by_name:
                self._fail(
                    "scene", token, f"scene name {name!r} is also used by scene {self._scene_by_name[name]}"
                )
            self._scene_by_name[name] = token
        self._data_by_sample = self._index_by("sample_data", "sample_token", "sample")
        self._annotations_by_sample = self._index_by("sample_annotation", "sample_token", "sample")

    # ------------------------------------------------------------------ DataSource interface

    @property
    def root(self) -> str:
        """The dataroot (absolute)."""
        return str(self._dataroot)

    @property
    def table_folder(self) -> Path:
        """The version folder holding the JSON tables."""
        return self._dataroot / self.version

    def sequence_names(self) -> list[str]:
        """Scene names in ``scene.json`` order."""
        return list(self._scene_by_name)

    def load_sequence(self, name: str) -> Sequence:
        """Build the scene model of the scene called ``name`` (tables only; sensor files are not read).

        Raises:
            InputError: unknown scene name, or any invalid record the scene uses (see the module doc).
        """
        scene_token = self._scene_by_name.get(name)
        if scene_token is None:
            names = list(self._scene_by_name)
            shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
            raise InputError(f"unknown scene {name!r}; available: {shown}", path=self._table_path("scene"))
        return _SequenceBuilder(self, scene_token).build()

    def read_lidar(self, sample: SensorSample) -> LidarSweep:
        """Read a LiDAR ``.pcd.bin`` sweep (and its per-point times when the extension file exists).

        Returns:
            A sweep with ``points`` ``(N, 5)`` float32 (``x, y, z`` metres in the sensor frame, intensity,
            ring) and ``point_times_s`` ``(N,)`` float32 seconds relative to ``sample.timestamp_us`` or
            ``None``.
        """
        _require_modality(sample, Modality.LIDAR)
        if not sample.path.name.endswith(".bin"):
            raise InputError(
                "LiDAR file is not a nuScenes .pcd.bin (float32 x, y, z, intensity, ring)",
                path=sample.path,
                table="sample_data",
                record=sample.token,
            )
        self._require_file(sample)
        with _naming_sample(sample):
            points = read_lidar_bin(sample.path, columns=len(LIDAR_COLUMNS))
        times = self._read_point_times(sample, points.shape[0])
        return LidarSweep(sample, points, times, LIDAR_COLUMNS)

    def read_radar(self, sample: SensorSample) -> RadarScan:
        """Read a radar ``.pcd`` scan into records of :data:`fusioncheck.loaders.pcd.RADAR_DTYPE`."""
        _require_modality(sample, Modality.RADAR)
        self._require_file(sample)
        with _naming_sample(sample):
            records = read_radar_pcd(sample.path)
        return RadarScan(sample, records)

    def read_image(self, sample: SensorSample, scale: float = 1.0, grey: bool = False) -> CameraImage:
        """Decode a camera image, at ``scale`` 1, 0.5, 0.25 or 0.125 (decoded reduced, not resized).

        Returns:
            ``pixels`` ``(H, W, 3)`` uint8 BGR, or ``(H, W)`` uint8 when ``grey``.

        Raises:
            InputError: missing or undecodable file, or an image whose size disagrees with the
                ``sample_data`` width/height.
        """
        _require_modality(sample, Modality.CAMERA)
        flags = _IMREAD_FLAGS.get(float(scale))
        if flags is None:
            raise ValueError(f"scale must be one of {sorted(_IMREAD_FLAGS)}, got {scale}")
        self._require_file(sample)
        pixels = cv2.imread(str(sample.path), flags[1] if grey else flags[0])
        if pixels is None:
            raise InputError(
                "image could not be decoded", path=sample.path, table="sample_data", record=sample.token
            )
        if sample.width_px > 0 and sample.height_px > 0:
            want_w, want_h = sample.width_px * scale, sample.height_px * scale
            got_h, got_w = pixels.shape[:2]
            if abs(got_w - want_w) > 1 or abs(got_h - want_h) > 1:
                raise InputError(
                    f"image is {got_w}x{got_h} px at scale {scale}, but sample_data says "
                    f"{sample.width_px}x{sample.height_px} (expected about {want_w:g}x{want_h:g})",
                    path=sample.path,
                    table="sample_data",
                    record=sample.token,
                )
        return CameraImage(sample, pixels, float(scale))

    def image_boxes(self, sample: SensorSample) -> tuple[ImageBox, ...]:
        """Return a camera sample's 2D boxes from the optional ``object_ann.json`` (loaders.object_ann)."""
        cached = getattr(self, "_object_ann", None)
        if cached is None:
            cached = read_object_ann(self.table_folder / OBJECT_ANN_FILE, self._tables)
            self._object_ann = cached
        return cached.get(sample.token, ())

    # ------------------------------------------------------------------ helpers

    def _table_path(self, table: str) -> Path:
        return self._dataroot / self.version / f"{table}.json"

    def _fail(self, table: str, token: str | None, message: str) -> NoReturn:
        raise InputError(message, path=self._table_path(table), table=table, record=token)

    def _load_table(self, table: str) -> dict[str, Record]:
        """Parse one table file into ``token -> record``, checking JSON, record shape and unique tokens."""
        path = self._table_path(table)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"missing nuScenes table {table}.json", path=path, table=table) from None
        except UnicodeDecodeError as err:
            raise InputError(f"not UTF-8 text at byte {err.start}", path=path, table=table) from None
        try:
            records = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(
                f"malformed JSON at line {err.lineno} column {err.colno} (char {err.pos}): {err.msg}",
                path=path,
                table=table,
            ) from None
        if not isinstance(records, list):
            raise InputError(
                f"expected a JSON list of records, got {type(records).__name__}", path=path, table=table
            )
        if not records and table not in OPTIONAL_CONTENT_TABLES:
            raise InputError("table is empty", path=path, table=table)
        index: dict[str, Record] = {}
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise InputError(
                    f"record #{i} is a {type(record).__name__}, not an object", path=path, table=table
                )
            token = record.get("token")
            if not isinstance(token, str) or not token:
                raise InputError(f"record #{i} has no string 'token'", path=path, table=table, record=f"#{i}")
            if token in index:
                first = next(j for j, r in enumerate(records) if r.get("token") == token)
                raise InputError(
                    f"duplicate token (records #{first} and #{i})", path=path, table=table, record=token
                )
            index[token] = record
        return index

    def _index_by(self, table: str, key: str, target: str) -> dict[str, list[str]]:
        """Index ``table`` by the link ``key`` into ``target``: ``target token -> tokens`` in file order.

        Checking the links here matters: a record whose link dangles would be reached by no scene and so
        be skipped silently. One pass over the table, so that building a scene stays linear in its size.
        """
        index: dict[str, list[str]] = {}
        for token, record in self._tables[table].items():
            index.setdefault(self._link(table, token, record, key, target), []).append(token)
        return index

    def _field(self, table: str, token: str, record: Record, key: str, kind: type) -> Any:
        """Return ``record[key]`` checked to be of ``kind`` (``int`` excludes ``bool``)."""
        if key not in record:
            self._fail(table, token, f"missing key {key!r}")
        value = record[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            self._fail(
                table, token, f"{key} must be {kind.__name__}, got {type(value).__name__} {_short(value)}"
            )
        return value

    def _link(
        self, table: str, token: str, record: Record, key: str, target: str, *, optional: bool = False
    ) -> str:
        """Return the token in ``record[key]``, checked to exist in ``target`` (may be ``""`` if optional)."""
        link = self._field(table, token, record, key, str)
        if link == "" and optional:
            return ""
        if link not in self._tables[target]:
            self._fail(table, token, f"{key} {link!r} not found in {target}.json (dangling link)")
        return str(link)

    def _vector(self, table: str, token: str, record: Record, key: str, n: int) -> FloatArray:
        """``record[key]`` as a finite ``(n,)`` float64 array."""
        value = self._field(table, token, record, key, list)
        if len(value) != n or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            self._fail(table, token, f"{key} must be a list of {n} numbers, got {_short(value)}")
        # math.isfinite on a handful of Python floats is several times cheaper than a numpy round trip.
        if not all(math.isfinite(v) for v in value):
            self._fail(table, token, f"{key} has non-finite values {value}")
        return np.array(value, dtype=np.float64)

    def _quat(self, table: str, token: str, record: Record, key: str = "rotation") -> FloatArray:
        """``record[key]`` as a unit quaternion ``(w, x, y, z)``; non-unit quaternions are refused."""
        q = self._vector(table, token, record, key, 4)
        if not quaternion.is_unit(q):
            self._fail(
                table,
                token,
                f"{key} {q.tolist()} is not a unit quaternion (norm {np.linalg.norm(q):.6f}); "
                "fusioncheck does not normalise silently",
            )
        return q

    def _require_file(self, sample: SensorSample) -> None:
        if not sample.path.is_file():
            raise InputError(
                "sensor file missing", path=sample.path, table="sample_data", record=sample.token
            )

    def _read_point_times(self, sample: SensorSample, n_points: int) -> Float32Array | None:
        """Load the per-point time extension of a sweep, or ``None`` when it has none."""
        path = self._dataroot / POINT_TIMES_DIR / f"{sample.token}.npy"
        if not path.is_file():
            return None
        try:
            times = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as err:
            raise InputError(
                f"unreadable per-point times: {err}", path=path, table="sample_data", record=sample.token
            ) from None
        if times.ndim != 1 or times.shape[0] != n_points or times.dtype.kind != "f":
            raise InputError(
                f"per-point times hold {times.shape} {times.dtype}, the sweep {sample.path.name} has "
                f"{n_points} points (expected ({n_points},) float seconds)",
                path=path,
                table="sample_data",
                record=sample.token,
            )
        if not np.all(np.isfinite(times)):
            raise InputError(
                "per-point times hold NaN/inf", path=path, table="sample_data", record=sample.token
            )
        return times.astype(np.float32)


class _SequenceBuilder:
    """Validates the records of one scene and builds its :class:`Sequence` (one use)."""

    def __init__(self, source: NuScenesSource, scene_token: str) -> None:
        self.src = source
        self.tables = source._tables
        self.scene_token = scene_token
        self.scene = self.tables["scene"][scene_token]
        self._channels: dict[str, tuple[str, Modality]] = {}
        self._poses: dict[str, tuple[int, FloatArray, FloatArray, SE3]] = {}

    def build(self) -> Sequence:
        src = self.src
        scene, token = self.scene, self.scene_token
        name = src._field("scene", token, scene, "name", str)
        description = scene.get("description", "")
        sample_tokens = self._walk_samples()

        data_by_channel: dict[str, list[SensorSample]] = {}
        calibrations: dict[str, set[str]] = {}
        image_sizes: dict[str, dict[tuple[int, int], str]] = {}
        keyframe_samples: dict[str, dict[str, SensorSample]] = {t: {} for t in sample_tokens}
        for sample_token in sample_tokens:
            for sd_token in src._data_by_sample.get(sample_token, []):
                sd = self.tables["sample_data"][sd_token]
                item, calib_token = self._sensor_sample(sd_token, sd, sample_token)
                data_by_channel.setdefault(item.channel, []).append(item)
                calibrations.setdefault(item.channel, set()).add(calib_token)
                if item.modality is Modality.CAMERA:
                    image_sizes.setdefault(item.channel, {}).setdefault(
                        (item.width_px, item.height_px), sd_token
                    )
                if item.is_keyframe:
                    earlier = keyframe_samples[sample_token].get(item.channel)
                    if earlier is not None:
                        src._fail(
                            "sample_data",
                            sd_token,
                            f"sample {sample_token} has two keyframe sample_data of channel {item.channel}: "
                            f"{earlier.token} and {sd_token}",
                        )
                    keyframe_samples[sample_token][item.channel] = item
        if not data_by_channel:
            src._fail("scene", token, f"scene {name!r} has no sample_data")

        samples: dict[str, tuple[SensorSample, ...]] = {}
        for channel, items in sorted(data_by_channel.items()):
            items.sort(key=lambda s: s.timestamp_us)
            for a, b in itertools.pairwise(items):
                if a.timestamp_us == b.timestamp_us:
                    src._fail(
                        "sample_data",
                        b.token,
                        f"channel {channel} has two sample_data at timestamp {a.timestamp_us}: "
                        f"{a.token}, {b.token}",
                    )
            samples[channel] = tuple(items)

        sensors = {ch: self._sensor(ch, calibrations[ch], image_sizes.get(ch, {})) for ch in samples}
        keyframes = self._keyframes(sample_tokens, keyframe_samples)
        ego_poses = self._pose_track()
        return Sequence(
            name=name,
            token=token,
            dataroot=src.root,
            sensors=sensors,
            ego_poses=ego_poses,
            keyframes=keyframes,
            samples=samples,
            description=description if isinstance(description, str) else "",
        )

    # -------------------------------------------------------------- samples (keyframes)

    def _walk_samples(self) -> list[str]:
        """Follow the scene's samples along ``next`` links, checking links, back-links and timestamps."""
        src, scene, scene_token = self.src, self.scene, self.scene_token
        samples = self.tables["sample"]
        current = src._link("scene", scene_token, scene, "first_sample_token", "sample")
        order: list[str] = []
        seen: set[str] = set()
        previous = ""
        previous_time = -math.inf
        while current:
            if current in seen:
                src._fail("sample", current, f"next links of scene {scene_token} form a cycle")
            seen.add(current)
            record = samples[current]
            owner = src._link("sample", current, record, "scene_token", "scene")
            if owner != scene_token:
                src._fail(
                    "sample", current, f"reached from scene {scene_token} but its scene_token is {owner}"
                )
            prev = src._field("sample", current, record, "prev", str)
            if prev != previous:
                src._fail(
                    "sample",
                    current,
                    f"prev is {prev!r} but the sample reached by next links before it is {previous!r} "
                    "(broken prev/next chain)",
                )
            timestamp = src._field("sample", current, record, "timestamp", int)
            if timestamp <= previous_time:
                src._fail(
                    "sample",
                    current,
                    f"timestamp {timestamp} is not after the previous sample's {previous_time} "
                    "along next links",
                )
            order.append(current)
            previous, previous_time = current, timestamp
            current = src._link("sample", current, record, "next", "sample", optional=True)
        last = scene.get("last_sample_token")
        if last is not None and last != order[-1]:
            src._fail(
                "scene", scene_token, f"last_sample_token {last!r} but the next links end at {order[-1]!r}"
            )
        count = scene.get("nbr_samples")
        if count is not None and count != len(order):
            src._fail(
                "scene", scene_token, f"nbr_samples is {count} but the next links reach {len(order)} samples"
            )
        return order

    # -------------------------------------------------------------- sample_data

    def _sensor_sample(self, sd_token: str, sd: Record, sample_token: str) -> tuple[SensorSample, str]:
        """Build the :class:`SensorSample` of a ``sample_data`` record; also return its calibration token."""
        src = self.src
        table = "sample_data"
        calib_token = src._link(table, sd_token, sd, "calibrated_sensor_token", "calibrated_sensor")
        channel, modality = self._channel(calib_token)
        timestamp = src._field(table, sd_token, sd, "timestamp", int)
        is_keyframe = src._field(table, sd_token, sd, "is_key_frame", bool)
        filename = src._field(table, sd_token, sd, "filename", str)
        path = self._data_path(sd_token, filename)
        width = src._field(table, sd_token, sd, "width", int) if "width" in sd else 0
        height = src._field(table, sd_token, sd, "height", int) if "height" in sd else 0
        if width < 0 or height < 0:
            src._fail(table, sd_token, f"negative image size {width}x{height}")
        pose_token = src._link(table, sd_token, sd, "ego_pose_token", "ego_pose")
        global_from_ego = self._pose(pose_token)
        self._check_chain(sd_token, sd, channel, timestamp)
        item = SensorSample(
            token=sd_token,
            channel=channel,
            modality=modality,
            timestamp_us=timestamp,
            path=path,
            global_from_ego=global_from_ego,
            is_keyframe=is_keyframe,
            keyframe_token=sample_token,
            width_px=width if modality is Modality.CAMERA else 0,
            height_px=height if modality is Modality.CAMERA else 0,
        )
        return item, calib_token

    def _data_path(self, sd_token: str, filename: str) -> Path:
        """Absolute path of a sensor file, refusing names that are absolute or leave the dataroot."""
        if not filename:
            self.src._fail("sample_data", sd_token, "filename is empty")
        posix, windows = PurePosixPath(filename), PureWindowsPath(filename)
        if posix.is_absolute() or windows.is_absolute() or windows.drive or filename.startswith(("\\", "/")):
            self.src._fail(
                "sample_data",
                sd_token,
                f"filename {filename!r} is absolute; it must be relative to the dataroot",
            )
        if ".." in windows.parts:
            self.src._fail("sample_data", sd_token, f"filename {filename!r} escapes the dataroot ('..')")
        return self.src._dataroot.joinpath(*windows.parts)

    def _check_chain(self, sd_token: str, sd: Record, channel: str, timestamp: int) -> None:
        """Check the ``prev``/``next`` links of a sample_data record: existence, back-links, channel, time."""
        src, table = self.src, "sample_data"
        data = self.tables[table]
        for key, back in (("next", "prev"), ("prev", "next")):
            other_token = src._link(table, sd_token, sd, key, table, optional=True)
            if not other_token:
                continue
            other = data[other_token]
            if other.get(back) != sd_token:
                src._fail(
                    table,
                    sd_token,
                    f"{key} is {other_token} but that record's {back} is {other.get(back)!r} "
                    "(broken prev/next chain)",
                )
            other_calib = src._link(table, other_token, other, "calibrated_sensor_token", "calibrated_sensor")
            other_channel = self._channel(other_calib)[0]
            if other_channel != channel:
                src._fail(
                    table, sd_token, f"{key} {other_token} is of channel {other_channel}, not {channel}"
                )
            other_time = src._field(table, other_token, other, "timestamp", int)
            if (other_time <= timestamp) if key == "next" else (other_time >= timestamp):
                src._fail(
                    table,
                    sd_token,
                    f"timestamps do not increase along next links: {timestamp} here, "
                    f"{other_time} at {key} {other_token}",
                )

    def _channel(self, calib_token: str) -> tuple[str, Modality]:
        """Channel and modality of a calibrated_sensor (through its sensor record), cached."""
        cached = self._channels.get(calib_token)
        if cached is not None:
            return cached
        src = self.src
        calib = self.tables["calibrated_sensor"][calib_token]
        sensor_token = src._link("calibrated_sensor", calib_token, calib, "sensor_token", "sensor")
        sensor = self.tables["sensor"][sensor_token]
        channel = src._field("sensor", sensor_token, sensor, "channel", str)
        modality_name = src._field("sensor", sensor_token, sensor, "modality", str)
        try:
            modality = Modality(modality_name)
        except ValueError:
            src._fail(
                "sensor",
                sensor_token,
                f"modality {modality_name!r} is not one of {[m.value for m in Modality]}",
            )
        if not channel:
            src._fail("sensor", sensor_token, "channel is empty")
        self._channels[calib_token] = (channel, modality)
        return channel, modality

    def _pose(self, pose_token: str) -> SE3:
        """``global_from_ego`` of an ego_pose record (validated once, cached)."""
        cached = self._poses.get(pose_token)
        if cached is not None:
            return cached[3]
        src, table = self.src, "ego_pose"
        record = self.tables[table][pose_token]
        timestamp = src._field(table, pose_token, record, "timestamp", int)
        translation = src._vector(table, pose_token, record, "translation", 3)
        quat = src._quat(table, pose_token, record)
        pose = SE3.from_quat(quat, translation)
        self._poses[pose_token] = (timestamp, translation, quat, pose)
        return pose

    def _pose_track(self) -> PoseTrack:
        """Every ego pose the scene's sample_data reference, merged into one track.

        Poses that share a timestamp (several sensors stamped alike) must agree: the track keeps one of
        them, so a disagreement would otherwise be dropped silently.
        """
        tokens = list(self._poses)
        timestamps = np.array([self._poses[t][0] for t in tokens], dtype=np.int64)
        translations = np.stack([self._poses[t][1] for t in tokens])
        quats = np.stack([self._poses[t][2] for t in tokens])
        _, _, conflict = same_time_poses(timestamps, translations, quats)
        if conflict is not None:
            self.src._fail(
                "ego_pose",
                f"{tokens[conflict.first]}, {tokens[conflict.second]}",
                f"two ego poses at timestamp {conflict.timestamp_us} {conflict.describe()}",
            )
        return PoseTrack.from_unsorted(timestamps, translations, quats)

    # -------------------------------------------------------------- sensors

    def _sensor(self, channel: str, calib_tokens: set[str], sizes: dict[tuple[int, int], str]) -> Sensor:
        """Build the :class:`Sensor` of a channel from its single calibrated_sensor record."""
        src, table = self.src, "calibrated_sensor"
        if len(calib_tokens) > 1:
            tokens = sorted(calib_tokens)
            src._fail(
                table,
                ", ".join(tokens),
                f"channel {channel} uses {len(tokens)} different calibrated_sensor records in scene "
                f"{self.scene_token}: {', '.join(tokens)}; a sequence needs one calibration per channel",
            )
        (token,) = calib_tokens
        record = self.tables[table][token]
        modality = self._channel(token)[1]
        translation = src._vector(table, token, record, "translation", 3)
        quat = src._quat(table, token, record)
        intrinsics = None
        if modality is Modality.CAMERA:
            if len(sizes) > 1:
                shown = ", ".join(f"{w}x{h} ({t})" for (w, h), t in sizes.items())
                src._fail(
                    "sample_data",
                    None,
                    f"channel {channel} has sample_data of different image sizes: {shown}",
                )
            width, height = next(iter(sizes)) if sizes else (0, 0)
            intrinsics = self._intrinsics(token, record, width, height)
        return Sensor(channel, modality, SE3.from_quat(quat, translation), intrinsics, token)

    def _intrinsics(self, token: str, record: Record, width: int, height: int) -> CameraIntrinsics:
        src, table = self.src, "calibrated_sensor"
        rows = src._field(table, token, record, "camera_intrinsic", list)
        if len(rows) != 3 or not all(isinstance(r, list) and len(r) == 3 for r in rows):
            src._fail(table, token, f"camera_intrinsic must be a 3x3 matrix for a camera, got {_short(rows)}")
        matrix = src._vector(
            table, token, {"camera_intrinsic": [v for r in rows for v in r]}, "camera_intrinsic", 9
        )
        matrix = matrix.reshape(3, 3)
        if matrix[0, 0] <= 0 or matrix[1, 1] <= 0 or not np.allclose(matrix[2], [0.0, 0.0, 1.0]):
            src._fail(
                table, token, f"camera_intrinsic {matrix.tolist()} is not a pinhole matrix (fx, fy > 0)"
            )
        distortion: Iterable[float] = []
        if record.get("camera_distortion") is not None:
            coefficients = src._field(table, token, record, "camera_distortion", list)
            if len(coefficients) not in (0, 4, 5, 8):
                src._fail(
                    table,
                    token,
                    f"camera_distortion has {len(coefficients)} values; expected OpenCV "
                    "k1,k2,p1,p2[,k3[,k4,k5,k6]] (4, 5 or 8)",
                )
            distortion = src._vector(table, token, record, "camera_distortion", len(coefficients))
        return CameraIntrinsics(matrix, np.asarray(list(distortion), dtype=np.float64), width, height)

    # -------------------------------------------------------------- boxes

    def _keyframes(
        self, sample_tokens: list[str], keyframe_samples: dict[str, dict[str, SensorSample]]
    ) -> tuple[Keyframe, ...]:
        src = self.src
        seen: dict[tuple[str, int], str] = {}
        keyframes = []
        for sample_token in sample_tokens:
            timestamp = self.tables["sample"][sample_token]["timestamp"]
            boxes = []
            for ann_token in src._annotations_by_sample.get(sample_token, []):
                box = self._box(ann_token, sample_token, timestamp)
                other = seen.get((box.instance, timestamp))
                if other is not None:
                    src._fail(
                        "sample_annotation",
                        ann_token,
                        f"instance {box.instance} has two boxes at timestamp {timestamp}: "
                        f"{other} and {ann_token}",
                    )
                seen[(box.instance, timestamp)] = ann_token
                boxes.append(box)
            channels = keyframe_samples[sample_token]
            keyframes.append(Keyframe(sample_token, timestamp, dict(sorted(channels.items())), tuple(boxes)))
        return tuple(keyframes)

    def _box(self, token: str, sample_token: str, timestamp: int) -> BoxAnnotation:
        src, table = self.src, "sample_annotation"
        record = self.tables[table][token]
        instance_token = src._link(table, token, record, "instance_token", "instance")
        category = self._category(instance_token)
        center = src._vector(table, token, record, "translation", 3)
        size_wlh = src._vector(table, token, record, "size", 3)
        if np.any(size_wlh <= 0):
            src._fail(
                table, token, f"size {size_wlh.tolist()} (width, length, height) has a non-positive value"
            )
        quat = src._quat(table, token, record)
        attribute_tokens = src._field(table, token, record, "attribute_tokens", list)
        attributes = []
        for attribute_token in attribute_tokens:
            if not isinstance(attribute_token, str) or attribute_token not in self.tables["attribute"]:
                src._fail(
                    table,
                    token,
                    f"attribute token {attribute_token!r} not found in attribute.json (dangling link)",
                )
            attribute = self.tables["attribute"][attribute_token]
            attributes.append(src._field("attribute", attribute_token, attribute, "name", str))
        visibility = None
        if record.get("visibility_token") not in (None, ""):
            visibility_token = src._link(table, token, record, "visibility_token", "visibility")
            level = self.tables["visibility"][visibility_token]
            visibility = src._field("visibility", visibility_token, level, "level", str)
        counts = []
        for key in ("num_lidar_pts", "num_radar_pts"):
            count = src._field(table, token, record, key, int) if record.get(key) is not None else None
            if count is not None and count < 0:
                src._fail(table, token, f"{key} is negative ({count})")
            counts.append(count)
        for key in ("next", "prev"):
            self._check_annotation_link(token, record, key, instance_token)
        return BoxAnnotation(
            token=token,
            instance=instance_token,
            category=category,
            keyframe_token=sample_token,
            timestamp_us=timestamp,
            center_m=center,
            size_m=size_wlh[[1, 0, 2]],
            quat_wxyz=quat,
            attributes=tuple(attributes),
            num_lidar_pts=counts[0],
            num_radar_pts=counts[1],
            visibility=visibility,
        )

    def _category(self, instance_token: str) -> str:
        src, table = self.src, "instance"
        instance = self.tables[table][instance_token]
        category_token = src._link(table, instance_token, instance, "category_token", "category")
        for key in ("first_annotation_token", "last_annotation_token"):
            if key in instance:
                src._link(table, instance_token, instance, key, "sample_annotation")
        return str(
            src._field("category", category_token, self.tables["category"][category_token], "name", str)
        )

    def _check_annotation_link(self, token: str, record: Record, key: str, instance_token: str) -> None:
        src, table = self.src, "sample_annotation"
        other_token = src._link(table, token, record, key, table, optional=True)
        if not other_token:
            return
        other = self.tables[table][other_token]
        back = "prev" if key == "next" else "next"
        if other.get(back) != token:
            src._fail(
                table,
                token,
                f"{key} is {other_token} but that record's {back} is {other.get(back)!r} "
                "(broken prev/next chain)",
            )
        if other.get("instance_token") != instance_token:
            src._fail(
                table,
                token,
                f"{key} {other_token} belongs to instance {other.get('instance_token')!r}, "
                f"not {instance_token}",
            )


def _require_modality(sample: SensorSample, modality: Modality) -> None:
    if sample.modality is not modality:
        raise ValueError(
            f"sample {sample.token} is a {sample.modality.value} sample ({sample.channel}), "
            f"not {modality.value}"
        )


@contextmanager
def _naming_sample(sample: SensorSample) -> Iterator[None]:
    """Re-raise a file reader's :class:`InputError` with the sample_data token added."""
    try:
        yield
    except InputError as error:
        if error.record is not None:
            raise
        raise InputError(error.message, path=error.path, table="sample_data", record=sample.token) from error


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

"""Reader of Argoverse 2 sensor-dataset logs (feather files), into the scene model.

Layout of one log (the folder name is the log id, the sequence name)::

    <log>/annotations.feather                      cuboids (absent in the test split)
    <log>/city_SE3_egovehicle.feather              ego poses (~200 Hz)
    <log>/calibration/egovehicle_SE3_sensor.feather  extrinsics of cameras and LiDARs
    <log>/calibration/intrinsics.feather           camera intrinsics (fx, fy, cx, cy, k1, k2, k3, size)
    <log>/sensors/lidar/<timestamp_ns>.feather     LiDAR sweeps: x y z intensity laser_number offset_ns
    <log>/sensors/cameras/<camera>/<timestamp_ns>.jpg   ring/stereo camera images (optional)

The source's root may be one log folder or any folder holding log folders up to three levels down
(``sensor/val/<log>``); every log found is a sequence.

Conventions converted here (AV2 names -> scene model):

- Timestamps are integer nanoseconds in AV2; the scene model uses microseconds, rounded to the nearest.
  Per-point LiDAR times keep full precision: ``offset_ns`` plus the rounding remainder of the sweep time.
- ``annotations.feather``: one row per box and sweep; the box centre ``tx_m ty_m tz_m`` and rotation
  ``qw qx qy qz`` (scalar first, as the package) are in the **ego frame at the sweep's timestamp**, and
  are taken to the global ("city") frame with the ego pose at that timestamp (``city_SE3_egovehicle``,
  interpolated when no pose has exactly that time). ``length_m width_m height_m`` are along the box's own
  x, y, z: the scene model's ``(length, width, height)`` order, no swap. ``track_uuid`` is the instance,
  ``num_interior_pts`` becomes ``num_lidar_pts``. Classes are named in nuScenes style
  (:mod:`fusioncheck.loaders.av2_categories`); an unknown class is refused.
- LiDAR: AV2 ships one sweep per 10 Hz revolution merging its two LiDARs (``up_lidar``, ``down_lidar``)
  in the **ego frame**. The scene model calls it ``LIDAR_TOP`` and gives it ``up_lidar``'s extrinsic, so the
  reader moves the points into ``up_lidar``'s frame (checks that cast rays then start them at the upper
  sensor; the lower sensor's points are thereby treated as seen from 11 cm above). Columns:
  ``x, y, z, intensity, laser_number``.
- Cameras: AV2's distortion ``k1, k2, k3`` is radial only: OpenCV ``[k1, k2, 0, 0, k3]``. A camera is part
  of a sequence only when its image folder holds images. Every annotated sweep is a keyframe; the image of
  each camera nearest a keyframe (within :data:`CAMERA_KEYFRAME_TOLERANCE_US`) is that keyframe's sample.
- AV2 has no radar.

Reading feather needs pyarrow (``pip install 'fusioncheck[av2]'``); without it, opening a source says so.
Every problem raises :class:`~fusioncheck.errors.InputError` naming file and row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.errors import InputError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.se3 import SE3
from fusioncheck.loaders.av2_categories import AV2_CATEGORIES
from fusioncheck.loaders.base import DataSource
from fusioncheck.loaders.images import decode_image
from fusioncheck.scene.boxes import BoxAnnotation
from fusioncheck.scene.poses import PoseTrack, same_time_poses
from fusioncheck.scene.samples import CameraImage, LidarSweep, RadarScan, SensorSample
from fusioncheck.scene.sensors import CameraIntrinsics, Modality, Sensor
from fusioncheck.scene.sequence import Keyframe, Sequence

#: Channel name of AV2's merged LiDAR sweep in the scene model.
LIDAR_CHANNEL = "LIDAR_TOP"
#: The AV2 sensor whose extrinsic the merged sweep is given (its points are moved into this frame).
LIDAR_FRAME_SENSOR = "up_lidar"
#: Columns of a LiDAR sweep as read.
AV2_LIDAR_COLUMNS: tuple[str, ...] = ("x", "y", "z", "intensity", "laser_number")
#: A camera image within this time of a keyframe becomes that keyframe's camera sample (microseconds).
CAMERA_KEYFRAME_TOLERANCE_US = 50_000
#: How deep below the root logs are searched for.
MAX_LOG_DEPTH = 3
#: Folders with more entries than this are not searched for logs (see :func:`find_av2_logs`).
MAX_FOLDER_ENTRIES = 5000

_POSE_FILE = "city_SE3_egovehicle.feather"
_EXTRINSICS_FILE = "calibration/egovehicle_SE3_sensor.feather"
_INTRINSICS_FILE = "calibration/intrinsics.feather"
_ANNOTATIONS_FILE = "annotations.feather"
_LIDAR_DIR = "sensors/lidar"
_CAMERA_DIR = "sensors/cameras"

_ANNOTATION_COLUMNS = (
    "timestamp_ns", "track_uuid", "category", "length_m", "width_m", "height_m",
    "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m",
)  # fmt: skip
_POSE_COLUMNS = ("timestamp_ns", "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m")
_EXTRINSIC_COLUMNS = ("sensor_name", "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m")
_INTRINSIC_COLUMNS = (
    "sensor_name",
    "fx_px",
    "fy_px",
    "cx_px",
    "cy_px",
    "k1",
    "k2",
    "k3",
    "height_px",
    "width_px",
)
_LIDAR_COLUMNS = ("x", "y", "z", "intensity", "laser_number", "offset_ns")


def is_av2_log(path: Path) -> bool:
    """Tell whether ``path`` is an AV2 log folder (ego poses and extrinsics present)."""
    return (path / _POSE_FILE).is_file() and (path / _EXTRINSICS_FILE).is_file()


def find_av2_logs(root: str | Path, max_depth: int = MAX_LOG_DEPTH) -> list[Path]:
    """AV2 log folders at ``root`` or up to ``max_depth`` levels below it, sorted by path.

    Folders with more than :data:`MAX_FOLDER_ENTRIES` entries are not descended into: AV2 splits hold at
    most a few hundred logs, while sensor-file folders of other layouts (a nuScenes ``samples/CAM_FRONT``)
    hold many thousands, whose listing would make detection slow.
    """
    base = Path(root)
    if not base.is_dir():
        return []
    if is_av2_log(base):
        return [base]
    found: list[Path] = []
    level = [base]
    for _ in range(max_depth):
        nxt: list[Path] = []
        for folder in level:
            children = _subfolders(folder)
            for child in children:
                (found if is_av2_log(child) else nxt).append(child)
        level = nxt
    return sorted(found)


def _subfolders(folder: Path) -> list[Path]:
    """Sub-folders of ``folder``, sorted; none when it is unreadable or holds too many entries."""
    out = []
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_FOLDER_ENTRIES:
                    return []
                if entry.is_dir():
                    out.append(Path(entry.path))
    except OSError:
        return []
    return sorted(out)


def _feather() -> Any:
    """Import ``pyarrow.feather``, or raise a clear error when pyarrow is missing."""
    try:
        import pyarrow.feather as feather
    except ImportError:
        raise InputError(
            "reading Argoverse 2 (feather files) needs pyarrow: pip install 'fusioncheck[av2]' "
            "(or pip install pyarrow)"
        ) from None
    return feather


def read_feather_columns(
    path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """Read ``columns`` (and those of ``optional`` that the file has) of a feather file as numpy arrays.

    Raises:
        InputError: missing file, unreadable file, or missing columns (named).
    """
    feather = _feather()
    if not path.is_file():
        raise InputError("missing file", path=path)
    try:
        table = feather.read_table(str(path), memory_map=True)
    except Exception as err:  # pyarrow raises several unrelated types for corrupt files
        raise InputError(f"not a readable feather (Arrow IPC) file: {err}", path=path) from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the file has {', '.join(table.column_names)}", path=path
        )
    out: dict[str, np.ndarray] = {}
    for name in (*columns, *(c for c in optional if c in table.column_names)):
        column = table.column(name)
        if column.null_count:
            row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            raise InputError(f"column {name} has a null value", path=path, record=f"row {row}")
        out[name] = column.to_numpy()
    return out


def _check_finite(path: Path, data: dict[str, np.ndarray], names: tuple[str, ...]) -> None:
    """Refuse non-numeric columns and non-finite values (naming column and row); integers for ``*_ns``."""
    for name in ("timestamp_ns", "offset_ns"):
        if name in data and data[name].dtype.kind not in "iu":
            raise InputError(f"column {name} holds {data[name].dtype}, not integer nanoseconds", path=path)
    for name in names:
        if data[name].dtype.kind not in "iuf":
            raise InputError(f"column {name} holds {data[name].dtype}, not numbers", path=path)
        values = np.asarray(data[name], dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InputError(f"{name} is {values[bad[0]]}, not finite", path=path, record=f"row {bad[0]}")


def _check_unit(path: Path, quats: np.ndarray) -> None:
    norms = np.linalg.norm(quats, axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > quaternion.UNIT_NORM_TOLERANCE)
    if bad.size:
        raise InputError(
            f"quaternion (qw, qx, qy, qz) {quats[bad[0]].tolist()} is not of unit norm "
            f"(norm {norms[bad[0]]:.6f}); fusioncheck does not normalise silently",
            path=path,
            record=f"row {bad[0]}",
        )


def _ns_to_us(timestamps_ns: np.ndarray) -> np.ndarray:
    """Nanoseconds -> microseconds, rounded to the nearest, int64."""
    t = np.asarray(timestamps_ns, dtype=np.int64)
    return (t + 500) // 1000


def _timestamp_of(path: Path) -> int:
    try:
        return int(path.name.split(".", 1)[0])
    except ValueError:
        raise InputError(
            "sensor file name is not <timestamp_ns>.<ext> (integer nanoseconds)", path=path
        ) from None


class AV2Source(DataSource):
    """Argoverse 2 sensor-dataset logs under a folder (see the module docstring).

    Raises:
        InputError: pyarrow missing, no AV2 log found, or two logs with one id.
    """

    format_name = "av2"

    def __init__(self, root: str | Path) -> None:
        _feather()
        base = Path(root).absolute()
        if not base.is_dir():
            raise InputError("Argoverse 2 root is not a folder", path=base)
        logs = find_av2_logs(base)
        if not logs:
            raise InputError(
                f"no Argoverse 2 log found (a folder with {_POSE_FILE} and {_EXTRINSICS_FILE}, at most "
                f"{MAX_LOG_DEPTH} levels down)",
                path=base,
            )
        self._root = base
        # Log folder -> the merged sweep's ego_from_sensor, kept from load_sequence for read_lidar.
        self._lidar_extrinsics: dict[Path, SE3] = {}
        self._logs: dict[str, Path] = {}
        for log in logs:
            if log.name in self._logs:
                raise InputError(f"two logs named {log.name}: {self._logs[log.name]} and {log}", path=base)
            self._logs[log.name] = log

    @property
    def root(self) -> str:
        """The folder the logs were found under (absolute)."""
        return str(self._root)

    def sequence_names(self) -> list[str]:
        """Log ids, sorted by path."""
        return list(self._logs)

    def log_folder(self, name: str) -> Path:
        """Return the folder of log ``name``."""
        folder = self._logs.get(name)
        if folder is None:
            raise InputError(f"unknown log {name!r}; available: {', '.join(self._logs)}", path=self._root)
        return folder

    def load_sequence(self, name: str) -> Sequence:
        """Build the scene model of one log (tables only; sweeps and images are not read)."""
        folder = self.log_folder(name)
        sequence = _LogBuilder(folder).build()
        if LIDAR_CHANNEL in sequence.sensors:
            self._lidar_extrinsics[folder] = sequence.sensors[LIDAR_CHANNEL].ego_from_sensor
        return sequence

    def read_lidar(self, sample: SensorSample) -> LidarSweep:
        """Read a sweep: ``points`` ``(N, 5)`` float32 in ``up_lidar``'s frame, per-point times in seconds."""
        if sample.modality is not Modality.LIDAR:
            raise ValueError(f"sample {sample.token} is not a LiDAR sample")
        data = read_feather_columns(sample.path, _LIDAR_COLUMNS)
        _check_finite(sample.path, data, ("x", "y", "z"))
        xyz_ego = np.stack([data["x"], data["y"], data["z"]], axis=1).astype(np.float64)
        log = sample.path.parents[2]
        ego_from_lidar = self._lidar_extrinsics.get(log)
        if ego_from_lidar is None:
            extrinsics = _read_extrinsics(log / _EXTRINSICS_FILE)
            ego_from_lidar = self._lidar_extrinsics[log] = extrinsics.get(LIDAR_FRAME_SENSOR, SE3.identity())
        sensor_from_ego = ego_from_lidar.inverse()
        points = np.empty((xyz_ego.shape[0], 5), dtype=np.float32)
        points[:, :3] = sensor_from_ego.transform_points(xyz_ego)
        points[:, 3] = data["intensity"]
        points[:, 4] = data["laser_number"]
        # offset_ns is relative to the sweep's nanosecond stamp; the sample carries it rounded to us.
        remainder_ns = _timestamp_of(sample.path) - sample.timestamp_us * 1000
        times = ((data["offset_ns"].astype(np.int64) + remainder_ns) * 1e-9).astype(np.float32)
        return LidarSweep(sample, points, times, AV2_LIDAR_COLUMNS)

    def read_radar(self, sample: SensorSample) -> RadarScan:
        """AV2 has no radar; always raises."""
        raise InputError("Argoverse 2 logs have no radar", path=sample.path, record=sample.token)

    def read_image(self, sample: SensorSample, scale: float = 1.0, grey: bool = False) -> CameraImage:
        """Decode a camera ``.jpg`` at ``scale`` 1, 0.5, 0.25 or 0.125."""
        if sample.modality is not Modality.CAMERA:
            raise ValueError(f"sample {sample.token} is not a camera sample")
        return decode_image(sample, scale, grey)


def _read_extrinsics(path: Path) -> dict[str, SE3]:
    """Sensor name -> ``ego_from_sensor`` from ``egovehicle_SE3_sensor.feather``."""
    data = read_feather_columns(path, _EXTRINSIC_COLUMNS)
    _check_finite(path, data, _EXTRINSIC_COLUMNS[1:])
    quats = np.stack([data[k] for k in ("qw", "qx", "qy", "qz")], axis=1).astype(np.float64)
    _check_unit(path, quats)
    translations = np.stack([data[k] for k in ("tx_m", "ty_m", "tz_m")], axis=1).astype(np.float64)
    out: dict[str, SE3] = {}
    for i, name in enumerate(data["sensor_name"]):
        if name in out:
            raise InputError(f"sensor {name} appears twice", path=path, record=f"row {i}")
        out[str(name)] = SE3.from_quat(quats[i], translations[i])
    return out


@dataclass
class _Annotations:
    """The validated columns of ``annotations.feather`` (boxes in the ego frame)."""

    timestamps_ns: np.ndarray
    tracks: np.ndarray
    categories: list[str]
    sizes_m: np.ndarray
    quats_wxyz: np.ndarray
    centers_m: np.ndarray
    num_interior_pts: np.ndarray | None


class _LogBuilder:
    """Reads and validates the tables of one log and builds its :class:`Sequence` (one use)."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.name = log.name

    def build(self) -> Sequence:
        poses = self._poses()
        extrinsics = _read_extrinsics(self.log / _EXTRINSICS_FILE)
        intrinsics = self._intrinsics()
        annotations = self._annotations()

        lidar_files = (
            sorted((self.log / _LIDAR_DIR).glob("*.feather")) if (self.log / _LIDAR_DIR).is_dir() else []
        )
        lidar_times_ns = np.array([_timestamp_of(p) for p in lidar_files], dtype=np.int64)
        if annotations is not None:
            key_times_ns = np.unique(annotations.timestamps_ns)
        else:
            key_times_ns = np.unique(lidar_times_ns)
        if key_times_ns.size == 0:
            raise InputError("log has neither annotations nor LiDAR sweeps", path=self.log)
        key_times_us = _ns_to_us(key_times_ns)
        if np.any(np.diff(key_times_us) <= 0):
            raise InputError(
                "two annotated sweeps fall in the same microsecond", path=self.log / _ANNOTATIONS_FILE
            )
        key_tokens = [f"{self.name}:{t}" for t in key_times_ns]

        sensors: dict[str, Sensor] = {}
        samples: dict[str, tuple[SensorSample, ...]] = {}
        key_samples: list[dict[str, SensorSample]] = [{} for _ in key_tokens]
        if lidar_files:
            sensors[LIDAR_CHANNEL] = Sensor(
                LIDAR_CHANNEL, Modality.LIDAR, extrinsics.get(LIDAR_FRAME_SENSOR, SE3.identity()), None,
                LIDAR_FRAME_SENSOR,
            )  # fmt: skip
            samples[LIDAR_CHANNEL] = self._channel_samples(
                LIDAR_CHANNEL, Modality.LIDAR, lidar_files, lidar_times_ns, key_times_us, key_tokens,
                key_samples, poses, exact=True,
            )  # fmt: skip
        camera_root = self.log / _CAMERA_DIR
        for folder in sorted(p for p in camera_root.iterdir() if p.is_dir()) if camera_root.is_dir() else []:
            files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
            if not files:
                continue
            camera = folder.name
            if camera not in intrinsics or camera not in extrinsics:
                raise InputError(
                    f"camera {camera} has images but no calibration in {_INTRINSICS_FILE} and "
                    f"{_EXTRINSICS_FILE}",
                    path=folder,
                )
            sensors[camera] = Sensor(camera, Modality.CAMERA, extrinsics[camera], intrinsics[camera], camera)
            times = np.array([_timestamp_of(p) for p in files], dtype=np.int64)
            samples[camera] = self._channel_samples(
                camera, Modality.CAMERA, files, times, key_times_us, key_tokens, key_samples, poses,
                exact=False, size=(intrinsics[camera].width_px, intrinsics[camera].height_px),
            )  # fmt: skip

        boxes = self._boxes(annotations, poses, key_times_ns, key_tokens) if annotations is not None else {}
        keyframes = tuple(
            Keyframe(token, int(t_us), dict(sorted(key_samples[i].items())), tuple(boxes.get(i, ())))
            for i, (token, t_us) in enumerate(zip(key_tokens, key_times_us, strict=True))
        )
        return Sequence(
            name=self.name,
            token=self.name,
            dataroot=str(self.log),
            sensors=dict(sorted(sensors.items())),
            ego_poses=poses,
            keyframes=keyframes,
            samples=dict(sorted(samples.items())),
            description=f"Argoverse 2 log {self.name}",
        )

    # -------------------------------------------------------------- tables

    def _poses(self) -> PoseTrack:
        path = self.log / _POSE_FILE
        data = read_feather_columns(path, _POSE_COLUMNS)
        _check_finite(path, data, _POSE_COLUMNS[1:])
        quats = np.stack([data[k] for k in ("qw", "qx", "qy", "qz")], axis=1).astype(np.float64)
        _check_unit(path, quats)
        translations = np.stack([data[k] for k in ("tx_m", "ty_m", "tz_m")], axis=1).astype(np.float64)
        if quats.shape[0] == 0:
            raise InputError("no ego poses", path=path)
        t_us = _ns_to_us(data["timestamp_ns"])
        # AV2 logs hold pose pairs a few nanoseconds apart; those that round to one microsecond must agree.
        order, same, conflict = same_time_poses(t_us, translations, quats)
        if conflict is not None:
            raise InputError(
                f"two ego poses in microsecond {conflict.timestamp_us} {conflict.describe()}",
                path=path,
                record=f"rows {conflict.first}, {conflict.second}",
            )
        if same.size:
            keep = np.ones(order.size, dtype=bool)
            keep[same + 1] = False
            order = order[keep]
        return PoseTrack(t_us[order], translations[order], quats[order])

    def _intrinsics(self) -> dict[str, CameraIntrinsics]:
        path = self.log / _INTRINSICS_FILE
        if not path.is_file():
            return {}
        data = read_feather_columns(path, _INTRINSIC_COLUMNS)
        _check_finite(path, data, _INTRINSIC_COLUMNS[1:])
        out: dict[str, CameraIntrinsics] = {}
        for i, name in enumerate(data["sensor_name"]):
            fx, fy, cx, cy = (float(data[k][i]) for k in ("fx_px", "fy_px", "cx_px", "cy_px"))
            k1, k2, k3 = (float(data[k][i]) for k in ("k1", "k2", "k3"))
            try:
                out[str(name)] = CameraIntrinsics(
                    np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]]),
                    np.array([k1, k2, 0.0, 0.0, k3]),
                    int(data["width_px"][i]),
                    int(data["height_px"][i]),
                )
            except ValueError as err:
                raise InputError(f"camera {name}: {err}", path=path, record=f"row {i}") from None
        return out

    def _annotations(self) -> _Annotations | None:
        path = self.log / _ANNOTATIONS_FILE
        if not path.is_file():
            return None
        columns = _ANNOTATION_COLUMNS
        data = read_feather_columns(path, columns, optional=("num_interior_pts",))
        has_counts = "num_interior_pts" in data
        _check_finite(path, data, columns[3:])
        quats = np.stack([data[k] for k in ("qw", "qx", "qy", "qz")], axis=1).astype(np.float64)
        _check_unit(path, quats)
        sizes = np.stack([data[k] for k in ("length_m", "width_m", "height_m")], axis=1).astype(np.float64)
        bad = np.flatnonzero(np.any(sizes <= 0, axis=1))
        if bad.size:
            raise InputError(
                f"size (length_m, width_m, height_m) {sizes[bad[0]].tolist()} has a non-positive value",
                path=path,
                record=f"row {bad[0]}",
            )
        categories = [str(c) for c in data["category"]]
        unknown = sorted(set(categories) - set(AV2_CATEGORIES))
        if unknown:
            row = categories.index(unknown[0])
            raise InputError(
                f"unknown Argoverse 2 category {unknown[0]!r}; known: {', '.join(sorted(AV2_CATEGORIES))}",
                path=path,
                record=f"row {row}",
            )
        counts = None
        if has_counts:
            counts = np.asarray(data["num_interior_pts"], dtype=np.int64)
            bad = np.flatnonzero(counts < 0)
            if bad.size:
                raise InputError(
                    f"num_interior_pts is negative ({counts[bad[0]]})", path=path, record=f"row {bad[0]}"
                )
        return _Annotations(
            timestamps_ns=np.asarray(data["timestamp_ns"], dtype=np.int64),
            tracks=np.asarray(data["track_uuid"], dtype=object),
            categories=categories,
            sizes_m=sizes,
            quats_wxyz=quats,
            centers_m=np.stack([data[k] for k in ("tx_m", "ty_m", "tz_m")], axis=1).astype(np.float64),
            num_interior_pts=counts,
        )

    # -------------------------------------------------------------- samples and boxes

    def _channel_samples(
        self,
        channel: str,
        modality: Modality,
        files: list[Path],
        times_ns: np.ndarray,
        key_times_us: np.ndarray,
        key_tokens: list[str],
        key_samples: list[dict[str, SensorSample]],
        poses: PoseTrack,
        *,
        exact: bool,
        size: tuple[int, int] = (0, 0),
    ) -> tuple[SensorSample, ...]:
        """Build one channel's samples, each attached to its nearest keyframe; keyframe samples marked."""
        order = np.argsort(times_ns, kind="stable")
        times_us = _ns_to_us(times_ns[order])
        dup = np.flatnonzero(np.diff(times_us) == 0)
        if dup.size:
            raise InputError(f"two {channel} files in the same microsecond", path=files[order[dup[0] + 1]])
        nearest = np.clip(np.searchsorted(key_times_us, times_us), 1, max(key_times_us.size - 1, 1))
        left = np.maximum(nearest - 1, 0)
        right = np.minimum(nearest, key_times_us.size - 1)
        closer_left = np.abs(times_us - key_times_us[left]) <= np.abs(key_times_us[right] - times_us)
        pick = np.where(closer_left, left, right)
        dt = np.abs(times_us - key_times_us[pick])
        is_key = dt == 0 if exact else dt <= CAMERA_KEYFRAME_TOLERANCE_US
        if not exact:
            # One image per keyframe and camera: the nearest.
            best: dict[int, int] = {}
            for candidate in np.flatnonzero(is_key).tolist():
                k = int(pick[candidate])
                if k not in best or dt[candidate] < dt[best[k]]:
                    best[k] = candidate
            is_key[:] = False
            is_key[list(best.values())] = True
        out = []
        for j, i in enumerate(order):
            t_us = int(times_us[j])
            if not poses.covers(t_us):
                raise InputError(
                    f"no ego pose covers this {channel} sample ({t_us} us; poses span "
                    f"{poses.start_us}..{poses.end_us} us)",
                    path=files[i],
                )
            k = int(pick[j])
            sample = SensorSample(
                token=f"{channel}:{times_ns[i]}",
                channel=channel,
                modality=modality,
                timestamp_us=t_us,
                path=files[i],
                global_from_ego=poses.at(t_us),
                is_keyframe=bool(is_key[j]),
                keyframe_token=key_tokens[k],
                width_px=size[0],
                height_px=size[1],
            )
            if sample.is_keyframe:
                key_samples[k][channel] = sample
            out.append(sample)
        return tuple(out)

    def _boxes(
        self, ann: _Annotations, poses: PoseTrack, key_times_ns: np.ndarray, key_tokens: list[str]
    ) -> dict[int, list[BoxAnnotation]]:
        """Boxes per keyframe index, in the global frame."""
        path = self.log / _ANNOTATIONS_FILE
        key_index = np.searchsorted(key_times_ns, ann.timestamps_ns)
        key_us = _ns_to_us(key_times_ns)
        outside = np.flatnonzero((key_us < poses.start_us) | (key_us > poses.end_us))
        if outside.size:
            row = int(np.flatnonzero(key_index == outside[0])[0])
            raise InputError(
                f"no ego pose at the box's sweep time {key_us[outside[0]]} us (poses span "
                f"{poses.start_us}..{poses.end_us} us)",
                path=path,
                record=f"row {row}",
            )
        pose_list = [poses.at(int(t)) for t in key_us]
        rotations = np.stack([p.rotation for p in pose_list])[key_index]
        translations = np.stack([p.translation for p in pose_list])[key_index]
        pose_quats = np.stack([p.quat_wxyz for p in pose_list])[key_index]
        centers = np.einsum("nij,nj->ni", rotations, ann.centers_m) + translations
        quats = quaternion.multiply(pose_quats, ann.quats_wxyz)
        quats = quats / np.linalg.norm(quats, axis=1, keepdims=True)
        categories = [AV2_CATEGORIES[c] for c in ann.categories]
        seen: dict[tuple[str, int], int] = {}
        out: dict[int, list[BoxAnnotation]] = {}
        counts = ann.num_interior_pts
        for row in range(ann.timestamps_ns.size):
            track = str(ann.tracks[row])
            k = int(key_index[row])
            t_ns = int(ann.timestamps_ns[row])
            if (track, k) in seen:
                raise InputError(
                    f"track {track} has two boxes at timestamp {t_ns} ns (rows {seen[(track, k)]} and {row})",
                    path=path,
                    record=f"row {row}",
                )
            seen[(track, k)] = row
            out.setdefault(k, []).append(
                BoxAnnotation(
                    token=f"{track}:{t_ns}",
                    instance=track,
                    category=categories[row],
                    keyframe_token=key_tokens[k],
                    timestamp_us=int(key_us[k]),
                    center_m=centers[row],
                    size_m=ann.sizes_m[row],
                    quat_wxyz=quats[row],
                    num_lidar_pts=None if counts is None else int(counts[row]),
                )
            )
        return out

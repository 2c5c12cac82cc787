"""Reader of the KITTI object and tracking layouts (Geiger et al., CVPR 2012), without any devkit.

Layouts (``<root>`` may be the dataset folder holding ``training/`` and/or ``testing/``, or one of them):

- **object**: ``<split>/{calib,velodyne,image_2,label_2[,planes]}/NNNNNN.{txt,bin,png,txt}``. Frames are
  unrelated snapshots (each with its own calibration), so every frame is one sequence named
  ``<split>/NNNNNN`` with one keyframe at time 0 and an identity ego pose.
- **tracking**: ``<split>/{calib/SSSS.txt, velodyne/SSSS/NNNNNN.bin, image_02/SSSS/NNNNNN.png,
  label_02/SSSS.txt[, oxts/SSSS.txt]}``. Each drive ``SSSS`` is one sequence ``<split>/SSSS`` of frames
  at 10 Hz (KITTI's tracking release carries no timestamps: frame ``k`` is stamped ``k * 100 000`` us).
  Ego poses come from ``oxts`` (GPS/IMU, projected with KITTI's Mercator convention as in the raw-data
  devkit) when present; otherwise every frame's ego pose is the identity and "global" means "the ego
  frame of that frame" (tracks are then not in one fixed frame; a note says so).

Frames and conventions converted here:

- The **ego frame is the Velodyne frame** (x forward, y left, z up); ``LIDAR_TOP`` has an identity
  extrinsic. Points are ``(N, 4)`` float32 ``x, y, z, reflectance`` in that frame.
- Camera ``CAM_2`` is KITTI's rectified left colour camera: ``K = P2[:, :3]``, no distortion (images are
  rectified), and ``cam2_from_velo = [I | K^-1 P2[:, 3]] * R0_rect * Tr_velo_to_cam``. KITTI's
  ``Tr_velo_to_cam`` rotation is orthonormal to ~1e-6 only; its nearest rotation (SVD) is used, which
  moves projected pixels by far less than 0.01 px.
- **Boxes** in ``label_2``/``label_02`` are in the rectified camera-0 frame: ``location`` is the *bottom*
  centre (camera y points down), ``dimensions`` are ``height, width, length``, and ``rotation_y`` is the
  rotation about the camera y axis (0 = facing camera x). The centre is lifted by ``height / 2`` (along
  camera ``-y``), mapped into the Velodyne frame, and the heading is the Velodyne-frame azimuth of the
  box's x axis ``(cos ry, 0, -sin ry)`` (about ``-ry - pi/2`` for KITTI's near-identity rotation). Size is
  ``(length, width, height)``; boxes stay upright in the Velodyne frame.
- ``DontCare`` lines have no 3D box; they are kept as 2D regions (:class:`ImageBox` with
  category ``DontCare``) that camera checks ignore. Every other line also yields its human-drawn 2D box,
  linked to its 3D box (token ``<frame>:<line>`` in the object layout, ``<frame>:<track>`` in tracking).
- Classes keep KITTI's names (``Car``, ``Van``, ``Truck``, ``Pedestrian``, ``Person_sitting``,
  ``Cyclist``, ``Tram``, ``Misc``).

Bad input raises :class:`~fusioncheck.errors.InputError` naming the file and the line.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import cv2
import numpy as np

from fusioncheck.errors import InputError
from fusioncheck.geometry import quaternion
from fusioncheck.geometry.se3 import SE3
from fusioncheck.loaders.base import DataSource
from fusioncheck.loaders.pcd import read_lidar_bin
from fusioncheck.scene.boxes import BoxAnnotation
from fusioncheck.scene.boxes_2d import ImageBox
from fusioncheck.scene.poses import PoseTrack
from fusioncheck.scene.samples import CameraImage, LidarSweep, RadarScan, SensorSample
from fusioncheck.scene.sensors import CameraIntrinsics, Modality, Sensor
from fusioncheck.scene.sequence import Keyframe, Sequence
from fusioncheck.typing import FloatArray

LIDAR_CHANNEL = "LIDAR_TOP"
CAMERA_CHANNEL = "CAM_2"
KITTI_LIDAR_COLUMNS: tuple[str, ...] = ("x", "y", "z", "intensity")
#: Tracking frames are 10 Hz; the release has no timestamps.
FRAME_PERIOD_US = 100_000
#: Earth radius of KITTI's raw-data devkit Mercator projection, metres.
EARTH_RADIUS_M = 6378137.0

_SPLITS = ("training", "testing")
_IMREAD_FLAGS: dict[float, tuple[int, int]] = {
    1.0: (cv2.IMREAD_COLOR, cv2.IMREAD_GRAYSCALE),
    0.5: (cv2.IMREAD_REDUCED_COLOR_2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
    0.25: (cv2.IMREAD_REDUCED_COLOR_4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
    0.125: (cv2.IMREAD_REDUCED_COLOR_8, cv2.IMREAD_REDUCED_GRAYSCALE_8),
}


def _split_folders(root: Path) -> list[Path]:
    """Return the split folders under ``root`` (``training``/``testing``), or ``root`` if it is one."""
    if (root / "calib").is_dir() and (root / "velodyne").is_dir():
        return [root]
    return [root / s for s in _SPLITS if (root / s / "calib").is_dir() and (root / s / "velodyne").is_dir()]


def detect_kitti(root: str | Path) -> bool:
    """Tell whether ``root`` holds a KITTI object or tracking layout (``calib/`` and ``velodyne/``)."""
    return bool(_split_folders(Path(root)))


# ----------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class KittiCalibration:
    """One KITTI calibration file.

    Attributes:
        camera_matrix: ``(3, 3)`` ``K`` of the rectified left colour camera (``P2[:, :3]``), pixels.
        cam2_from_velo: Velodyne frame -> rectified camera-2 frame (x right, y down, z forward).
        rect_from_velo: Velodyne frame -> rectified camera-0 frame (the frame of the labels).
        velo_from_imu: IMU (oxts) frame -> Velodyne frame, when the file gives ``Tr_imu_to_velo``.
    """

    camera_matrix: FloatArray
    cam2_from_velo: SE3
    rect_from_velo: SE3
    velo_from_imu: SE3 | None


def _nearest_rotation(m: FloatArray) -> FloatArray:
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] *= -1
        r = u @ vt
    return np.asarray(r)


def read_calibration(path: Path) -> KittiCalibration:
    """Parse a KITTI calibration file.

    Object layout keys: ``P2:``, ``R0_rect:``, ``Tr_velo_to_cam:`` (``Tr_imu_to_velo:``); tracking layout:
    ``P2:``, ``R_rect``, ``Tr_velo_cam`` (``Tr_imu_velo``), without colons.
    """
    values: dict[str, FloatArray] = {}
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"calibration file unreadable: {exc.strerror or exc}", path=path) from None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        key, _, rest = line.partition(":") if ":" in line.split()[0] else line.partition(" ")
        try:
            values[key.strip()] = np.array([float(x) for x in rest.split()], dtype=np.float64)
        except ValueError:
            raise InputError(f"line {number}: non-numeric value in {key.strip()!r}", path=path) from None

    def get(names: tuple[str, ...], size: int) -> FloatArray:
        for name in names:
            if name in values:
                if values[name].size != size or not np.all(np.isfinite(values[name])):
                    raise InputError(
                        f"{name}: expected {size} finite numbers, got {values[name].size}", path=path
                    )
                return values[name]
        raise InputError(f"missing {' or '.join(names)}", path=path)

    p2 = get(("P2",), 12).reshape(3, 4)
    k = p2[:, :3].copy()
    if not (k[0, 0] > 0 and k[1, 1] > 0) or not np.allclose(k[2], [0.0, 0.0, 1.0]) or k[1, 0] != 0.0:
        raise InputError(
            f"P2: not a camera matrix [[fx, 0, cx, tx], [0, fy, cy, ty], [0, 0, 1, tz]]: {p2.tolist()}",
            path=path,
        )
    r0 = _nearest_rotation(get(("R0_rect", "R_rect"), 9).reshape(3, 3))
    tr = get(("Tr_velo_to_cam", "Tr_velo_cam"), 12).reshape(3, 4)
    cam0_from_velo = SE3(_nearest_rotation(tr[:, :3]), tr[:, 3])
    rect_from_velo = SE3(r0, np.zeros(3)) @ cam0_from_velo
    cam2_from_rect = SE3(np.eye(3), np.asarray(np.linalg.solve(k, p2[:, 3]), dtype=np.float64))
    velo_from_imu = None
    if "Tr_imu_to_velo" in values or "Tr_imu_velo" in values:
        ti = get(("Tr_imu_to_velo", "Tr_imu_velo"), 12).reshape(3, 4)
        velo_from_imu = SE3(_nearest_rotation(ti[:, :3]), ti[:, 3])
    return KittiCalibration(k, cam2_from_rect @ rect_from_velo, rect_from_velo, velo_from_imu)


# ----------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class KittiLabel:
    """One parsed label line (object or tracking layout), in KITTI's own conventions."""

    line: int
    frame: int
    track_id: int | None
    category: str
    truncated: float
    occluded: int
    bbox_px: tuple[float, float, float, float]
    dimensions_hwl: tuple[float, float, float]
    location_rect: tuple[float, float, float]
    rotation_y: float


def _parse_label_fields(fields: list[str], path: Path, number: int, tracking: bool) -> KittiLabel:
    offset = 2 if tracking else 0
    need = 15 + offset
    if len(fields) not in (need, need + 1):
        raise InputError(
            f"line {number}: expected {need} fields (or {need + 1} with score), got {len(fields)}", path=path
        )
    try:
        nums = [float(x) for x in fields[offset + 1 :]]
        frame = int(fields[0]) if tracking else 0
        track = int(fields[1]) if tracking else None
    except ValueError:
        raise InputError(f"line {number}: non-numeric field", path=path) from None
    if not all(math.isfinite(x) for x in nums):
        raise InputError(f"line {number}: non-finite number", path=path)
    category = fields[offset]
    bbox = (nums[3], nums[4], nums[5], nums[6])
    if category != "DontCare":
        h, w, length = nums[7], nums[8], nums[9]
        if not (h > 0 and w > 0 and length > 0):
            raise InputError(
                f"line {number}: {category} box dimensions must be positive, got h w l = {h} {w} {length}",
                path=path,
            )
    if bbox[2] < bbox[0] or bbox[3] < bbox[1]:
        raise InputError(f"line {number}: 2D box has right < left or bottom < top: {bbox}", path=path)
    return KittiLabel(
        line=number - 1, frame=frame, track_id=track, category=category, truncated=nums[0],
        occluded=int(nums[1]), bbox_px=bbox, dimensions_hwl=(nums[7], nums[8], nums[9]),
        location_rect=(nums[10], nums[11], nums[12]), rotation_y=nums[13],
    )  # fmt: skip


def read_labels(path: Path, tracking: bool) -> list[KittiLabel]:
    """Parse a ``label_2`` (object) or ``label_02`` (tracking) file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"label file unreadable: {exc.strerror or exc}", path=path) from None
    return [
        _parse_label_fields(line.split(), path, number, tracking)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


def box_in_velodyne(label: KittiLabel, calib: KittiCalibration) -> tuple[FloatArray, FloatArray, float]:
    """Convert a label's box to the Velodyne frame: ``(centre (3,) m, size (l, w, h) m, yaw rad)``."""
    h, w, length = label.dimensions_hwl
    centre_rect = np.array(label.location_rect) - np.array([0.0, h / 2.0, 0.0])
    velo_from_rect = calib.rect_from_velo.inverse()
    centre = velo_from_rect.transform_points(centre_rect[None])[0]
    heading_rect = np.array([[math.cos(label.rotation_y), 0.0, -math.sin(label.rotation_y)]])
    heading = velo_from_rect.rotate_vectors(heading_rect)[0]
    return centre, np.array([length, w, h]), math.atan2(heading[1], heading[0])


# ----------------------------------------------------------------------------- oxts poses


def read_oxts_poses(path: Path) -> list[SE3]:
    """``global_from_imu`` per line of a KITTI oxts file (raw-data devkit's Mercator convention).

    Each line starts ``lat lon alt roll pitch yaw`` (degrees, metres, radians). The Mercator scale is
    taken from the first line's latitude, and the first pose's translation is subtracted so that the
    sequence starts near the origin.
    """
    try:
        lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    except OSError as exc:
        raise InputError(f"oxts file unreadable: {exc.strerror or exc}", path=path) from None
    poses: list[SE3] = []
    scale = 1.0
    origin = np.zeros(3)
    for number, fields in enumerate(lines, start=1):
        try:
            lat, lon, alt, roll, pitch, yaw = (float(x) for x in fields[:6])
        except ValueError:
            raise InputError(
                f"line {number}: expected lat lon alt roll pitch yaw numbers", path=path
            ) from None
        if number == 1:
            scale = math.cos(math.radians(lat))
        t = np.array([
            scale * EARTH_RADIUS_M * math.radians(lon),
            scale * EARTH_RADIUS_M * math.log(math.tan(math.radians(90.0 + lat) / 2.0)),
            alt,
        ])  # fmt: skip
        if number == 1:
            origin = t.copy()
        rx = np.array([[1, 0, 0], [0, math.cos(roll), -math.sin(roll)], [0, math.sin(roll), math.cos(roll)]])
        ry = np.array(
            [[math.cos(pitch), 0, math.sin(pitch)], [0, 1, 0], [-math.sin(pitch), 0, math.cos(pitch)]]
        )
        rz = np.array([[math.cos(yaw), -math.sin(yaw), 0], [math.sin(yaw), math.cos(yaw), 0], [0, 0, 1]])
        poses.append(SE3(rz @ ry @ rx, t - origin))
    return poses


# ----------------------------------------------------------------------------- the source


def _png_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from a PNG header, or ``(0, 0)`` when the file is not a readable PNG."""
    try:
        with path.open("rb") as f:
            head = f.read(24)
    except OSError:
        return 0, 0
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0
    w, h = struct.unpack(">II", head[16:24])
    return int(w), int(h)


class KittiSource(DataSource):
    """A KITTI object or tracking dataset folder (see the module docstring for layouts and conventions)."""

    format_name = "kitti"

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root).resolve()
        splits = _split_folders(self._root)
        if not splits:
            raise InputError(
                "not a KITTI folder: expected calib/ and velodyne/ (object layout) or their tracking "
                "counterparts, in the folder or in training/ or testing/",
                path=self._root,
            )
        self._sequences: dict[str, tuple[Path, str, str]] = {}  # name -> (split folder, layout, id)
        for split in splits:
            tracking = (
                (split / "label_02").is_dir()
                or (split / "image_02").is_dir()
                or any(p.is_dir() for p in (split / "velodyne").iterdir())
            )
            prefix = split.name
            if tracking:
                for calib in sorted((split / "calib").glob("*.txt")):
                    self._sequences[f"{prefix}/{calib.stem}"] = (split, "tracking", calib.stem)
            else:
                for velo in sorted((split / "velodyne").glob("*.bin")):
                    self._sequences[f"{prefix}/{velo.stem}"] = (split, "object", velo.stem)
        if not self._sequences:
            raise InputError(
                "KITTI folder holds no frames (no velodyne/*.bin or calib/*.txt)", path=self._root
            )
        self._image_boxes: dict[str, tuple[ImageBox, ...]] = {}

    @property
    def root(self) -> str:
        """The dataset folder (absolute)."""
        return str(self._root)

    def sequence_names(self) -> list[str]:
        """``<split>/<frame>`` (object layout) or ``<split>/<drive>`` (tracking layout), sorted."""
        return list(self._sequences)

    def load_sequence(self, name: str) -> Sequence:
        """Build one frame (object layout) or one drive (tracking layout) as a sequence."""
        entry = self._sequences.get(name)
        if entry is None:
            shown = ", ".join(list(self._sequences)[:20])
            raise InputError(f"unknown KITTI sequence {name!r}; available: {shown}", path=self._root)
        split, layout, ident = entry
        if layout == "object":
            return self._object_sequence(name, split, ident)
        return self._tracking_sequence(name, split, ident)

    # -------------------------------------------------------------- layouts

    def _sensors(self, calib: KittiCalibration, width: int, height: int, token: str) -> dict[str, Sensor]:
        intrinsics = CameraIntrinsics(matrix=calib.camera_matrix, width_px=width, height_px=height)
        return {
            LIDAR_CHANNEL: Sensor(LIDAR_CHANNEL, Modality.LIDAR, SE3.identity(), None, f"{token}:velodyne"),
            CAMERA_CHANNEL: Sensor(
                CAMERA_CHANNEL, Modality.CAMERA, calib.cam2_from_velo.inverse(), intrinsics, f"{token}:P2"
            ),
        }

    def _object_sequence(self, name: str, split: Path, frame: str) -> Sequence:
        calib = read_calibration(split / "calib" / f"{frame}.txt")
        velo = split / "velodyne" / f"{frame}.bin"
        image = split / "image_2" / f"{frame}.png"
        width, height = _png_size(image)
        pose = SE3.identity()
        lidar = SensorSample(f"{frame}:velodyne", LIDAR_CHANNEL, Modality.LIDAR, 0, velo, pose, True, frame)
        samples: dict[str, SensorSample] = {LIDAR_CHANNEL: lidar}
        if image.is_file():
            samples[CAMERA_CHANNEL] = SensorSample(
                f"{frame}:image_2",
                CAMERA_CHANNEL,
                Modality.CAMERA,
                0,
                image,
                pose,
                True,
                frame,
                width,
                height,
            )
        label_path = split / "label_2" / f"{frame}.txt"
        labels = read_labels(label_path, tracking=False) if label_path.is_file() else []
        boxes, image_boxes = [], []
        for label in labels:
            token = f"{frame}:{label.line}"
            image_boxes.append(self._image_box(label, token, f"{frame}:image_2", None))
            if label.category == "DontCare":
                continue
            boxes.append(self._box(label, calib, pose, token, token, frame, 0))
        self._image_boxes[f"{frame}:image_2"] = tuple(image_boxes)
        return Sequence(
            name=name,
            token=frame,
            dataroot=self.root,
            sensors=self._sensors(calib, width, height, frame),
            ego_poses=PoseTrack(np.array([0]), np.zeros((1, 3)), np.array([[1.0, 0.0, 0.0, 0.0]])),
            keyframes=(Keyframe(frame, 0, samples, tuple(boxes)),),
            samples={ch: (s,) for ch, s in samples.items()},
            description=f"KITTI object frame {frame} ({split.name}); ego = Velodyne frame, identity pose",
        )

    def _tracking_sequence(self, name: str, split: Path, drive: str) -> Sequence:
        calib = read_calibration(split / "calib" / f"{drive}.txt")
        velo_dir = split / "velodyne" / drive
        frames = sorted(int(p.stem) for p in velo_dir.glob("*.bin"))
        if not frames:
            raise InputError("tracking drive has no velodyne/<drive>/*.bin frames", path=velo_dir)
        oxts_path = split / "oxts" / f"{drive}.txt"
        if oxts_path.is_file() and calib.velo_from_imu is not None:
            imu_poses = read_oxts_poses(oxts_path)
            if len(imu_poses) <= frames[-1]:
                raise InputError(
                    f"oxts has {len(imu_poses)} lines, fewer than frame {frames[-1]} needs", path=oxts_path
                )
            imu_from_velo = calib.velo_from_imu.inverse()
            poses = {f: imu_poses[f] @ imu_from_velo for f in frames}
            pose_note = "ego poses from oxts (GPS/IMU)"
        else:
            poses = {f: SE3.identity() for f in frames}
            pose_note = "no oxts poses: identity ego poses, 'global' is each frame's own Velodyne frame"
        image_dir = split / "image_02" / drive
        first_image = image_dir / f"{frames[0]:06d}.png"
        width, height = _png_size(first_image)
        label_path = split / "label_02" / f"{drive}.txt"
        labels = read_labels(label_path, tracking=True) if label_path.is_file() else []
        by_frame: dict[int, list[KittiLabel]] = {}
        for label in labels:
            by_frame.setdefault(label.frame, []).append(label)
        keyframes, lidar_samples, camera_samples = [], [], []
        for f in frames:
            t_us = f * FRAME_PERIOD_US
            token = f"{drive}/{f:06d}"
            samples: dict[str, SensorSample] = {}
            samples[LIDAR_CHANNEL] = SensorSample(
                f"{token}:velodyne",
                LIDAR_CHANNEL,
                Modality.LIDAR,
                t_us,
                velo_dir / f"{f:06d}.bin",
                poses[f],
                True,
                token,
            )
            lidar_samples.append(samples[LIDAR_CHANNEL])
            image = image_dir / f"{f:06d}.png"
            if image.is_file():
                samples[CAMERA_CHANNEL] = SensorSample(
                    f"{token}:image_02",
                    CAMERA_CHANNEL,
                    Modality.CAMERA,
                    t_us,
                    image,
                    poses[f],
                    True,
                    token,
                    width,
                    height,
                )
                camera_samples.append(samples[CAMERA_CHANNEL])
            boxes, image_boxes = [], []
            for label in by_frame.get(f, []):
                box_token = (
                    f"{token}:{label.track_id}"
                    if label.category != "DontCare"
                    else f"{token}:line{label.line}"
                )
                instance = f"{drive}:{label.track_id}"
                image_boxes.append(self._image_box(label, box_token, f"{token}:image_02", instance))
                if label.category == "DontCare":
                    continue
                boxes.append(self._box(label, calib, poses[f], box_token, instance, token, t_us))
            self._image_boxes[f"{token}:image_02"] = tuple(image_boxes)
            keyframes.append(Keyframe(token, t_us, samples, tuple(boxes)))
        t = np.array([f * FRAME_PERIOD_US for f in frames], dtype=np.int64)
        ego = PoseTrack(
            t,
            np.stack([poses[f].translation for f in frames]),
            np.stack([poses[f].quat_wxyz for f in frames]),
        )
        channels: dict[str, tuple[SensorSample, ...]] = {LIDAR_CHANNEL: tuple(lidar_samples)}
        if camera_samples:
            channels[CAMERA_CHANNEL] = tuple(camera_samples)
        return Sequence(
            name=name,
            token=drive,
            dataroot=self.root,
            sensors=self._sensors(calib, width, height, drive),
            ego_poses=ego,
            keyframes=tuple(keyframes),
            samples=channels,
            description=f"KITTI tracking drive {drive} ({split.name}); ego = Velodyne frame; {pose_note}",
        )

    @staticmethod
    def _image_box(label: KittiLabel, token: str, sample_token: str, instance: str | None) -> ImageBox:
        return ImageBox(
            token=token if label.category != "DontCare" else f"{token}:dontcare",
            sample_token=sample_token,
            category=label.category,
            bbox_px=label.bbox_px,
            annotation=None if label.category == "DontCare" else token,
            instance=instance,
            truncated=label.truncated,
            occluded=label.occluded,
        )

    @staticmethod
    def _box(
        label: KittiLabel,
        calib: KittiCalibration,
        pose: SE3,
        token: str,
        instance: str,
        keyframe: str,
        t_us: int,
    ) -> BoxAnnotation:
        centre, size, yaw = box_in_velodyne(label, calib)
        quat = quaternion.from_matrix(
            np.array(
                [[math.cos(yaw), -math.sin(yaw), 0.0], [math.sin(yaw), math.cos(yaw), 0.0], [0.0, 0.0, 1.0]]
            )
        )
        global_quat = quaternion.from_matrix(pose.rotation @ quaternion.to_matrix(quat))
        return BoxAnnotation(
            token=token,
            instance=instance,
            category=label.category,
            keyframe_token=keyframe,
            timestamp_us=t_us,
            center_m=pose.transform_points(centre[None])[0],
            size_m=size,
            quat_wxyz=global_quat,
        )

    # -------------------------------------------------------------- sensor files

    def read_lidar(self, sample: SensorSample) -> LidarSweep:
        """Read a Velodyne ``.bin``: ``(N, 4)`` float32 ``x, y, z`` (metres, Velodyne frame), reflectance."""
        if sample.modality is not Modality.LIDAR:
            self._fail(sample, f"expected a LiDAR sample, got {sample.modality}")
        points = read_lidar_bin(sample.path, columns=4)
        return LidarSweep(sample, points, None, KITTI_LIDAR_COLUMNS)

    def read_radar(self, sample: SensorSample) -> RadarScan:
        """KITTI has no radar."""
        self._fail(sample, "KITTI has no radar")

    def read_image(self, sample: SensorSample, scale: float = 1.0, grey: bool = False) -> CameraImage:
        """Decode a PNG at ``scale`` 1, 0.5, 0.25 or 0.125 (``(H, W, 3)`` uint8 BGR, or grey ``(H, W)``)."""
        if sample.modality is not Modality.CAMERA:
            self._fail(sample, f"expected a camera sample, got {sample.modality}")
        flags = _IMREAD_FLAGS.get(float(scale))
        if flags is None:
            raise ValueError(f"scale must be one of {sorted(_IMREAD_FLAGS)}, got {scale}")
        if not sample.path.is_file():
            self._fail(sample, "image file not found")
        pixels = cv2.imread(str(sample.path), flags[1] if grey else flags[0])
        if pixels is None:
            self._fail(sample, "image could not be decoded")
        return CameraImage(sample, pixels, float(scale))

    def image_boxes(self, sample: SensorSample) -> tuple[ImageBox, ...]:
        """Return the human-drawn 2D boxes (and ``DontCare`` regions) of a camera sample's label lines."""
        return self._image_boxes.get(sample.token, ())

    @staticmethod
    def _fail(sample: SensorSample, message: str) -> NoReturn:
        raise InputError(message, path=sample.path, record=sample.token)

"""What every loader provides: a data source that lists sequences, builds them, and reads sensor files.

A :class:`DataSource` is cheap to construct and to pickle (it holds paths and parsed tables, never open
file handles), so the runner can send it to worker processes or Ray tasks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from fusioncheck.scene.boxes_2d import ImageBox
from fusioncheck.scene.samples import CameraImage, LidarSweep, RadarScan, SensorSample
from fusioncheck.scene.sequence import Sequence


class DataSource(ABC):
    """A dataset on disk in one format.

    Implementations raise :class:`fusioncheck.errors.InputError` naming file, table and record for any
    bad input; they never return partial data silently.
    """

    #: Format name used by ``--format`` (e.g. ``nuscenes``).
    format_name: str = ""

    @property
    @abstractmethod
    def root(self) -> str:
        """The dataroot this source reads."""

    @abstractmethod
    def sequence_names(self) -> list[str]:
        """Names of the sequences (nuScenes scenes) in the source, in the source's order."""

    @abstractmethod
    def load_sequence(self, name: str) -> Sequence:
        """Build the scene model of one sequence (metadata and boxes; sensor files are not read)."""

    @abstractmethod
    def read_lidar(self, sample: SensorSample) -> LidarSweep:
        """Read the points of a LiDAR sample."""

    @abstractmethod
    def read_radar(self, sample: SensorSample) -> RadarScan:
        """Read the returns of a radar sample."""

    @abstractmethod
    def read_image(self, sample: SensorSample, scale: float = 1.0, grey: bool = False) -> CameraImage:
        """Decode a camera image, optionally at reduced resolution (``scale`` 1, 0.5, 0.25 or 0.125)."""

    def image_boxes(self, sample: SensorSample) -> tuple[ImageBox, ...]:
        """Return the human-drawn 2D boxes of a camera sample (KITTI ``label_2``, nuImages ``object_ann``).

        Formats without 2D boxes return none (the default).
        """
        return ()

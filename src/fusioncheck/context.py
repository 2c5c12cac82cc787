"""What a check sees of one sequence: the scene model and cached access to its sensor data."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from fusioncheck.loaders.base import DataSource
from fusioncheck.scene.samples import LidarSweep, SensorSample
from fusioncheck.scene.sensors import Modality
from fusioncheck.scene.sequence import Sequence

#: Sweeps kept in memory per context; checks walk keyframes in order, so a few suffice.
_LIDAR_CACHE_SIZE = 4


@dataclass
class SequenceContext:
    """One sequence and the source it came from, shared by the checks of a run.

    Attributes:
        source: the data source (reads files).
        sequence: the scene model.
    """

    source: DataSource
    sequence: Sequence
    _lidar_cache: OrderedDict[str, LidarSweep] = field(default_factory=OrderedDict, repr=False)

    @property
    def reference_lidar(self) -> str | None:
        """The LiDAR channel checks use as reference: ``LIDAR_TOP`` if present, else the first by name."""
        channels = self.sequence.channels(Modality.LIDAR)
        if not channels:
            return None
        return "LIDAR_TOP" if "LIDAR_TOP" in channels else channels[0]

    def read_lidar(self, sample: SensorSample) -> LidarSweep:
        """Read a LiDAR sample through the source, keeping the last few in memory."""
        cached = self._lidar_cache.get(sample.token)
        if cached is not None:
            self._lidar_cache.move_to_end(sample.token)
            return cached
        sweep = self.source.read_lidar(sample)
        self._lidar_cache[sample.token] = sweep
        if len(self._lidar_cache) > _LIDAR_CACHE_SIZE:
            self._lidar_cache.popitem(last=False)
        return sweep

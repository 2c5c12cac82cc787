"""Per-box point counts on real data against the datasets' own ``num_lidar_pts``."""

import numpy as np
import pytest

from fusioncheck.geometry.boxes import transform_boxes
from fusioncheck.kernels.points_in_boxes import points_in_boxes
from fusioncheck.loaders import open_source
from fusioncheck.scene.boxes import boxes_to_arrays

pytestmark = pytest.mark.realdata


def count_agreement(dataroot) -> tuple[int, int, int]:
    """(boxes compared, boxes equal to num_lidar_pts, boxes within 1 point)."""
    source = open_source(str(dataroot))
    compared = equal = near = 0
    for name in source.sequence_names():
        sequence = source.load_sequence(name)
        sensor = sequence.sensors["LIDAR_TOP"]
        for keyframe in sequence.keyframes:
            boxes = [b for b in keyframe.annotations if b.num_lidar_pts is not None]
            if not boxes:
                continue
            sample = keyframe.samples["LIDAR_TOP"]
            sweep = source.read_lidar(sample)
            sensor_from_global = (sample.global_from_ego @ sensor.ego_from_sensor).inverse()
            result = points_in_boxes(sweep.xyz, transform_boxes(boxes_to_arrays(boxes), sensor_from_global))
            reference = np.array([b.num_lidar_pts for b in boxes])
            compared += len(boxes)
            equal += int(np.sum(result.counts == reference))
            near += int(np.sum(np.abs(result.counts - reference) <= 1))
    return compared, equal, near


def test_counts_match_num_lidar_pts(nuscenes_dataroots):
    for root in nuscenes_dataroots:
        compared, equal, near = count_agreement(root)
        assert compared > 0, root
        # The bar is 95 %; the reference counts were made with the devkit's inclusive rule.
        assert equal / compared >= 0.95, (root.name, compared, equal, near)

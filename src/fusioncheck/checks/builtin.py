"""Imports every built-in check so that it registers itself."""

from fusioncheck.checks import (  # noqa: F401
    box_fit,
    camera_calibration,
    camera_projection,
    missing_boxes,
    radar_agreement,
    size_priors,
    sync,
    track_consistency,
)

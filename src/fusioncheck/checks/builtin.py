"""Imports every built-in check so that it registers itself."""

from fusioncheck.checks import (
    box_fit,  # noqa: F401
    missing_boxes,  # noqa: F401
    radar_agreement,  # noqa: F401
)

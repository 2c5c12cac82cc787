"""Imports every built-in check so that it registers itself."""

from fusioncheck.checks import box_fit  # noqa: F401
from fusioncheck.checks import camera_calibration as _camera_calibration  # noqa: F401
from fusioncheck.checks import camera_projection as _camera_projection  # noqa: F401

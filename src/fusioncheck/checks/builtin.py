"""Imports every built-in check so that it registers itself."""

import fusioncheck.checks.camera_calibration
import fusioncheck.checks.camera_projection
from fusioncheck.checks import box_fit  # noqa: F401

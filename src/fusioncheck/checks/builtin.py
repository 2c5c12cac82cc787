"""Imports every built-in check so that it registers itself."""

from fusioncheck.checks import (
    box_fit,  # noqa: F401
    size_priors,  # noqa: F401
    track_consistency,  # noqa: F401
)

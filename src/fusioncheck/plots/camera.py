"""Camera plots: projected boxes and LiDAR points on an image; the calibration objective."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fusioncheck.checks.calibration_search import SearchResult

#: Box outline colours by finding (matplotlib colour names).
STATUS_COLOURS = {"ok": "lime", "projection_mismatch": "red", "unmatched": "orange", "2d": "cyan"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_calibration_curves(result: SearchResult, row: dict[str, Any], path: Path) -> Path:
    """Plot the edge objective along roll, pitch and yaw around the stated extrinsic (0 = as stated).

    Args:
        result: a search run with ``curves=True``.
        row: the camera's ``calibration`` report row (status, correction).
        path: the PNG to write.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
    correction = (row.get("correction") or {}).get("rotation_deg", [0.0, 0.0, 0.0])
    for ax, (name, (offsets, scores)), best in zip(
        axes, result.objective_curves.items(), correction, strict=False
    ):
        ax.plot(offsets, scores, color="black", lw=1.2)
        ax.axvline(0.0, color="grey", ls="--", lw=0.8, label="stated")
        # The objective is a function of the camera-frame motion C; the reported correction is C^-1.
        ax.axvline(-best, color="red", lw=0.8, label="best")
        ax.set_xlabel(f"{name} offset (deg)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("edge alignment (weighted, local-mean removed)")
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"{row['sensor']}: {row['status']}  correction roll/pitch/yaw {np.round(correction, 2).tolist()} deg"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path

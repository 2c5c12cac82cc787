"""Per-sequence sync plot: the objective curve of every stream against offset, estimate and interval."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fusioncheck.sync.estimate import SyncEstimate


def plot_sync_curves(sequence: str, estimates: Sequence[SyncEstimate], path: Path) -> Path:
    """Draw one panel per stream (normalised objective vs offset in ms) into ``path`` (PNG); return it.

    Streams without a curve (not estimable before any search) get a panel with the reason.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(estimates), 1)
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, e in zip(axes.flat, estimates, strict=False):
        ax.set_title(f"{e.stream} vs {e.reference or 'LiDAR'}", fontsize=9)
        ax.set_xlabel("offset (ms)", fontsize=8)
        ax.tick_params(labelsize=7)
        if e.curve.size:
            ax.plot(e.curve_offsets_ms, e.curve, color="0.3", lw=1.0)
            ax.set_ylabel("objective (normalised)", fontsize=8)
        else:
            ax.set_xlim(-250, 250)
        if e.ci95_ms is not None:
            ax.axvspan(e.ci95_ms[0], e.ci95_ms[1], color="tab:blue", alpha=0.25, label="95 % interval")
        if e.offset_ms is not None:
            ax.axvline(e.offset_ms, color="tab:blue", lw=1.2, label=f"{e.offset_ms:+.1f} ms")
        if e.tolerance_ms > 0:
            for sign in (-1, 1):
                ax.axvline(sign * e.tolerance_ms, color="tab:red", lw=0.8, ls="--")
        if e.reason:
            ax.text(0.02, 0.02, e.reason[:90], transform=ax.transAxes, fontsize=6, color="tab:red", wrap=True)
        if e.offset_ms is not None:
            ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(
        f"{sequence}: time offsets against the reference LiDAR ({len(estimates)} streams)", fontsize=10
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path

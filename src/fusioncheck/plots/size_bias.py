"""Per-class size residuals per axis, with the class bias and its 95 % interval marked.

One row per class, one column per axis (length, width, height). Each panel shows the histogram of the
boxes' relative size residuals ``labelled / evidence − 1`` (negative = boxes too small), a vertical line
at the class bias and a shaded band over its 95 % interval (bootstrap over tracks), zero as a dashed line,
and the support (boxes / tracks). Axes without an estimate say why ("not estimable: ...").

Used per sequence (:meth:`fusioncheck.checks.box_fit.BoxFitCheck.plot`) and per run
(:func:`plot_run_size_bias`, from the merged ``class_samples`` of every sequence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fusioncheck.checks.size_bias import NOTE_SAMPLE_NAME, SAMPLE_NAME, class_size_bias

_AXES = ("length", "width", "height")


def plot_size_residuals(
    class_samples: Mapping[str, Mapping[str, list[Any]]], path: Path, title: str
) -> Path | None:
    """Draw the residual distributions of every class with size evidence into ``path`` (PNG).

    Args:
        class_samples: class -> sample name -> items, as :attr:`CheckOutput.class_samples` (the
            ``size_residuals`` and ``size_not_estimable`` samples are used).
        path: output file.
        title: figure title (sequence or run name).

    Returns:
        ``path``, or None when no class has size evidence (nothing drawn).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = sorted(c for c, s in class_samples.items() if s.get(SAMPLE_NAME))
    if not classes:
        return None
    fig, axes = plt.subplots(len(classes), 3, figsize=(11, 2.4 * len(classes) + 0.6), squeeze=False)
    for row, category in enumerate(classes):
        samples = {k: list(v) for k, v in class_samples[category].items()}
        items = samples.get(SAMPLE_NAME, [])
        residuals = np.array(
            [[np.nan if v is None else float(v) for v in item[1:4]] for item in items], dtype=np.float64
        ).reshape(-1, 3)
        bias = class_size_bias(samples) or {}
        for k, axis in enumerate(_AXES):
            ax = axes[row, k]
            values = residuals[np.isfinite(residuals[:, k]), k]
            estimate = bias.get(axis)
            if values.size:
                lo, hi = np.percentile(values, [1, 99])
                span = max(abs(lo), abs(hi), 0.05)
                ax.hist(np.clip(values, -span, span), bins=30, range=(-span, span), color="0.6")
            ax.axvline(0.0, color="k", linestyle="--", linewidth=0.8)
            if estimate is not None:
                ci = bias["ci95"][axis]
                ax.axvspan(ci[0], ci[1], color="tab:red", alpha=0.25)
                ax.axvline(estimate, color="tab:red", linewidth=1.5)
                label = (
                    f"{100 * estimate:+.1f} % [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]\n"
                    f"{bias['boxes'][axis]} boxes / {bias['tracks'][axis]} tracks"
                )
            else:
                reason = bias.get("not_estimable", {}).get(axis, "no evidence")
                label = "not estimable:\n" + reason
            ax.text(0.02, 0.95, label, transform=ax.transAxes, va="top", fontsize=7)
            ax.set_title(f"{category} — {axis}", fontsize=8)
            ax.tick_params(labelsize=7)
            if row == len(classes) - 1:
                ax.set_xlabel("(labelled − evidence) / evidence", fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_run_size_bias(results: Sequence[Any], out_dir: Path) -> Path | None:
    """Per-run figure: the residuals of every sequence merged per class (``SequenceResult`` list)."""
    merged: dict[str, dict[str, list[Any]]] = {}
    for result in results:
        for category, samples in result.class_samples.items():
            target = merged.setdefault(category, {})
            for name in (SAMPLE_NAME, NOTE_SAMPLE_NAME):
                if name == NOTE_SAMPLE_NAME and target.get(name):
                    continue  # one reason per axis is enough
                target.setdefault(name, []).extend(samples.get(name, []))
    return plot_size_residuals(
        merged, out_dir / "size_bias_run.png", f"size bias per class ({len(results)} sequences)"
    )

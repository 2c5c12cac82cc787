"""Command line: ``fusioncheck run | simulate | bench``.

Exit codes (DESIGN.md): 0 pass or not gated, 1 gate failed, 2 usage or policy error, 3 unreadable input.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from fusioncheck import __version__
from fusioncheck.errors import FusioncheckError, InputError, PolicyError

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREADABLE = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fusioncheck")
def cli() -> None:
    """Check 3D box labels of driving logs against their LiDAR, camera and radar data."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--format", "format_name", default="auto", show_default=True, help="Input format: auto or nuscenes."
)
@click.option(
    "--policy", "policy_path", type=click.Path(path_type=str), help="TOML policy (checks and parameters)."
)
@click.option(
    "--out", "out_dir", default="fusioncheck-out", show_default=True, type=click.Path(path_type=Path)
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1), help="Processes (one per core)."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on when stderr is a terminal)."
)
@click.option("--quiet", is_flag=True, help="Do not print the summary.")
def run(
    paths: tuple[str, ...],
    format_name: str,
    policy_path: str | None,
    out_dir: Path,
    workers: int,
    progress: bool | None,
    quiet: bool,
) -> None:
    """Check every sequence of the dataroots PATHS and write OUT/report.json."""
    from fusioncheck.policy import Policy
    from fusioncheck.report.builder import build_report, write_report
    from fusioncheck.report.summary import format_summary
    from fusioncheck.runner import plan, run_tasks

    start = time.perf_counter()
    policy = Policy.load(policy_path) if policy_path else Policy.default()
    tasks, inputs = plan(list(paths), format_name)
    results = run_tasks(tasks, policy, workers=workers, progress=progress)
    report = build_report(results, inputs, policy)
    path = write_report(report, out_dir)
    if not quiet:
        click.echo(format_summary(report, str(path)))
        click.echo(f"done in {time.perf_counter() - start:.1f} s")
    unreadable = any(i.error for i in inputs) or any(r.error for r in results)
    sys.exit(EXIT_UNREADABLE if unreadable else EXIT_OK)


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--scenes", default=2, show_default=True, type=click.IntRange(1), help="Number of scenes.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed (output is deterministic).")
@click.option(
    "--faults", "faults_path", type=click.Path(exists=True, path_type=Path), help="Fault spec (JSON)."
)
@click.option("--small", is_flag=True, help="Short scenes and small images (tests, the bundled sample).")
def simulate(out_dir: Path, scenes: int, seed: int, faults_path: Path | None, small: bool) -> None:
    """Write a simulated nuScenes-layout log to OUT_DIR, with OUT_DIR/faults.json of injected faults."""
    from fusioncheck.simulate import SimConfig, load_fault_spec
    from fusioncheck.simulate import simulate as run_simulation

    faults = load_fault_spec(faults_path) if faults_path else None
    config = SimConfig.small() if small else SimConfig()
    start = time.perf_counter()
    result = run_simulation(
        out_dir, scenes=scenes, seed=seed, faults=faults, config=config, progress=sys.stderr.isatty()
    )
    click.echo(
        f"wrote {len(result.scenes)} scene(s), {result.keyframes} keyframes, {result.boxes} boxes "
        f"to {out_dir} "
        f"in {time.perf_counter() - start:.1f} s (injected faults: {result.faults_path})"
    )


@cli.command()
@click.argument("what", type=click.Choice(["kernels", "size"]), default="kernels")
@click.option("--repeats", default=20, show_default=True, type=click.IntRange(1))
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path), help="Also write the raw results as JSON."
)
def bench(what: str, repeats: int, json_path: Path | None) -> None:
    """Measure fusioncheck side by side with what users would otherwise run (medians, ratios).

    ``size``: the box-fit check with and without its size statistics, ms per keyframe (issue 3).
    """
    from fusioncheck.bench.points_in_boxes import format_points_in_boxes_bench, run_points_in_boxes_bench

    if what == "size":
        from fusioncheck.bench.size_bias import format_size_bench, run_size_bench

        result = run_size_bench(repeats=repeats)
        click.echo(format_size_bench(result))
    else:
        result = run_points_in_boxes_bench(repeats=repeats)
        click.echo(format_points_in_boxes_bench(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")


def main() -> None:
    """Entry point: turn fusioncheck's own errors into one-line messages and exit codes."""
    try:
        cli.main(standalone_mode=False)
        sys.exit(EXIT_OK)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except PolicyError as exc:
        click.echo(f"fusioncheck: policy error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except InputError as exc:
        click.echo(f"fusioncheck: unreadable input: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    except FusioncheckError as exc:
        click.echo(f"fusioncheck: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()

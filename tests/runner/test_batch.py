"""The batch runner: 20 logs, one corrupt; streaming result files; resume after SIGINT and SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fusioncheck.policy import Policy
from fusioncheck.report.builder import build_report
from fusioncheck.report.result_store import ResultStore
from fusioncheck.runner import plan, run_batch

from .conftest import Delivery

SRC = str(Path(__file__).resolve().parents[2] / "src")


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what differs between two identical runs (creation time, wall times)."""
    report = json.loads(json.dumps(report))
    report.pop("created")
    for s in report["sequences"]:
        s.pop("seconds")
    return report


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "fusioncheck", *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, "NUMBA_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def reference(delivery: Delivery, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An uninterrupted CLI run with 2 workers."""
    out = tmp_path_factory.mktemp("reference")
    proc = subprocess.run(
        cli("run", *map(str, delivery.roots), "--out", str(out), "--workers", "2", "--no-progress"),
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 3, proc.stderr  # one unreadable sequence
    assert "20 sequence(s) checked, 0 resumed" in proc.stdout
    assert len(list((out / "sequences").glob("*.json"))) == 20
    return json.loads((out / "report.json").read_text())


def test_twenty_logs_one_corrupt_give_19_results_and_one_error(reference, delivery):
    sequences = reference["sequences"]
    assert len(sequences) == 20
    errors = [s for s in sequences if s["error"]]
    assert [s["name"] for s in errors] == [delivery.corrupt_sequence]
    assert delivery.corrupt_file.name in errors[0]["error"]
    ok = [s for s in sequences if not s["error"]]
    assert len(ok) == 19 and all(s["frames"] == 2 and s["annotations"] > 0 for s in ok)
    # Inputs in order, sequences in input then scene order.
    assert [s["name"] for s in sequences[:10]] == [f"sim-5-{i:04d}" for i in range(10)]


def _default_sigint() -> None:
    """In the child: SIGINT as on a terminal. A shell that starts a job in the background (``cmd &``, as a
    CI runner may) ignores SIGINT for it, and the ignored disposition would survive into the run."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(("sig", "workers"), [(signal.SIGINT, "2"), (signal.SIGKILL, "1")])
def test_killed_run_resumes_without_loss_or_recomputation(delivery, reference, tmp_path, sig, workers):
    # Interrupt the run once some results are written. On a loaded machine the poll can lag behind the
    # workers so that the run ends before the signal lands; then try again, interrupting earlier.
    for attempt, threshold in enumerate((6, 3, 1)):
        out = tmp_path / f"out{attempt}"
        args = cli("run", *map(str, delivery.roots), "--out", str(out), "--workers", workers, "--no-progress")
        proc = subprocess.Popen(
            args,
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_default_sigint,
        )
        folder = out / "sequences"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if folder.is_dir() and len(list(folder.glob("*.json"))) >= threshold:
                break
            time.sleep(0.005)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.json")}
        if len(kept) < 20:
            break
    assert 1 <= len(kept) < 20, f"the run was not interrupted halfway ({len(kept)} results)"
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert "--resume" in err
    else:
        assert proc.returncode == -signal.SIGKILL

    resumed = subprocess.run([*args, "--resume"], env=env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 3, resumed.stderr
    assert f"{20 - len(kept)} sequence(s) checked, {len(kept)} resumed" in resumed.stdout
    for p in folder.glob("*.json"):  # nothing finished was recomputed (same inode and time)
        if p.name in kept:
            assert (p.stat().st_ino, p.stat().st_mtime_ns) == kept[p.name]
    report = json.loads((out / "report.json").read_text())
    assert comparable(report) == comparable(reference)


def test_resume_recomputes_a_sequence_whose_input_changed(delivery, tmp_path):
    policy = Policy.default()
    roots = [str(delivery.roots[0])]
    store = ResultStore(tmp_path)
    tasks, _ = plan(roots, "auto")
    first = run_batch(tasks[:3], policy, store=store, progress=False)
    assert (first.computed, first.resumed) == (3, 0)
    # Touch one sensor file of the second sequence: only that one is checked again.
    sequence = tasks[1].sequence
    from fusioncheck.loaders import open_source

    path = open_source(roots[0]).load_sequence(sequence).keyframes[0].samples["CAM_FRONT"].path
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    tasks, _ = plan(roots, "auto")
    again = run_batch(tasks[:3], policy, store=store, resume=True, progress=False)
    assert (again.computed, again.resumed) == (1, 2)
    # A changed check parameter changes every fingerprint.
    changed = Policy({**policy.checks, "box_fit": {"noise_m": 0.2}})
    tasks, _ = plan(roots, "auto")
    third = run_batch(tasks[:3], changed, store=store, resume=True, progress=False)
    assert (third.computed, third.resumed) == (3, 0)


def test_ray_engine_gives_the_same_results_as_the_local_engine(delivery, tmp_path):
    pytest.importorskip("ray")
    policy = Policy.default()
    tasks, inputs = plan([str(r) for r in delivery.roots], "auto")
    tasks = tasks[8:14]  # both inputs, and the corrupt sequence
    local = run_batch(tasks, policy, workers=1, progress=False)
    store = ResultStore(tmp_path)
    remote = run_batch(tasks, policy, workers=2, engine="ray", store=store, progress=False)
    assert comparable(build_report(remote.results, inputs, policy)) == comparable(
        build_report(local.results, inputs, policy)
    )
    assert sum(r.error is not None for r in remote.results) == 1
    # Fingerprints taken in the Ray workers make the results resumable.
    again = run_batch(tasks, policy, workers=2, engine="ray", store=store, resume=True, progress=False)
    assert (again.computed, again.resumed) == (0, len(tasks))

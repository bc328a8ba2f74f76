"""Stopping a build while its notebooks run (``kernels``): Ctrl-C at any
moment, or SIGTERM / SIGHUP / SIGINT sent to the build's process alone
(``kill PID``: the workers get no signal of their own), stops the build
within a second, its workers and kernels (and what a kernel started)
included, with the one line ``interrupted: ...`` and no traceback or
leaked-semaphore warning.

Each test builds the tiny project of test_faults from scratch (no stored
runs), 1a sleeping in a cell.
"""

import os
import signal
import statistics
import time

import nbformat
import pytest
from test_faults import (
    edit,
    kernels_in,
    leftovers,
    read_until,
    start,
    wait_for,
    write_project,
)

from reportbuild.exit_status import INTERRUPTED

NOTHING = "interrupted: No report was written to build/."
STOPPED_WITHIN = 1.0            # seconds, the target; the assertions allow for a loaded machine
NOISE = ("Traceback", "leaked semaphore", "resource_tracker")


def alive(pid):
    """True while ``pid`` runs (a zombie has stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone_within(pids, seconds):
    deadline = time.monotonic() + seconds
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(map(alive, pids))


@pytest.fixture
def project(tmp_path):
    """The tiny project; 1a's kernel first starts a child process (``sleep``),
    whose id it leaves in child.pid, then sleeps in a cell."""
    nbs = write_project(tmp_path / "project")
    spawn = ("import subprocess, pathlib\nchild = subprocess.Popen(['sleep', '300'])\n"
             "pathlib.Path('child.pid').write_text(str(child.pid))")
    edit(nbs / "1a_first.ipynb", lambda nb: nb.cells.insert(2, nbformat.v4.new_code_cell(spawn)))
    return tmp_path / "project"


def stop(proc, send):
    """``send()`` a signal to the running build; (seconds until it ended,
    stdout, stderr)."""
    t0 = time.monotonic()
    send()
    out, err = proc.communicate(timeout=30)
    return time.monotonic() - t0, out, err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_to_the_build_alone_stops_its_workers_and_kernels(project, signum):
    """``kill -TERM PID`` (or HUP, or INT) of the build alone, while 1a sleeps in
    a cell: its worker and kernel, and the kernel's child, stop too."""
    proc = start(project, "--no-pdf", "-p", "wait", "60")
    wait_for(project / "notebooks" / "started-1a.txt")
    child = int((project / "notebooks" / "child.pid").read_text())
    kernels = kernels_in(project)
    assert kernels and alive(child)
    took, out, err = stop(proc, lambda: os.kill(proc.pid, signum))
    assert proc.returncode == INTERRUPTED, err
    assert err.strip().endswith(NOTHING) and not any(n in err for n in NOISE), err
    assert took < 2 * STOPPED_WITHIN, f"stopped after {took:.2f} s"
    assert gone_within([*kernels, child], 2), "a kernel (or its child) still runs 2 s later"
    assert not kernels_in(project) and not leftovers(project)


def test_ctrl_c_during_kernel_start_up_stops_the_build_within_a_second(project):
    """Ctrl-C (SIGINT to the build's process group, as a terminal sends it)
    at moments spread over the first 3 s of the notebooks' run: the workers
    start, import papermill, start their kernels, run the first cells."""
    times = []
    for delay in (0.1, 0.5, 0.9, 1.3, 1.7, 2.1, 2.5, 2.9):
        proc = start(project, "--no-pdf", "--rerun", "-p", "wait", "60")
        read_until(proc, "==> Running")
        time.sleep(delay)
        took, out, err = stop(proc, lambda: os.killpg(proc.pid, signal.SIGINT))
        times.append(took)
        assert proc.returncode == INTERRUPTED, err
        assert err.strip().endswith(NOTHING) and not any(n in err for n in NOISE), f"at {delay} s: {err}"
        started = [*kernels_in(project)]
        if (project / "notebooks" / "child.pid").exists():      # the kernel got that far
            started.append(int((project / "notebooks" / "child.pid").read_text()))
            (project / "notebooks" / "child.pid").unlink()
        assert gone_within(started, 2), f"at {delay} s: a kernel (or its child) still runs 2 s later"
        assert not leftovers(project)
    assert statistics.median(times) < STOPPED_WITHIN and max(times) < 2 * STOPPED_WITHIN, \
        f"stopped after {', '.join(f'{t:.2f}' for t in times)} s"

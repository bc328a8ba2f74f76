"""The progress of running notebooks (reportbuild.run.progress), on a fake
clock and stream; the cell events the workers send (kernels, one real
kernel); and a build killed with SIGKILL leaves no worker or kernel."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from reportbuild.run import worker
from reportbuild.run.progress import Progress, every_from_environment, status_line

ROOT = Path(__file__).resolve().parents[1]


def screen(text):
    """The lines a terminal shows after ``text`` is written to it (trailing
    blanks dropped): a carriage return goes back to the line's start,
    ESC [ K erases to its end; lines are taken as wide enough not to wrap."""
    lines, col, i = [""], 0, 0
    while i < len(text):
        if text.startswith("\x1b[K", i):
            lines[-1], i = lines[-1][:col], i + 3
            continue
        char = text[i]
        if char == "\r":
            col = 0
        elif char == "\n":
            lines.append("")
            col = 0
        else:
            line = lines[-1].ljust(col)
            lines[-1] = line[:col] + char + line[col + 1:]
            col += 1
        i += 1
    lines = [line.rstrip() for line in lines]
    return lines[:-1] if lines[-1] == "" else lines


class Clock:
    """A clock that stands still until the test moves it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def progress(tty, columns=200):
    clock, stream = Clock(), io.StringIO()
    return Progress(stream, clock=clock, tty=tty, columns=lambda: columns, every=15), clock, stream


def run_until(shown, clock, until, step=0.25):
    """Call ``show`` every ``step`` seconds, as the runner does, up to ``until``."""
    while clock.now < until:
        clock.now = min(clock.now + step, until)
        shown.show()


def test_screen_reads_like_a_terminal():
    assert screen("abc\rX\x1b[K\ndef  \rd\n") == ["X", "def"]
    assert screen("long line\r         \rok") == ["ok"]
    assert screen("long line\r    \rok") == ["ok   line"]


@pytest.mark.parametrize("tty", [True, False])
def test_a_notebook_that_finishes_within_five_seconds_shows_nothing_extra(tty):
    shown, clock, stream = progress(tty)
    shown.start("1a_quick")
    shown.cell("1a_quick", 1, 3)
    run_until(shown, clock, 4.9)
    shown.finish("1a_quick")
    shown.clear()
    assert stream.getvalue() == ""


def test_on_a_terminal_one_line_names_every_long_notebook_and_leaves_no_trace():
    shown, clock, stream = progress(tty=True)
    shown.start("1f_timing")
    run_until(shown, clock, 6)
    assert stream.getvalue().endswith("\r" + status_line("1f_timing", "starting its kernel, 6 s") + "\x1b[K")
    shown.cell("1f_timing", 7, 12)
    shown.start("1e_alone")
    run_until(shown, clock, 10)                         # 1e: 4 s, not shown yet
    assert screen(stream.getvalue()) == ["  1f_timing              cell 7 of 12, 10 s"]
    shown.cell("1e_alone", 2, 5)
    run_until(shown, clock, 48)
    assert screen(stream.getvalue()) == ["  1f_timing              cell 7 of 12, 48 s  |  1e_alone: cell 2 of 5, 42 s"]
    shown.finish("1e_alone")                            # its status line, then the progress again
    stream.write(status_line("1e_alone", "42.1 s") + "\n")
    run_until(shown, clock, 50)
    shown.finish("1f_timing")
    stream.write(status_line("1f_timing", "50.2 s") + "\n")
    shown.clear()
    assert screen(stream.getvalue()) == [status_line("1e_alone", "42.1 s"), status_line("1f_timing", "50.2 s")]
    assert stream.getvalue().count("\n") == 2           # the progress never took a line of its own


def test_on_ctrl_c_the_line_goes_and_so_does_the_terminals_echo():
    with progress(tty=True)[0] as shown:
        shown.start("1f_timing")
        run_until(shown, shown.clock, 8)
        shown.stream.write("^C")                        # what the terminal echoes
    assert screen(shown.stream.getvalue()) == []


def test_the_terminal_line_fits_the_terminal_and_is_written_only_when_it_changes():
    shown, clock, stream = progress(tty=True, columns=41)
    shown.start("1f_timing")
    shown.cell("1f_timing", 7, 12)
    run_until(shown, clock, 9, step=0.1)
    drawn = [part.removesuffix("\x1b[K") for part in stream.getvalue().split("\r") if part]
    assert drawn == [f"  1f_timing              cell 7 of 12, {s}" for s in range(5, 10)]    # 40 columns


def test_in_a_log_each_running_notebook_gets_a_line_every_fifteen_seconds():
    shown, clock, stream = progress(tty=False)
    shown.start("1f_timing")
    shown.cell("1f_timing", 3, 12)
    run_until(shown, clock, 10)
    shown.start("1e_alone")
    shown.cell("1e_alone", 1, 5)
    run_until(shown, clock, 24)
    shown.finish("1e_alone")                            # ran 14 s: no line of its own
    run_until(shown, clock, 46)
    clock.now = 100                                     # a long wait: one line, not four
    shown.show()
    run_until(shown, clock, 104)
    assert stream.getvalue().splitlines() == [
        status_line("1f_timing", f"still running: cell 3 of 12, {s} s") for s in (15, 30, 45, 100)]


def test_the_interval_can_be_set_in_the_environment():
    assert every_from_environment({}) == 15
    assert every_from_environment({"REPORT_PROGRESS_EVERY": "2.5"}) == 2.5
    assert every_from_environment({"REPORT_PROGRESS_EVERY": "soon"}) == 15


def test_late_news_of_a_finished_notebook_is_ignored():
    shown, clock, stream = progress(tty=True)
    shown.cell("1a_gone", 2, 3)
    run_until(shown, clock, 10)
    assert stream.getvalue() == ""


class Events(list):
    put = list.append


def test_the_kernel_reports_each_code_cell_as_it_starts_numbered_as_in_the_copy(tmp_path, monkeypatch):
    """Through papermill to nbclient's hooks: cell k of n is In [k] of the
    executed copy, the injected parameters counted, empty cells not."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Part 1a: X"),
                nbformat.v4.new_code_cell("k: int = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("y = k"), nbformat.v4.new_code_cell(""), nbformat.v4.new_code_cell("z = y")]
    src = tmp_path / "1a_x.ipynb"
    nbformat.write(nb, str(src))
    events = Events()
    monkeypatch.setattr(worker, "_events", events)
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")      # as in a worker (_papermill sets it)
    assert worker._papermill(src, tmp_path / "out.ipynb", {"k": 2}, tmp_path / "failed.ipynb") is None
    assert events == [("1a_x", k, 4) for k in (1, 2, 3, 4)]
    done = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert [c.execution_count for c in done.cells if c.cell_type == "code" and c.source] == [1, 2, 3, 4]


def _alive(pid):
    """True while ``pid`` runs (a zombie has stopped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid):
    """The processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):     # gone meanwhile
            pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
def test_a_build_killed_with_sigkill_leaves_no_worker_or_kernel_running(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import time\nopen('started', 'w').close()\ntime.sleep(60)")]
    nbformat.write(nb, str(tmp_path / "1a_sleeps.ipynb"))
    (tmp_path / "out").mkdir()
    driver = ("import sys\nfrom pathlib import Path\nfrom reportbuild.run.kernels import execute\n"
              "execute([(Path(sys.argv[1]), {})], Path(sys.argv[2]))\n")
    started = []
    build = subprocess.Popen([sys.executable, "-c", driver, tmp_path / "1a_sleeps.ipynb", tmp_path / "out"],
                             cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "started").exists():
            assert time.monotonic() < deadline and build.poll() is None, "the notebook never started"
            time.sleep(0.05)
        started = [pid for child in _children(build.pid) for pid in [child, *_children(child)]]
        assert len(started) >= 3                        # the resource tracker, the worker, its kernel
        os.kill(build.pid, signal.SIGKILL)
        build.wait()
        deadline = time.monotonic() + 10
        while any(map(_alive, started)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in started if _alive(pid)], "still running 10 s after kill -9"
    finally:
        for pid in [build.pid, *started]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)

"""build_report.sh's setup steps, on a copy of the script in a temporary
folder with stand-ins for python3 and pip: one line per step, the log
only on failure, a sign of life while a slow step runs (in a log, and on
a terminal), and Ctrl-C during a step."""

import fcntl
import os
import pty
import re
import shutil
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

from test_progress import screen

ROOT = Path(__file__).resolve().parents[1]
INSTALLING = "Installing requirements.txt, helpers and reportbuild into .venv"
STEP = f"==> {INSTALLING} (a minute or two) ... "


def copy_with_fake_pip(tmp_path, pip):
    """A copy of the build script whose .venv/bin/python is a shell script:
    ``-m pip install ...`` runs the shell code ``pip``; anything else
    (``-c 'import pip'``, so no virtual environment is made; ``-m
    reportbuild``) succeeds at once."""
    for name in ("build_report.sh", "pyproject.toml", "requirements.txt", "reportbuild/system-packages.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nif [ "$1 $2 $3" = "-m pip install" ]; then\n{pip}\nfi\nexit 0\n')
    python.chmod(0o755)
    return tmp_path


def with_ctrl_c():
    """For Popen's preexec_fn: Ctrl-C (SIGINT) as a terminal delivers it, even
    when these tests run in the background, where it is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_setup_prints_one_line_per_step_and_its_log_only_on_failure(tmp_path):
    """A fresh copy whose virtual environment gets no pip (a python3 on PATH
    that makes it --without-pip, which also takes a second instead of five):
    the venv step prints one line; the failing pip step prints its line, then
    its output from build/setup.log; nothing of that output comes before."""
    for name in ("build_report.sh", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "requirements.txt").write_text("no-such-package-for-this-report==1.0\n")
    shim = tmp_path / "bin" / "python3"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nif [ "$1 $2" = "-m venv" ]; then shift 2; exec {shutil.which("python3")} -m venv '
                    f'--without-pip "$@"; fi\nexec {shutil.which("python3")} "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}", "PIP_NO_INDEX": "1"}
    r = subprocess.run(["bash", str(tmp_path / "build_report.sh"), "--check"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    steps = r.stdout.splitlines()
    assert re.fullmatch(r"==> Creating the virtual environment \.venv \.\.\. done \(\d+ s\)", steps[0]), r.stdout
    assert re.fullmatch(r"==> Installing requirements\.txt.* \.\.\. failed \(\d+ s\)", steps[1]), r.stdout
    assert len(steps) == 2
    log = (tmp_path / "build" / "setup.log").read_text()
    assert "No module named pip" in log and "No module named pip" in r.stderr
    assert "build/setup.log" in r.stderr


def test_ctrl_c_during_a_setup_step_prints_one_line_and_exits_130(tmp_path):
    """Ctrl-C while pip runs: pip stops, and the build says so in one line
    (not the step's log) and exits 130, as the README promises."""
    copy = copy_with_fake_pip(tmp_path, "echo 'Collecting numpy==2.1.0'\nsleep 30")
    build = subprocess.Popen(["bash", "build_report.sh", "--check"], cwd=copy, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=with_ctrl_c)
    log = copy / "build" / "setup.log"
    deadline = time.monotonic() + 10
    while not (log.exists() and "Collecting numpy" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(build.pid, signal.SIGINT)                 # what a terminal's Ctrl-C does
    out, err = build.communicate(timeout=5)             # also: nothing it started holds the pipes
    assert build.returncode == 130, (out, err)
    assert err == (f"interrupted during setup ({INSTALLING}); nothing was built; "
                   "run ./build_report.sh again\n")
    assert out == STEP + "\n"
    assert not (copy / ".venv" / ".installed-hash").exists()   # so the next build installs again


def test_a_slow_step_in_a_log_says_now_and_then_that_it_is_still_running(tmp_path):
    """In a pipe the step's line is ended by lines naming the seconds and
    the step's latest output, every REPORT_PROGRESS_EVERY seconds (here 1),
    and the step's line follows, whole, with its time."""
    copy = copy_with_fake_pip(tmp_path, "echo 'Collecting numpy==2.1.0'\nsleep 2.2\n"
                                        "echo 'Installing collected packages: numpy'\nsleep 1.5")
    r = subprocess.run(["bash", "build_report.sh", "--check"], cwd=copy, capture_output=True, text=True,
                       timeout=30, env={**os.environ, "REPORT_PROGRESS_EVERY": "1"})
    assert r.returncode == 0 and r.stderr == "", r.stderr
    first, *progress, last = r.stdout.splitlines()
    assert first == STEP
    assert re.fullmatch(re.escape(STEP) + r"done \(\d s\)", last)
    assert len(progress) >= 2, r.stdout
    for line in progress:
        assert re.fullmatch(r"    still running after \d s: (Collecting numpy==2\.1\.0|"
                            r"Installing collected packages: numpy)", line), r.stdout
    assert progress[0].endswith("Collecting numpy==2.1.0") and progress[-1].endswith("numpy")


def test_on_a_terminal_the_step_line_shows_its_seconds_rewritten_in_place(tmp_path):
    """On an 80-column terminal: the step's line, cut to fit, is rewritten
    with the seconds and the latest output, then replaced by the whole line
    with the step's time; nothing else stays on the screen."""
    copy = copy_with_fake_pip(tmp_path, "echo 'Collecting numpy==2.1.0 (from -r requirements.txt (line 1))'\n"
                                        "sleep 3.6")
    terminal, tty = pty.openpty()
    fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    build = subprocess.Popen(["bash", "build_report.sh", "--check"], cwd=copy, stdin=subprocess.DEVNULL,
                             stdout=tty, stderr=tty, start_new_session=True)
    os.close(tty)
    shown = b""
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:                                 # Linux: the other end is closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(terminal)
    assert build.wait(timeout=10) == 0
    text = shown.decode()
    assert screen(text) == [re.search(re.escape(STEP) + r"done \(\d s\)", text).group()]
    rewrites = re.findall(r"\r([^\r\n\x1b]*)\x1b\[K", text)
    assert any(re.fullmatch(r"==> Installing requirements\.txt, helpers and reportbuild \.\.\. \d s: "
                            r"Collecting nu", line) for line in rewrites), rewrites   # cut at 79
    assert all(len(line) < 80 for line in rewrites)     # a wrapped line could not be rewritten

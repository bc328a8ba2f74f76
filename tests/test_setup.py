"""build_report.sh's setup steps, on a copy of the script in a temporary
folder with stand-ins for python3, pip and apt-get: one line per step, the
log only on failure, a sign of life while a slow step runs (in a log, and
on a terminal), pip and apt-get at the same time, Ctrl-C during a step;
then what setup leaves behind: nbstripout as the clone's git filter, and
Jupyter's settings."""

import fcntl
import json
import os
import pty
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import nbformat
import pytest
from test_progress import screen

ROOT = Path(__file__).resolve().parents[1]
INSTALLING = "Installing requirements.txt, helpers and reportbuild into .venv"
PIP_STEP = f"{INSTALLING} (a minute or two)"
STEP = f"==> {PIP_STEP} ... "


def copy_with_fake_pip(tmp_path, pip):
    """A copy of the build script whose .venv/bin/python is a shell script:
    ``-m pip install ...`` runs the shell code ``pip``; ``-m
    reportbuild.git_filter`` runs the real one (nbstripout); anything else
    (``-c 'import pip'``, so no virtual environment is made; ``-m
    reportbuild``) succeeds at once."""
    for name in ("build_report.sh", "pyproject.toml", "requirements.txt", "reportbuild/system-packages.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nif [ "$1 $2 $3" = "-m pip install" ]; then\n{pip}\nfi\n'
                      f'if [ "$1 $2" = "-m reportbuild.git_filter" ]; then exec {sys.executable} "$@"; fi\nexit 0\n')
    python.chmod(0o755)
    return tmp_path


MISSING = "no-such-command-for-this-report"
APT_STEP = f"Installing the system packages with apt-get ({MISSING} not found; a minute or two)"


def copy_with_fake_pip_and_apt(tmp_path, pip, apt):
    """copy_with_fake_pip, run as if by root with apt-get (stand-ins for
    ``id`` and ``apt-get``: ``apt-get install ...`` runs the shell code
    ``apt``) and a system package whose command is missing, so that setup
    installs the system packages.  Returns the copy and its environment."""
    copy = copy_with_fake_pip(tmp_path, pip)
    (copy / "reportbuild" / "system-packages.txt").write_text(f"# package command needed-for\ntexlive-xetex {MISSING} pdf\n")
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    for name, text in (("id", "echo 0"), ("apt-get", ('if [ "$1" = update ]; then echo "Hit:1 http://deb.debian.org '
                                                      f'bookworm InRelease"; exit 0; fi\n{apt}'))):
        (bin_dir / name).write_text(f"#!/bin/sh\n{text}\n")
        (bin_dir / name).chmod(0o755)
    return copy, {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def after_the_other(me, other, then):
    """Shell code for a stand-in step: mark that ``me`` started, wait (up to
    5 s) until ``other`` has started, then run ``then``; if ``other`` never
    started, fail, saying so: the steps did not run at the same time."""
    return (f"echo '{me}: started'; touch {me}.started; i=0\n"
            f"while [ ! -e {other}.started ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done\n"
            f"[ -e {other}.started ] || {{ echo '{me}: {other} did not run at the same time'; exit 1; }}\n{then}")


def sections(log):
    """{step: its lines} of build/setup.log, whose sections start '### step'."""
    found, lines = {}, None
    for line in log.splitlines():
        if line.startswith("### "):
            lines = found.setdefault(line[4:], [])
        else:
            lines.append(line)
    return found


def on_a_terminal(args, cwd, env=None):
    """Run ``args`` on an 80-column pseudo-terminal; its exit status and
    all it wrote there."""
    terminal, tty = pty.openpty()
    fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    build = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=tty, stderr=tty,
                             start_new_session=True)
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
    return build.wait(timeout=10), shown.decode()


def with_ctrl_c():
    """For Popen's preexec_fn: Ctrl-C (SIGINT) as a terminal delivers it, even
    when these tests run in the background, where it is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_setup_prints_one_line_per_step_and_its_log_only_on_failure(tmp_path):
    """A fresh copy whose virtual environment gets no pip (a python3 on PATH
    that makes it --without-pip, which also takes a second instead of five):
    the venv step prints one line; the failing pip step prints its line, then
    its output from build/setup.log; nothing of that output comes before."""
    for name in ("build_report.sh", "pyproject.toml", "reportbuild/system-packages.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "requirements.txt").write_text("no-such-package-for-this-report==1.0\n")
    shim = tmp_path / "bin" / "python3"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nif [ "$1 $2" = "-m venv" ]; then shift 2; exec {shutil.which("python3")} -m venv '
                    f'--without-pip "$@"; fi\nexec {shutil.which("python3")} "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}", "PIP_NO_INDEX": "1"}
    r = subprocess.run(["bash", str(tmp_path / "build_report.sh"), "--check"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300, check=False)
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
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=with_ctrl_c)  # noqa: PLW1509  (the tests start no threads)
    logs = copy / "build"           # the step's output: build/.setup.log.pip while it runs
    deadline = time.monotonic() + 10
    while not any("Collecting numpy" in log.read_text() for log in logs.glob("*setup.log*")) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(build.pid, signal.SIGINT)                 # what a terminal's Ctrl-C does
    out, err = build.communicate(timeout=5)             # also: nothing it started holds the pipes
    assert build.returncode == 130, (out, err)
    assert err == (f"interrupted during setup ({INSTALLING}); nothing was built; "
                   "run ./build_report.sh again\n")
    assert out == STEP + "\n"
    assert not (copy / ".venv" / ".installed-hash").exists()   # so the next build installs again
    assert "Collecting numpy==2.1.0" in sections((logs / "setup.log").read_text())[f"{PIP_STEP} (stopped)"]


def test_a_slow_step_in_a_log_says_now_and_then_that_it_is_still_running(tmp_path):
    """In a pipe the step's line is ended by lines naming the seconds and
    the step's latest output, every REPORT_PROGRESS_EVERY seconds (here 1),
    and the step's line follows, whole, with its time."""
    copy = copy_with_fake_pip(tmp_path, "echo 'Collecting numpy==2.1.0'\nsleep 2.2\n"
                                        "echo 'Installing collected packages: numpy'\nsleep 1.5")
    r = subprocess.run(["bash", "build_report.sh", "--check"], cwd=copy, capture_output=True, text=True,
                       timeout=30, env={**os.environ, "REPORT_PROGRESS_EVERY": "1"}, check=False)
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
    with the seconds so far (not the step's latest output, which can stand
    still for a minute while pip works on), then replaced by the whole line
    with the step's time; nothing else stays on the screen."""
    copy = copy_with_fake_pip(tmp_path, "echo 'Collecting numpy==2.1.0 (from -r requirements.txt (line 1))'\n"
                                        "sleep 3.6")
    status, text = on_a_terminal(["bash", "build_report.sh", "--check"], copy)
    assert status == 0
    assert screen(text) == [re.search(re.escape(STEP) + r"done \(\d s\)", text).group()]
    rewrites = re.findall(r"\r([^\r\n\x1b]*)\x1b\[K", text)
    assert any(re.fullmatch(r"==> Installing requirements\.txt, helpers and reportbuild \.\.\. \d s", line)
               for line in rewrites), rewrites
    assert "Collecting" not in text
    assert all(len(line) < 80 for line in rewrites)     # a wrapped line could not be rewritten



def test_pip_and_apt_get_run_at_the_same_time_each_with_a_log_section_of_its_own(tmp_path):
    """As root with a system command missing: pip and apt-get run at the
    same time (each stand-in waits until the other has started, and fails
    if it never does); in a pipe, a line says so, lines every second name
    each step still running, and each step's line follows as it ends, with
    its time; build/setup.log holds each step's output in a section of its
    own; the requirements are stamped as installed."""
    copy, env = copy_with_fake_pip_and_apt(
        tmp_path, after_the_other("pip", "apt", "sleep 2.6; echo 'Successfully installed numpy-2.1.0'"),
        after_the_other("apt", "pip", "echo 'Unpacking texlive-xetex'; sleep 1.3"))
    r = subprocess.run(["bash", "build_report.sh"], cwd=copy, capture_output=True, text=True, timeout=30,
                       env={**env, "REPORT_PROGRESS_EVERY": "1"}, check=False)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "==> Setting up at the same time: pip, apt-get"
    ends = [i for i, line in enumerate(lines) if line.startswith("==> Installing")]
    assert len(ends) == 2 and ends[1] == len(lines) - 1, r.stdout
    assert re.fullmatch(re.escape(f"==> {APT_STEP} ... done (") + r"\d s\)", lines[ends[0]]), r.stdout
    assert re.fullmatch(re.escape(f"==> {PIP_STEP} ... done (") + r"\d s\)", lines[ends[1]]), r.stdout
    progress = [line for i, line in enumerate(lines[1:], start=1) if i not in ends]
    for line in progress:
        assert re.fullmatch(r"    still running after \d s \((pip|apt-get)\)(: .+)?", line), r.stdout
    before_apt_ended = lines[1:ends[0]]
    assert any("(pip): pip: started" in line for line in before_apt_ended), r.stdout
    assert any("(apt-get): " in line for line in before_apt_ended), r.stdout
    assert "(apt-get)" not in "".join(lines[ends[0]:]), r.stdout
    log = sections((copy / "build" / "setup.log").read_text())
    assert list(log) == [APT_STEP, PIP_STEP]
    assert [line for line in log[APT_STEP] if not line.startswith("$ ")] == [
        "Hit:1 http://deb.debian.org bookworm InRelease", "apt: started", "Unpacking texlive-xetex"]
    assert [line for line in log[PIP_STEP] if not line.startswith("$ ")] == [
        "pip: started", "Successfully installed numpy-2.1.0"]
    assert log[PIP_STEP][0].endswith("-m pip install --disable-pip-version-check -r requirements.txt -e .")
    assert log[APT_STEP][2] == "$ apt-get install -y texlive-xetex"
    assert (copy / ".venv" / ".installed-hash").exists()
    assert sorted(p.name for p in (copy / "build").iterdir()) == ["setup.log"]     # no step's own log left


def test_on_a_terminal_one_line_shows_each_running_step_with_its_seconds(tmp_path):
    """On a terminal, pip and apt-get share one line, rewritten with each
    step's seconds so far; a step that ends prints its whole line above it;
    at the end only the steps' lines stay on the screen."""
    copy, env = copy_with_fake_pip_and_apt(tmp_path, after_the_other("pip", "apt", "sleep 2.4"),
                                           after_the_other("apt", "pip", "sleep 1.2"))
    status, text = on_a_terminal(["bash", "build_report.sh"], copy, env)
    assert status == 0, text
    rewrites = re.findall(r"\r([^\r\n\x1b]*)\x1b\[K", text)
    assert "==> Setting up: pip 0 s, apt-get 0 s" in rewrites
    assert any(re.fullmatch(r"==> Setting up: pip [12] s, apt-get [12] s", line) for line in rewrites), rewrites
    assert any(re.fullmatch(r"==> Setting up: pip [2-4] s", line) for line in rewrites), rewrites
    lines = screen(text)
    assert len(lines) == 2, lines
    assert re.fullmatch(re.escape(f"==> {APT_STEP} ... done (") + r"\d s\)", lines[0]), lines
    assert re.fullmatch(re.escape(f"==> {PIP_STEP} ... done (") + r"\d s\)", lines[1]), lines


@pytest.mark.parametrize("pip_fails", [False, True], ids=["apt-get fails", "both fail"])
def test_a_failed_step_shows_its_own_output_and_stops_the_build_after_the_other_ends(tmp_path, pip_fails):
    """apt-get fails while pip runs on: its line says failed at once, pip
    ends (and, when it succeeded, is stamped as installed, so the next
    build does not run it again); then the output of each failed step, and
    only of those, and the build stops naming them."""
    pip = "echo 'ERROR: No matching distribution found for numpy'; exit 1" if pip_fails else \
        "echo 'Successfully installed numpy-2.1.0'"
    copy, env = copy_with_fake_pip_and_apt(
        tmp_path, after_the_other("pip", "apt", f"sleep 0.8; {pip}"),
        after_the_other("apt", "pip", "echo 'E: Unable to locate package texlive-xetex'; exit 100"))
    r = subprocess.run(["bash", "build_report.sh"], cwd=copy, capture_output=True, text=True, timeout=30, env=env,
                       check=False)
    assert r.returncode == 1
    _, apt, pip_line = r.stdout.splitlines()
    assert re.fullmatch(re.escape(f"==> {APT_STEP} ... failed (") + r"\d s\)", apt), r.stdout
    assert re.fullmatch(re.escape(f"==> {PIP_STEP} ... {'failed' if pip_fails else 'done'} (") + r"\d s\)",
                        pip_line), r.stdout
    assert "--- the output of apt-get (the last 80 lines; all of it is in build/setup.log) ---" in r.stderr
    assert "E: Unable to locate package texlive-xetex" in r.stderr
    assert ("No matching distribution" in r.stderr) == pip_fails
    assert "Successfully installed" not in r.stderr
    failed = f"{APT_STEP} and {PIP_STEP}" if pip_fails else APT_STEP
    assert r.stderr.endswith(f"error: {failed} failed (full log: build/setup.log); fix the problem above and "
                             "build again\n"), r.stderr
    assert (copy / ".venv" / ".installed-hash").exists() != pip_fails


def test_ctrl_c_stops_pip_and_apt_get_with_one_line_and_exit_130(tmp_path):
    """Ctrl-C while pip and apt-get run: both stop, with all they started
    (each runs in a process group of its own, which Ctrl-C does not reach
    by itself), their output so far is kept in the log, and the build says
    so in one line naming both and exits 130."""
    step = "echo $$ > {0}.pid; echo '{0}: working'; sleep 30"
    copy, env = copy_with_fake_pip_and_apt(tmp_path, step.format("pip"), step.format("apt"))
    build = subprocess.Popen(["bash", "build_report.sh"], cwd=copy, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=with_ctrl_c)  # noqa: PLW1509  (the tests start no threads)
    deadline = time.monotonic() + 10
    while not all((copy / f"{n}.pid").exists() for n in ("pip", "apt")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    groups = [int((copy / f"{n}.pid").read_text()) for n in ("pip", "apt")]
    assert build.pid not in groups
    os.killpg(build.pid, signal.SIGINT)                 # what a terminal's Ctrl-C does
    out, err = build.communicate(timeout=5)
    assert build.returncode == 130, (out, err)
    assert err == (f"interrupted during setup ({INSTALLING} and Installing the system packages with apt-get); "
                   "nothing was built; run ./build_report.sh again\n")
    assert out == "==> Setting up at the same time: pip, apt-get\n"
    for group in groups:                                # nothing of either step still runs
        try:
            os.killpg(group, 0)
            raise AssertionError(f"process group {group} still runs")
        except ProcessLookupError:
            pass
    log = sections((copy / "build" / "setup.log").read_text())
    assert "pip: working" in log[f"{PIP_STEP} (stopped)"] and "apt: working" in log[f"{APT_STEP} (stopped)"]
    assert not (copy / ".venv" / ".installed-hash").exists()


def git(cwd, *args):
    """``git args`` in ``cwd`` (no user or system settings), its output."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, check=True).stdout


def saved_by_jupyter(path):
    """The notebook at ``path`` as JupyterLab saves it after Run All, with
    what a copy of an executed notebook from build/notebooks adds: outputs
    (a PNG among them), execution counts and times, the kernel's
    language_info, papermill's injected cell and its metadata."""
    nb = nbformat.read(str(path), as_version=4)
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="checked\n"),
                        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
        cell.metadata.execution = {"iopub.execute_input": "2026-01-01T00:00:00.000000Z",
                                   "shell.execute_reply": "2026-01-01T00:00:01.000000Z"}
        cell.metadata.papermill = {"duration": 0.5, "status": "completed"}
    injected = nbformat.v4.new_code_cell("# Parameters\nseed = 0\n", execution_count=99)
    injected.metadata.tags = ["injected-parameters"]
    nb.cells.insert(2, injected)
    nb.metadata.language_info = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                                 "pygments_lexer": "ipython3", "version": "3.11.7"}
    nb.metadata.papermill = {"parameters": {"seed": 0}, "start_time": "2026-01-01T00:00:00"}
    nbformat.write(nb, str(path))
    return nb


def test_setup_makes_nbstripout_the_git_filter_so_a_notebook_saved_with_outputs_commits_clean(tmp_path):
    """In a git clone, setup sets nbstripout (this venv's, with --keep-id)
    as the filter that .gitattributes names, once; then a notebook saved
    with outputs and execution metadata is no change to git, a real edit
    commits as just that edit, and the tests' executed notebooks keep their
    outputs."""
    copy = copy_with_fake_pip(tmp_path, "exit 0").resolve()
    for name in (".gitattributes", "notebooks/1a_jacobians.ipynb", "tests/fixtures/1a_small.ipynb"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, copy / name)
    git(copy, "init", "-q")
    git(copy, "add", ".gitattributes", "notebooks")
    git(copy, "commit", "-q", "-m", "notebooks")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    r = subprocess.run(["bash", "build_report.sh", "--check"], cwd=copy, capture_output=True, text=True,
                       timeout=30, env=env, check=False)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert re.search(r"^==> Keeping notebook outputs out of git commits \(nbstripout\) \.\.\. done \(\d s\)$",
                     r.stdout, re.MULTILINE), r.stdout
    clean = f'"{copy}/.venv/bin/python" -m reportbuild.git_filter --keep-id --drop-tagged-cells injected-parameters'
    assert git(copy, "config", "--get", "filter.nbstripout.clean") == clean + "\n"
    assert git(copy, "config", "--get", "diff.ipynb.textconv") == clean + " -t\n"
    assert git(copy, "check-attr", "filter", "notebooks/1a_jacobians.ipynb").endswith(": filter: nbstripout\n")
    r = subprocess.run(["bash", "build_report.sh", "--check"], cwd=copy, capture_output=True, text=True,
                       timeout=30, env=env, check=False)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r     # set once

    notebook = copy / "notebooks" / "1a_jacobians.ipynb"
    committed = notebook.read_text()
    nb = saved_by_jupyter(notebook)
    assert "image/png" in notebook.read_text() and "iopub.execute_input" in notebook.read_text()
    git(copy, "add", "notebooks")          # (git status lists the file until then: its size changed)
    assert git(copy, "diff", "--cached", "--stat") == ""
    assert git(copy, "status", "--porcelain", "notebooks") == ""
    assert git(copy, "show", ":notebooks/1a_jacobians.ipynb") == committed     # cell ids and all

    code = next(c for c in nb.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", []))
    code.source += "\nprint('one more line')"
    nbformat.write(nb, str(notebook))
    git(copy, "add", "notebooks")
    diff = git(copy, "diff", "--cached", "--no-textconv")     # what is committed, as it is
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    removed, added = [c[1:] for c in changed if c[0] == "-"], [c[1:] for c in changed if c[0] == "+"]
    assert len(removed) == 1 and added == [removed[0][:-1] + '\\n",', '    "print(\'one more line\')"'], diff

    git(copy, "add", "tests/fixtures/1a_small.ipynb")
    assert git(copy, "show", ":tests/fixtures/1a_small.ipynb") == (ROOT / "tests/fixtures/1a_small.ipynb").read_text()


def test_without_git_setup_sets_no_filter_and_builds_on(tmp_path):
    """A clone on a machine without git (a PATH without it): no filter line,
    nothing on stderr, the build goes on."""
    copy = copy_with_fake_pip(tmp_path / "copy", "exit 0")
    git(copy, "init", "-q")
    bin_dir = tmp_path / "no-git"
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for tool in Path(folder).glob("*") if Path(folder).is_dir() else ():
            if tool.name != "git" and not (bin_dir / tool.name).exists() and os.access(tool, os.X_OK):
                (bin_dir / tool.name).symlink_to(tool)
    r = subprocess.run(["bash", "build_report.sh", "--check"], cwd=copy, capture_output=True, text=True,
                       timeout=30, env={**os.environ, "PATH": str(bin_dir)}, check=False)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "nbstripout" not in r.stdout
    assert not git(copy, "config", "--list", "--local").count("nbstripout")


def test_setup_points_jupyter_at_the_project_folder_on_the_notebooks(tmp_path):
    """The venv's Jupyter settings (Jupyter reads none from the folder it
    starts in): served from the project folder, opening on notebooks/;
    written again only when they differ."""
    copy = copy_with_fake_pip(tmp_path / 'a "quoted" folder', "exit 0")
    r = subprocess.run(["bash", "build_report.sh", "--check"], cwd=copy, capture_output=True, text=True, timeout=30,
                       check=False)
    assert r.returncode == 0, r.stderr
    config = copy / ".venv" / "etc" / "jupyter" / "jupyter_server_config.json"
    assert json.loads(config.read_text()) == {
        "ServerApp": {"root_dir": str(copy.resolve())},
        "ContentsManager": {"hide_globs": ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "*.egg-info"]},
        "LabApp": {"default_url": "/lab/tree/notebooks"},
        "JupyterNotebookApp": {"default_url": "/tree/notebooks"}}
    os.utime(config, (0, 0))
    subprocess.run(["bash", "build_report.sh", "--check"], cwd=copy, check=True, timeout=30)
    assert config.stat().st_mtime == 0
    assert (copy / "scratch").is_dir()

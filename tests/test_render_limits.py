"""Rendering is bounded and leaves nothing behind (``exporters``).

XeLaTeX and pandoc run under a time limit that grows with the document; a
render past it fails naming the step and the limit, with XeLaTeX (or
pandoc) and everything it started killed.  The render's temporary folders
are made in the output folder, in a ``.render-*`` folder removed on every
way out; only a kill -9 leaves it, for the next build to remove.

The limit is shortened here through REPORT_RENDER_LIMIT, so that a formula
that loops (``\\def\\x{\\x}\\x``) fails in a few seconds.
"""

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import nbformat
import pytest
from system import require
from test_faults import build, build_base, copy_project, edit, leftovers, report_set, start

from reportbuild.exit_status import FAILED, OK
from reportbuild.render import exporters, limits, merge, title

FIXTURES = Path(__file__).parent / "fixtures"
LOOP = "A formula that never ends: $\\def\\x{\\x}\\x$."
UNCHANGED = "The previous report in build/ is unchanged."


def processes_in(folder, name):
    """Ids of the processes called ``name`` whose working directory is in ``folder``."""
    found = []
    for pid in subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split():
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                found.append(int(pid))
        except OSError:             # it ended meanwhile
            pass
    return found


def render_folders(folder):
    return sorted(p.name for p in Path(folder).glob(".render-*"))


@pytest.fixture
def looping(tmp_path):
    """The merged notebook of the fixtures, with a Markdown cell whose
    formula makes XeLaTeX loop for ever."""
    require("xelatex", "pandoc")
    nb, _ = merge.merge(sorted(FIXTURES.glob("*.ipynb")), title.title_info(title.load_config(), "Ada"))
    nb.cells.append(nbformat.v4.new_markdown_cell(LOOP))
    return nb


# --- the limits ------------------------------------------------------------

def test_the_limit_grows_with_the_document_and_never_cuts_a_normal_render():
    """The --quick report: about 166,000 characters of LaTeX, 6 plots, 27
    pages; XeLaTeX's passes (and pandoc) take 10-20 s.  Its limit leaves
    more than 60 s + 5 s a page."""
    report = "x" * 166_000 + "\\adjustimage{}" * 6
    limit = limits.latex_limit(report, environ={})
    assert limit.seconds >= 60 + 5 * 27 and "report of about" in limit.what
    assert limits.latex_limit(report * 2, environ={}).seconds > limit.seconds
    assert limits.latex_limit("", environ={}).seconds >= 60
    assert limits.pandoc_limit("x" * 10_000, environ={}).seconds >= 30
    shortened = limits.latex_limit(report, environ={limits.LIMIT_VARIABLE: "2"})
    assert (shortened.seconds, shortened.what) == (2, "the limit set by REPORT_RENDER_LIMIT")


def test_a_formula_that_loops_fails_within_the_limit(looping, tmp_path, monkeypatch):
    monkeypatch.setenv(limits.LIMIT_VARIABLE, "2")
    out = tmp_path / "build"
    out.mkdir()
    t0 = time.monotonic()
    with pytest.raises(exporters.RenderFailed) as failed:
        exporters.write_pdf(looping, out / "report.pdf", FIXTURES, out / "latex.log")
    took = time.monotonic() - t0
    assert str(failed.value) == ("XeLaTeX did not finish within 2 s (the limit set by REPORT_RENDER_LIMIT); "
                                 f"the LaTeX log so far is in {out / 'latex.log'}")
    assert took < 2 + limits.STOP_GRACE + 10          # 10 s: the template and pandoc, before XeLaTeX
    log = (out / "latex.log").read_text()
    assert "! Interruption." in log             # then where it was (the loop, unless the machine is slow)
    assert sorted(p.name for p in out.iterdir()) == ["latex.log"]   # no .render-*, no PDF
    assert not processes_in(tmp_path, "xelatex")


def test_pandoc_past_its_limit_is_killed_and_named(looping, tmp_path, monkeypatch):
    """A pandoc that hangs (here a stand-in that starts a child and waits):
    it and its child are killed."""
    real = shutil.which("pandoc")
    fake = tmp_path / "bin" / "pandoc"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ncase \"$1\" in -v|--version) exec {real} \"$@\";; esac\n"
                    f"sleep 600 & echo $$ $! > {tmp_path}/pids\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(limits.LIMIT_VARIABLE, "1")
    out = tmp_path / "build"
    out.mkdir()
    with pytest.raises(exporters.RenderFailed, match=r"^pandoc did not finish within 1 s "
                                                     r"\(the limit set by REPORT_RENDER_LIMIT\)$"):
        exporters.write_pdf(looping, out / "report.pdf", FIXTURES, out / "latex.log")
    assert not list(out.iterdir())
    for pid in map(int, (tmp_path / "pids").read_text().split()):
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_ctrl_c_during_xelatex_kills_it_and_removes_the_render_folder(looping, tmp_path, monkeypatch):
    """No limit to wait for: Ctrl-C once XeLaTeX runs (a real SIGINT, to this
    process).  Nothing is left in $TMPDIR either (xdvipdfmx's file of a
    killed run went there)."""
    out, elsewhere = tmp_path / "build", tmp_path / "tmp"
    out.mkdir()
    elsewhere.mkdir()
    monkeypatch.setenv("TMPDIR", str(elsewhere))

    def interrupt_once_xelatex_runs():     # and has started xdvipdfmx, at its first page
        deadline = time.monotonic() + 60
        while not processes_in(out, "xdvipdfmx") and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=interrupt_once_xelatex_runs, daemon=True)
    watcher.start()
    with pytest.raises(KeyboardInterrupt):
        exporters.write_pdf(looping, out / "report.pdf", FIXTURES, out / "latex.log")
    watcher.join()
    assert not processes_in(out, "xelatex") and not processes_in(out, "xdvipdfmx")
    assert not list(out.iterdir()) and not list(elsewhere.iterdir())


# --- in a build -------------------------------------------------------------

@pytest.fixture(scope="session")
def ran(made_once):
    """The tiny project of test_faults, its report built (PDF included)
    once in the test run, shared with test_faults.py."""
    require("xelatex", "pandoc")
    return made_once("faults-project", build_base)


@pytest.fixture
def project(ran, tmp_path):
    """A copy of the project, 2a's Markdown looping (MathJax linked, not copied)."""
    copy = copy_project(ran, tmp_path)
    edit(copy / "notebooks" / "2a_second.ipynb",
         lambda nb: setattr(nb.cells[0], "source", nb.cells[0].source + "\n\n" + LOOP))
    return copy


def test_a_build_whose_latex_loops_fails_and_keeps_the_previous_report(project, monkeypatch):
    monkeypatch.setenv(limits.LIMIT_VARIABLE, "3")
    before = report_set(project)
    status, out, err = build(project)
    assert status == FAILED, err
    assert ("error: XeLaTeX did not finish within 3 s (the limit set by REPORT_RENDER_LIMIT); "
            "the LaTeX log so far is in build/latex.log") in err
    assert UNCHANGED in err and "Traceback" not in err and "Published" not in out
    assert report_set(project) == before and not leftovers(project)
    assert "! Interruption." in (project / "build" / "latex.log").read_text()
    assert not processes_in(project, "xelatex")


def test_kill_9_during_xelatex_leaves_the_render_folder_for_the_next_build(project):
    """The next build removes it (outfolder's leftovers include .render-);
    XeLaTeX itself dies with the build (the parent-death signal, Linux)."""
    before = report_set(project)
    proc = start(project)
    deadline = time.monotonic() + 60
    while not processes_in(project, "xelatex"):
        assert time.monotonic() < deadline and proc.poll() is None, "XeLaTeX never started"
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=10)
    folders = render_folders(project / "build")
    assert len(folders) == 1 and report_set(project) == before
    deadline = time.monotonic() + 5
    while processes_in(project, "xelatex") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_in(project, "xelatex")

    status, out, err = build(project, "--no-pdf")
    assert status == OK, err
    removed = next(line for line in out.splitlines() if line.startswith("==> Removed what an interrupted build"))
    assert folders[0] in removed
    assert not render_folders(project / "build") and not leftovers(project)

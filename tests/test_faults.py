"""Faults during a build, each driven for real (kernels, XeLaTeX, signals)
on a tiny project whose report was built once: what the build says, its
exit status, and that the report set in build/ (``outfolder.REPORT_SET``)
is still the previous one, byte for byte, or wholly the new one.

| fault                         | exit | build/ after                          |
|-------------------------------|------|---------------------------------------|
| LaTeX error in a Markdown cell| 1    | the previous report                   |
| a notebook raises             | 1    | the previous report (+ build/failed/) |
| Ctrl-C during a notebook      | 130  | the previous report                   |
| Ctrl-C during XeLaTeX         | 130  | the previous report                   |
| kill -9 during a notebook     | -9   | the previous report; the next build   |
|                               |      | removes the leftovers                 |
| a truncated stored run        | 0    | the new report: that notebook ran     |
| two builds at once            | 0, 0 | the second waits, then its report     |
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from system import require
from test_pipeline import make_notebook

from reportbuild import outfolder
from reportbuild.exit_status import FAILED, INTERRUPTED, OK

NAME = "Ada & Bob_1 50%"            # LaTeX's special characters: the title page must escape them
UNCHANGED = "The previous report in build/ is unchanged."


def kernels_in(folder):
    """Process ids of the kernels running with a working directory in ``folder``."""
    found = []
    for pid in subprocess.run(["pgrep", "-f", "ipykernel"], capture_output=True, text=True).stdout.split():
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                found.append(pid)
        except OSError:             # it ended meanwhile
            pass
    return found


def write_project(folder):
    """notebooks/: 1a (leaves started-1a.txt, then sleeps ``wait`` seconds)
    and 2a; each ends with an answer cell."""
    nbs = folder / "notebooks"
    nbs.mkdir(parents=True)
    answer = "from IPython.display import Markdown, display\ndisplay(Markdown(f'{label} is {value}.'))"
    for path, title, params, code, value in [
            (nbs / "1a_first.ipynb", "Part 1a: First", "n: int = 3  # a count\nwait: float = 0.0  # seconds [0..]",
             "import pathlib, time\npathlib.Path('started-1a.txt').write_text('')\ntime.sleep(wait)\n"
             "print('n is', n)", "n"),
            (nbs / "2a_second.ipynb", "Part 2a: Second", "k: int = 2  # a count", "print('k is', k)", "k")]:
        make_notebook(path, title, params, code)
        nb = nbformat.read(str(path), as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(answer.replace("{label}", value).replace("{value}", f"{{{value}}}"),
                                                  metadata={"tags": ["answer"]}))
        nbformat.write(nb, str(path))
    return nbs


def start(project, *args):
    """The build as ./build_report.sh runs it, in its own process group (as
    a terminal's foreground job), on ``project``."""
    return subprocess.Popen(
        [sys.executable, "-m", "reportbuild", "--notebooks", "notebooks", "--out", "build", "--name", NAME, *args],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def build(project, *args):
    """(exit status, stdout, stderr) of a whole build."""
    proc = start(project, *args)
    out, err = proc.communicate(timeout=180)
    return proc.returncode, out, err


def read_until(proc, text, timeout=60):
    """Read the build's stdout until a line holds ``text``; what was read."""
    seen, deadline = "", time.monotonic() + timeout
    while text not in seen:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        line = proc.stdout.readline() if ready else ""
        assert line, f"no {text!r} from the build; it printed {seen!r} and {proc.stderr.read() if not ready else ''}"
        seen += line
    return seen


def wait_for(path, timeout=60):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def report_set(project):
    """{relative path: bytes} of every file of the report set in build/."""
    out = project / "build"
    files = {}
    for name in outfolder.REPORT_SET:
        path = out / name
        for f in ([path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []):
            if f.is_file():
                files[str(f.relative_to(out))] = f.read_bytes()
    return files


def leftovers(project):
    """Working files of a build left in build/ or build/cache (the lock and the mark aside)."""
    out = project / "build"
    return sorted(str(p.relative_to(out)) for folder in (out, out / "cache") for p in folder.glob(".*")
                  if p.name not in (outfolder.LOCK, outfolder.MARK))


def edit(path, change):
    nb = nbformat.read(str(path), as_version=4)
    change(nb)
    nbformat.write(nb, str(path))


def build_base(base):
    """Write the tiny project into ``base`` and build its report (PDF included)."""
    write_project(base)
    status, out, err = build(base)
    assert status == OK, err
    assert set(report_set(base)) >= {"report.pdf", "report.html", "pages.json", "notebooks/1a_first.ipynb"}


@pytest.fixture(scope="session")
def built(made_once):
    """A tiny project with its report built (PDF included) once in the test
    run, for the tests here and in test_render_limits.py."""
    require("xelatex", "pandoc")
    return made_once("faults-project", build_base)


def copy_project(base, tmp_path):
    """A copy of the built project ``base`` in ``tmp_path`` (MathJax linked, not copied)."""
    copy = tmp_path / "project"
    shutil.copytree(base, copy, ignore=shutil.ignore_patterns("mathjax"))
    (copy / "build" / "mathjax").symlink_to(base / "build" / "mathjax")
    return copy


@pytest.fixture
def project(built, tmp_path):
    """A copy of the built project."""
    copy = copy_project(built, tmp_path)
    (copy / "notebooks" / "started-1a.txt").unlink()
    return copy


def test_a_latex_error_keeps_the_previous_report(project):
    before = report_set(project)
    edit(project / "notebooks" / "2a_second.ipynb",
         lambda nb: setattr(nb.cells[0], "source", nb.cells[0].source + "\n\nBroken: $\\notamacro{x}$."))
    status, out, err = build(project)
    assert status == FAILED
    assert "LaTeX failed to build the PDF (! Undefined control sequence.)" in err and UNCHANGED in err
    assert "Published" not in out and "Traceback" not in err
    assert report_set(project) == before and not leftovers(project)
    assert (project / "build" / "latex.log").exists()


def test_a_failing_notebook_keeps_the_previous_report(project):
    before = report_set(project)
    edit(project / "notebooks" / "1a_first.ipynb",
         lambda nb: nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('planted')")))
    status, out, err = build(project)
    assert status == FAILED
    assert "notebook 1a_first.ipynb failed in cell 3" in err and "RuntimeError: planted" in err
    assert UNCHANGED in err and "Traceback" not in err
    assert report_set(project) == before and not leftovers(project)
    assert (project / "build" / "failed" / "1a_first.ipynb").exists()


def test_ctrl_c_during_a_notebook_keeps_the_previous_report(project):
    """Ctrl-C while 1a sleeps in a cell: its kernel stops, and nothing is
    published or stored."""
    before, stored = report_set(project), sorted((project / "build" / "cache").iterdir())
    proc = start(project, "-p", "wait", "60")
    wait_for(project / "notebooks" / "started-1a.txt")
    time.sleep(0.5)                                 # the kernel sleeps in the cell
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)              # what Ctrl-C in a terminal does
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 3
    assert proc.returncode == INTERRUPTED
    assert err.strip().endswith(f"interrupted: {UNCHANGED}") and "Traceback" not in err
    assert report_set(project) == before and not leftovers(project)
    assert sorted((project / "build" / "cache").iterdir()) == stored
    assert not kernels_in(project)


def test_ctrl_c_during_rendering_keeps_the_previous_report(project):
    before = report_set(project)
    edit(project / "notebooks" / "2a_second.ipynb",
         lambda nb: setattr(nb.cells[0], "source", nb.cells[0].source + "\n\nA sentence added later."))
    proc = start(project)
    read_until(proc, "Rendering the PDF with XeLaTeX")
    deadline = time.monotonic() + 60                # until XeLaTeX itself runs
    while not subprocess.run(["pgrep", "-P", str(proc.pid), "-x", "xelatex"], capture_output=True).stdout:
        assert time.monotonic() < deadline and proc.poll() is None, "XeLaTeX never started"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == INTERRUPTED, err
    assert err.strip().endswith(f"interrupted: {UNCHANGED}") and "Traceback" not in err
    assert report_set(project) == before and not leftovers(project)


def test_kill_9_keeps_the_previous_report_and_the_next_build_cleans_up(project):
    before = report_set(project)
    proc = start(project, "-p", "wait", "60")
    wait_for(project / "notebooks" / "started-1a.txt")
    proc.kill()                                     # kill -9 of the build process alone
    proc.wait(timeout=10)
    assert report_set(project) == before
    left = leftovers(project)
    assert any(name.startswith(".run-") for name in left) and any(name.startswith(".next-") for name in left)
    deadline = time.monotonic() + 10                # its kernel stops too, not minutes later
    while kernels_in(project) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not kernels_in(project)

    status, out, err = build(project)               # the same report as before: nothing to run or render
    assert status == OK, err
    assert f"==> Removed what an interrupted build left in build/: {', '.join(left)}" in out
    assert "==> The report in build/ is up to date" in out
    assert not leftovers(project) and report_set(project) == before


def test_a_truncated_stored_run_runs_again(project):
    stored = next((project / "build" / "cache").glob("1a_first-*/notebook.ipynb"))
    stored.write_bytes(stored.read_bytes()[:100])
    status, out, err = build(project, "--no-pdf")
    assert status == OK, err
    assert f"warning: the stored run cache/{stored.parent.name}/ is unusable (" in err
    assert "1a_first runs again" in err and "Traceback" not in err
    assert "2a_second              cached" in out and "1a_first               cached" not in out
    assert nbformat.read(str(stored), as_version=4).metadata["report_run"]   # stored afresh
    assert not leftovers(project)


def test_two_builds_at_once_run_one_after_the_other(project):
    """The second build (of part 1a alone) waits for the first, then
    publishes its own report, whole."""
    first = start(project, "-p", "wait", "2", "--no-pdf")
    wait_for(project / "notebooks" / "started-1a.txt")
    second = start(project, "-p", "wait", "2", "--no-pdf", "--parts", "1a")
    waiting = read_until(second, "Waiting")
    assert f"==> Waiting: another build is using build/ (process {first.pid}); this one starts when it ends" in waiting
    out1, err1 = first.communicate(timeout=60)
    out2, err2 = second.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (OK, OK), err1 + err2
    assert "Published" in out1 and "Published" in out2
    assert "1a_first               cached" in out2           # the first build's run, stored
    assert "note: removed build/report.pdf, build/pages.json" in err1    # --no-pdf: the older PDF goes
    # build/ holds the second build's report, whole: part 1a alone, in each file.
    assert [p.name for p in (project / "build" / "notebooks").iterdir()] == ["1a_first.ipynb"]
    for name in ("report.ipynb", "report.html"):
        text = (project / "build" / name).read_text()
        assert "n is 3" in text and "Part 2a" not in text, name
    assert not (project / "build" / "report.pdf").exists() and not leftovers(project)


# --- the output folder, without a build --------------------------------------

def test_a_publish_cut_short_by_a_kill_is_completed_by_the_next_build(tmp_path):
    """Killed between two renames of ``publish``: the next build's
    ``clean_leftovers`` finishes the move, so build/ holds the new set whole."""
    out = tmp_path / "build"
    (out / "notebooks").mkdir(parents=True)
    for name, text in [("report.pdf", "old pdf"), ("report.html", "old html"), ("notebooks/1a.ipynb", "old nb"),
                       ("pages.json", "old pages")]:
        (out / name).write_text(text)
    staging = outfolder.new_staging(out)
    (staging / "notebooks").mkdir()
    for name in ("report.pdf", "report.html", "notebooks/1a.ipynb"):
        (staging / name).write_text("new")
    plan = {"publish": ["report.pdf", "report.html", "notebooks"], "remove": ["pages.json"]}
    (staging / outfolder.COMPLETE).write_text(__import__("json").dumps(plan))
    os.replace(staging / "report.pdf", out / "report.pdf")      # the first rename happened, then the kill
    (out / ".run-x").mkdir()                                     # and a run's working folder
    assert sorted(outfolder.clean_leftovers(out)) == [".run-x"]
    assert {p.name: p.read_text() for p in out.rglob("*") if p.is_file()} == {
        "report.pdf": "new", "report.html": "new", "1a.ipynb": "new"}
    assert sorted(p.name for p in out.iterdir()) == ["notebooks", "report.html", "report.pdf"]


def test_an_unusable_output_folder_is_named_before_anything_runs(tmp_path, capsys):
    nbs = write_project(tmp_path)
    (tmp_path / "a-file").write_text("")
    from reportbuild import cli
    from reportbuild.exit_status import USAGE
    for out, message in [(tmp_path / "a-file", "that is a file, not a folder"),
                         (Path("/proc/sys/build"), "cannot write to the output folder /proc/sys/build/")]:
        assert cli.main(["--notebooks", str(nbs), "--out", str(out), "--no-pdf"]) == USAGE
        err = capsys.readouterr().err
        assert message in err and "nothing was run" in err and "Traceback" not in err
    assert not (nbs / "started-1a.txt").exists()


def test_a_broken_template_is_named_not_a_traceback(tmp_path, monkeypatch):
    from reportbuild.render import exporters, merge, title

    broken = tmp_path / "templates"
    shutil.copytree(exporters.TEMPLATES, broken)
    html = broken / "homework.html.j2"
    html.write_text(html.read_text().replace("{%", "{% nosuchtag", 1))
    monkeypatch.setattr(exporters, "TEMPLATES", broken)
    fixtures = sorted((Path(__file__).parent / "fixtures").glob("*.ipynb"))
    nb, _ = merge.merge(fixtures, title.title_info(title.load_config(), "Ada"))
    with pytest.raises(exporters.RenderFailed, match=r"the report template is broken \(homework.html.j2, line \d+\)"):
        exporters.write_html(nb, tmp_path / "report.html", tmp_path, assets=tmp_path)


def test_a_first_build_that_fails_says_no_report_was_written(tmp_path, capsys, fast_builds):
    from reportbuild import cli

    nbs = write_project(tmp_path)
    edit(nbs / "1a_first.ipynb", lambda nb: nb.cells.insert(3, nbformat.v4.new_code_cell("1 / 0")))
    assert cli.main(["--notebooks", str(nbs), "--out", str(tmp_path / "build"), "--no-pdf"]) == FAILED
    err = capsys.readouterr().err
    assert f"No report was written to {tmp_path / 'build'}/." in err and "previous report" not in err

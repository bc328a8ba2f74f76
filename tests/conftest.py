"""Shared fixtures: one small random problem per shape in SHAPES; a run
stage that executes notebooks without kernels (``fast_builds``); a copy of
the checkout's files that the build's keys read (``checkout``)."""

import contextlib
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from system import start_dom_dump, stop_dom_dumps, which

import reportbuild  # noqa: F401  (first: it keeps nbformat's import from compiling an unused grammar, 2 s)
from helpers import make_problem
from reportbuild import keys, outfolder
from reportbuild.run.kernels import NotebookFailed, status_line

ROOT = Path(__file__).resolve().parents[1]
TEST_REPORT = ROOT / "build" / "test-report"     # the report this test run builds (--quick)
NEEDS_REPORT = ("test_report_layout.py", "test_html_browser.py", "test_notebooks.py")
_report_build = {}


def pytest_configure(config):
    """When this run includes a test of the built report, start building it
    now, from the current code, in the background (``fresh_report``)."""
    if "PYTEST_XDIST_WORKER" in os.environ:     # each worker would start one
        return
    chosen = [Path(config.invocation_params.dir, arg.split("::")[0]).resolve() for arg in config.args]
    wanted = [Path(__file__).with_name(name) for name in NEEDS_REPORT]
    if any(p == w or (p.is_dir() and w.is_relative_to(p)) for p in chosen for w in wanted):
        _start_report_build()


def _start_report_build():
    """``python -m reportbuild --quick --out build/test-report``, at a low
    priority, its stored runs first seeded from build/cache (so that a
    notebook the last build ran under the current code is not run again)."""
    if _report_build:
        return
    outfolder.prepare(TEST_REPORT.parent)   # build/, the default output folder, holds the test report too
    outfolder.prepare(TEST_REPORT)          # an output folder of the tool, before the runs are seeded
    for entry in sorted((ROOT / "build" / "cache").glob("*-*")):
        if entry.is_dir() and not (TEST_REPORT / "cache" / entry.name).exists():
            shutil.copytree(entry, TEST_REPORT / "cache" / entry.name)
    TEST_REPORT.mkdir(parents=True, exist_ok=True)
    log = open(TEST_REPORT.parent / "test-report.log", "w")
    _report_build["tracked"] = tracked_changes()
    _report_build["log"] = Path(log.name)
    _report_build["proc"] = subprocess.Popen(
        [sys.executable, "-m", "reportbuild", "--quick", "--out", str(TEST_REPORT)], cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=lambda: os.nice(10))


def tracked_changes():
    """``git status`` of the tracked files (a build must not change any)."""
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="session")
def fresh_report():
    """build/test-report/, a --quick report built by this test run from the
    current code (started at collection; waits for it to end).  Fails,
    showing the build's output, when the build failed."""
    _start_report_build()
    proc = _report_build["proc"]
    status = proc.wait(timeout=900)
    log = _report_build["log"].read_text()
    assert status == 0, f"./build_report.sh --quick --out build/test-report failed ({status}):\n{log[-3000:]}"
    if which("chromium"):       # the browser test's page: start rendering it now
        start_dom_dump(TEST_REPORT / "report.html", nice=15)
    return {"out": TEST_REPORT, "log": log, "tracked_before": _report_build["tracked"]}


def pytest_sessionfinish(session):
    stop_dom_dumps()
    proc = _report_build.get("proc")
    if proc and proc.poll() is None:        # a run that ended before it was needed
        proc.terminate()
        proc.wait()

# (d0, d1, d2): the 1x1x1 net, each size 1 alone, non-square, all distinct.
SHAPES = [(1, 1, 1), (1, 4, 2), (7, 1, 3), (5, 3, 8), (50, 40, 30), (33, 64, 17)]


@pytest.fixture(params=SHAPES, ids=lambda s: "x".join(map(str, s)))
def problem(request):
    """(A, B, x) in float64 for one shape of SHAPES, seeded by the shape."""
    return make_problem(*request.param, seed=sum(request.param))


def run_in_this_process(jobs, staging, log=print, failed_dir=None, succeeded=None):
    """Stand-in for ``kernels.execute`` without kernels: runs each notebook's
    code cells here, in its folder, and records the run as papermill does
    (injected-parameters cell, stdout outputs, metadata.papermill)."""
    for src, params in jobs:
        t0, start = time.monotonic(), datetime.datetime.now(datetime.timezone.utc).isoformat()
        nb = nbformat.read(str(src), as_version=4)
        tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
        injected = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in params.items())
        nb.cells.insert(tagged[0] + 1 if tagged else 0,
                        nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]}))
        namespace, here = {}, os.getcwd()
        os.chdir(src.parent)            # as the real runner does
        try:
            for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), 1):
                printed = io.StringIO()
                with contextlib.redirect_stdout(printed):
                    exec(cell.source, namespace)
                text = printed.getvalue()
                cell.execution_count = count
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
        except Exception as e:
            raise NotebookFailed(f"notebook {src.name} failed: {type(e).__name__}: {e}") from e
        finally:
            os.chdir(here)
        end = datetime.datetime.now(datetime.timezone.utc).isoformat()
        nb.metadata["papermill"] = {"parameters": params, "start_time": start, "end_time": end}
        nbformat.write(nb, str(Path(staging) / src.name))
        if succeeded is not None:
            succeeded.append(src)
        log(status_line(src, f"{time.monotonic() - t0:.1f} s"), flush=True)
    return [Path(staging) / src.name for src, _ in jobs]


@pytest.fixture
def fast_builds(monkeypatch):
    """Builds in this process that start no kernels (``run_in_this_process``
    stands in for the runner): for tests of which notebooks run and what the
    report shows of them.  test_build_end_to_end covers papermill."""
    from reportbuild.run import stage as run_stage

    monkeypatch.setattr(run_stage, "execute", run_in_this_process)


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A copy of helpers/, reportbuild/ and requirements.txt that ``keys`` reads."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "helpers", tmp_path / "helpers", ignore=ignore)
    shutil.copytree(ROOT / "reportbuild", tmp_path / "reportbuild", ignore=ignore)
    shutil.copy(ROOT / "requirements.txt", tmp_path)
    monkeypatch.setattr(keys, "HELPERS", tmp_path / "helpers")
    monkeypatch.setattr(keys, "CLAIMS", tmp_path / "helpers" / "claims.py")
    monkeypatch.setattr(keys, "TOOL", tmp_path / "reportbuild")
    monkeypatch.setattr(keys, "REQUIREMENTS", tmp_path / "requirements.txt")
    return tmp_path


@pytest.fixture
def tiny(tmp_path):
    """Folder with two tiny notebooks; cell 3 of 1a leaves a marker file and
    writes a warning and to stderr (both spelled so that only they say NOISE);
    1a ends with a cell tagged answer (2a has none)."""
    from test_pipeline import ANSWER_1A, PARAMS_1A, make_notebook

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    first = make_notebook(nbs / "1a_first.ipynb", "Part 1a: First", PARAMS_1A,
                          "open('ran-1a.txt', 'w').close()\nimport sys, warnings\nwarnings.warn('NOI' + 'SE')\n"
                          "print('NOI' + 'SE', file=sys.stderr)\nprint('value of d0:', d0)",
                          "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 2))\nax.plot([0, d0])")
    nb = nbformat.read(str(first), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(ANSWER_1A, metadata={"tags": ["answer"]}))
    nbformat.write(nb, str(first))
    make_notebook(nbs / "2a_second.ipynb", "Part 2a: Second", "n_iter: int = 3  # steps",
                  "print('n_iter is', n_iter)")
    (nbs / "quick.json").write_text(json.dumps({"d0": 2, "n_iter": 1}))
    return nbs

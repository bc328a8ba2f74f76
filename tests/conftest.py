"""Shared fixtures: one small random problem per shape in SHAPES; a run
stage that executes notebooks without kernels (``fast_builds``); a copy of
the checkout's files that the build's keys read (``checkout``)."""

import contextlib
import datetime
import io
import os
import shutil
import time
from pathlib import Path

import reportbuild  # noqa: F401  (first: it keeps nbformat's import from compiling an unused grammar, 2 s)

import nbformat
import pytest

from helpers import make_problem
from reportbuild import keys
from reportbuild.run.kernels import NotebookFailed, status_line
from system import start_dom_dump, stop_dom_dumps, which

ROOT = Path(__file__).resolve().parents[1]
REPORT_HTML = ROOT / "build" / "report.html"


def pytest_configure(config):
    """When this run includes the browser test of build/report.html, start
    Chromium on the page now, at a low priority: it renders (about 10 s of a
    core) on the core that collection and the tests before it leave idle."""
    if "PYTEST_XDIST_WORKER" in os.environ:     # each worker would start one
        return
    browser_test = Path(__file__).with_name("test_html_browser.py")
    chosen = [Path(config.invocation_params.dir, arg.split("::")[0]).resolve() for arg in config.args]
    if REPORT_HTML.exists() and which("chromium") and any(
            p == browser_test or (p.is_dir() and browser_test.is_relative_to(p)) for p in chosen):
        start_dom_dump(REPORT_HTML, nice=15)


def pytest_sessionfinish(session):
    stop_dom_dumps()

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

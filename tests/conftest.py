"""Shared fixtures: one small random problem per shape in SHAPES; a run
stage that executes notebooks without kernels (``fast_builds``)."""

import contextlib
import datetime
import io
import os
import time
from pathlib import Path

import nbformat
import pytest

from helpers import make_problem
from helpers.report.runner import NotebookFailed, status_line

# (d0, d1, d2): the 1x1x1 net, each size 1 alone, non-square, all distinct.
SHAPES = [(1, 1, 1), (1, 4, 2), (7, 1, 3), (5, 3, 8), (50, 40, 30), (33, 64, 17)]


@pytest.fixture(params=SHAPES, ids=lambda s: "x".join(map(str, s)))
def problem(request):
    """(A, B, x) in float64 for one shape of SHAPES, seeded by the shape."""
    return make_problem(*request.param, seed=sum(request.param))


def run_in_this_process(jobs, staging, log=print, failed_dir=None, succeeded=None):
    """Stand-in for ``runner.execute`` without kernels: runs each notebook's
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
    from helpers.report import run_stage

    monkeypatch.setattr(run_stage, "execute", run_in_this_process)

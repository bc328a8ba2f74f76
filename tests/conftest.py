"""Shared fixtures: one small random problem per shape in SHAPES; a run
stage that executes notebooks without kernels (``fast_builds``); a copy of
the checkout's files that the build's keys read (``checkout``)."""

# isort: off
import reportbuild  # noqa: F401  (first: it keeps nbformat's import from compiling an unused grammar, 2 s)
# isort: on
import contextlib
import datetime
import fcntl
import io
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from fresh_report import ReportBuild
from fresh_report import dom as report_dom
from fresh_report import wait as wait_for_report
from system import stop_dom_dumps

from helpers import make_problem
from reportbuild import keys
from reportbuild.run.kernels import NotebookFailed, status_line

# A pytest started in the background by a script ignores SIGINT, and so would
# every process it starts: the tests of Ctrl-C need it as a terminal gives it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]
NEEDS_REPORT = ("test_report_layout.py", "test_html_browser.py", "test_notebooks.py")
NEEDS_DOM = "test_html_browser.py"
SESSION = "test_report_session"     # xdist: where the workers find the report build's outcome
_report_build = []


def _chosen(config, name):
    """Whether the files or folders this run was given include tests/``name``."""
    chosen = [Path(config.invocation_params.dir, arg.split("::")[0]).resolve() for arg in config.args]
    wanted = Path(__file__).with_name(name)
    return any(p == wanted or (p.is_dir() and wanted.is_relative_to(p)) for p in chosen)


def pytest_configure(config):
    """When this run includes a test of the built report, start building it
    now, from the current code, in the background (``fresh_report``), in
    this process (under xdist: the controller, not each worker)."""
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    if any(_chosen(config, name) for name in NEEDS_REPORT):
        session = Path(tempfile.mkdtemp(prefix="test-report-"))
        _report_build.append(ReportBuild(session, dump_dom=_chosen(config, NEEDS_DOM)).start())


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist, in the controller: each worker reads the report build's outcome from its session folder."""
    if _report_build:
        node.workerinput[SESSION] = str(_report_build[0].session)


def _report_session(request):
    """The session folder of this run's report build.  Started at collection
    (``pytest_configure``); else, when the report's tests were chosen in a
    way that it does not read, now, by the first test process that needs it
    (the others find its session folder in their common temporary folder)."""
    given = getattr(request.config, "workerinput", {}).get(SESSION)
    if given:
        return Path(given)
    if not _report_build:
        root = request.getfixturevalue("tmp_path_factory").getbasetemp()
        root = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
        with open(root / "test-report.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (root / "test-report").exists():
                _report_build.append(ReportBuild(root / "test-report", dump_dom=True).start())
        if not _report_build:
            return root / "test-report"
    return _report_build[0].session


# Seconds a module's tests take (all of them, in one test process), as a run
# records them (``pytest_sessionfinish``, in .pytest_cache); until one has,
# these, measured with -n 2 on 2 cores: the modules that start kernels,
# XeLaTeX or Chromium.
DURATIONS = "autodiff-report/module-seconds"
LONGEST = {"test_ranges.py": 69, "test_faults.py": 56, "test_outfolder.py": 47, "test_signals.py": 37,
           "test_setup.py": 27, "test_render_limits.py": 25, "test_pipeline.py": 23, "test_parameters.py": 12,
           "test_inputs.py": 12, "test_fill.py": 10, "test_progress.py": 9, "test_check.py": 7,
           "test_escaping.py": 6, "test_boundaries.py": 6, "test_cache.py": 6}
_seconds = {}


def pytest_collection_modifyitems(config, items):
    """The modules that take longest first, each module's tests together
    and in their order: xdist (``--dist loadscope``) hands each module to
    one test process, so that the last to start are short."""
    cache = getattr(config, "cache", None)
    seconds = {**LONGEST, **(cache.get(DURATIONS, {}) if cache else {})}
    items.sort(key=lambda item: -seconds.get(item.path.name, 0))     # stable: ties keep their order


def pytest_runtest_logreport(report):
    """Add up the seconds of each module (under xdist: in the controller, from every worker's reports)."""
    module = report.nodeid.split("::")[0].rsplit("/", 1)[-1]
    _seconds[module] = _seconds.get(module, 0) + report.duration


@pytest.fixture(scope="session")
def fresh_report(request):
    """build/test-report/, the report built by this test run from the current
    code (``fresh_report.py``: started at collection; this waits for it):
    {"out", "log", "values": "quick" or "default", "tracked_before"}.
    Fails, showing the build's output, when the build failed."""
    return wait_for_report(_report_session(request))


@pytest.fixture(scope="session")
def fresh_report_dom(request, fresh_report):
    """The DOM of fresh_report's report.html after its scripts ran (headless Chromium)."""
    return report_dom(_report_session(request))


@pytest.fixture(scope="session")
def made_once(tmp_path_factory):
    """``made_once(name, make)``: the folder ``name``, made by ``make(folder)``
    once in this test run, by whichever test process needs it first (under
    xdist the workers share it: a file lock, in their common temporary
    folder); the others wait for it.  For an expensive setup that tests
    copy, such as a tiny project built once."""
    root = tmp_path_factory.getbasetemp()
    root = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root

    def make_once(name, make):
        folder, done = root / name, root / f"{name}.done"
        with open(root / f"{name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                make(folder)
                done.touch()
        return folder

    return make_once


def pytest_sessionfinish(session, exitstatus):
    """Record how long each module took (``pytest_collection_modifyitems``);
    end the report's build if it still runs."""
    cache, option = getattr(session.config, "cache", None), session.config.option
    whole = (exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)      # every test of each module ran
             and not (option.keyword or option.markexpr or option.deselect or option.maxfail)
             and not getattr(option, "lf", False) and not any("::" in arg for arg in session.config.args))
    if cache is not None and not hasattr(session.config, "workerinput") and whole and _seconds:
        cache.set(DURATIONS, {**cache.get(DURATIONS, {}), **{m: round(s, 1) for m, s in _seconds.items()}})
    stop_dom_dumps()
    for build in _report_build:
        if hasattr(session.config, "workerinput"):
            build.join()            # started by this worker: others may still need it
        else:
            build.stop()            # one that has not ended: its report is not needed


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
                    exec(cell.source, namespace)  # noqa: S102  (the notebook's code, as a kernel runs it)
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
    return write_tiny(tmp_path)


def write_tiny(folder):
    """``tiny``'s notebooks, in ``folder``/notebooks (returned)."""
    from test_pipeline import ANSWER_1A, PARAMS_1A, make_notebook

    nbs = folder / "notebooks"
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

"""A declared range is a promise: every notebook runs to the end at the ends
of the ranges its parameters cell declares, and work that grows with a
parameter has a run-time estimate that refuses what would run for hours.

The runs use real kernels (papermill), a few notebooks at a time, each at
small sizes: every notebook runs with its parameters at their low ends
(sizes 1, a single item, the smallest float where a range is open at 0)
and at the extremes (1e300 or the largest float where a range is
unbounded, the end a list may reach, a huge seed), together in one run
where they do not meet in one parameter, else in two.  ``RUNS`` lists
them, and ``test_every_range_end_is_run`` keeps that list honest: each
parameter is set by some run, at each numeric end its range declares.
Whole sizes have no high end to run; their growth is what the run-time
and memory estimates bound (the tests at the end of this file).
"""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from test_parameters import notebook

from reportbuild import memory
from reportbuild.memory import check_memory, check_run_time, duration_text, run_time
from reportbuild.parameters import ParamError, load_quick, read_params
from reportbuild.values import python_literal, resolve

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TINY = 5e-324               # the smallest positive float: the low end of a range open at 0
HUGE = 1.7e308              # near the largest float: the high end of an unbounded range
BIG_SEED = 10**30
NOT_RANGES = {"device", "results_dir"}      # choices and a folder, not ranges

# (notebook stem, label) -> the values that differ from the defaults.  One
# run takes the low ends and the extremes together where they do not meet
# in one parameter; a parameter whose two ends are both finite (tol, fd_eps)
# takes a run for each.  Defaults (seed 0) run in the report's own test.
RUNS = {
    ("1a_jacobians", "ends"): dict(seed=BIG_SEED, d0=1, d1=1, d2=1, check_d0=1, check_d1=1, check_d2=1),
    ("1b_pytorch_reference", "low"): dict(seed=BIG_SEED, d0=1, d1=1, d2=1, fd_eps=1e-300),
    ("1b_pytorch_reference", "high"): dict(d0=2, d1=1, d2=3, fd_eps=0.999999),
    ("1c_forward_mode", "ends"): dict(seed=BIG_SEED, d0=1, d1=1, d2=1, chunk_size=1),
    ("1d_reverse_mode", "ends"): dict(seed=BIG_SEED, d0=1, d1=1, d2=1, sat_d0=1, sat_d1=1, sat_d2=1,
                                      sat_scales=[1, 27000, 10**9, 10**300]),
    ("1e_complexity", "ends"): dict(seed=BIG_SEED, d0=1, d1=1, d2=1, sweep_max_d=16, sweep_points=2,
                                    sweep_repeats=1, sweep_threads=1, few_inputs=[1, 16]),
    ("1f_timing", "ends"): dict(seed=BIG_SEED, timing_d=1, repeats=1, slow_repeats=1, timing_chunk_size=0),
    ("2a_heron", "ends"): dict(seed=BIG_SEED, x_min=TINY, x_max=HUGE, n_grid=2, n_random=1, n_values=[0],
                               n_history=1, x_history=[HUGE, 1.0, TINY]),
    ("2b_heron_forward", "low"): dict(seed=BIG_SEED, x_min=TINY, x_max=1e-300, n_random=1, n_iter=1, x0=1e-280,
                                      n_small=0, tol=TINY, tol_loose=2 * TINY, x_check=[1e-280], n_history=1,
                                      x_history=[TINY]),
    ("2b_heron_forward", "high"): dict(x_min=1.0, x_max=HUGE, n_random=3, n_iter=1100, x0=HUGE, n_small=3,
                                       tol=0.999999, tol_loose=0.9999999, x_check=[HUGE, 1.0], n_history=3,
                                       x_history=[HUGE, 1.0]),
    ("2c_heron_reverse", "low"): dict(seed=BIG_SEED, x_min=TINY, x_max=1e-300, n_random=1, n_iter=1, x0=1e-280,
                                      n_small=0, tol=TINY, tol_loose=2 * TINY, x_check=[1e-280], tape_n=[1]),
    ("2c_heron_reverse", "high"): dict(x_min=1.0, x_max=HUGE, n_random=3, n_iter=1100, x0=HUGE, n_small=3,
                                       tol=0.999999, tol_loose=0.9999999, x_check=[HUGE, 1.0], tape_n=[10**18]),
}
RUN_IDS = [f"{stem}-{label}" for stem, label in RUNS]

# Runs notebooks with papermill, one after another as it reads them on
# stdin ([source, executed copy, parameters] a line), as the build's runner
# does (kernels over Unix sockets, so that kernels started at once cannot
# race for a TCP port); answers each with a line RESULT "" or the error.
# One such process per test process (``runner``): importing papermill takes
# a second; the runs spread over the test processes as the tests do (xdist).
RUNNER = r"""
import json, logging, os, sys, tempfile
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
import reportbuild  # first: it keeps nbformat's import from compiling an unused grammar
import papermill
from papermill.exceptions import PapermillExecutionError
from traitlets.config import Config
logging.getLogger("papermill").setLevel(logging.ERROR)
for line in sys.stdin:
    src, dst, params = json.loads(line)
    said = ""
    try:
        with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
            config = Config()
            config.KernelManager.transport = "ipc"
            config.KernelManager.ip = os.path.join(sockets, "k")
            papermill.execute_notebook(src, dst, parameters=params, cwd=os.path.dirname(src), progress_bar=False,
                                       extra_arguments=["--IPKernelApp.log_level=CRITICAL"], config=config)
    except PapermillExecutionError as e:
        said = f"failed in cell {e.exec_count}: {e.ename}: {e.evalue}"
    except Exception as e:
        said = f"could not be run: {type(e).__name__}: {e}"
    print("RESULT " + json.dumps(said), flush=True)
"""
RUN_TIMEOUT_S = 300


def declarations():
    return {p.name: read_params(p) for p in sorted(NOTEBOOKS.glob("*.ipynb"))}


def values_of(stem, overrides):
    """The values notebook ``stem`` runs with under ``overrides``, checked
    against its declarations as ``-p`` values are (ParamError if outside)."""
    name = f"{stem}.ipynb"
    effective, _ = resolve({name: read_params(NOTEBOOKS / name)},
                           overrides=[(k, python_literal(v)) for k, v in overrides.items()])
    return effective[name]


class Runner:
    """A RUNNER process, started on the first run and again after one that
    died or ran past RUN_TIMEOUT_S (its kernel is killed with it: its
    process group)."""

    def __init__(self, log):
        self.log, self.proc = log, None

    def run(self, src, dst, params):
        """None when notebook ``src`` ran to the end with ``params`` (its
        executed copy in ``dst``), else what went wrong."""
        if self.proc is None:
            with self.log.open("a") as err:
                self.proc = subprocess.Popen([sys.executable, "-c", RUNNER], cwd=ROOT, text=True,
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                             start_new_session=True)
        t0 = time.monotonic()
        timer = threading.Timer(RUN_TIMEOUT_S, self.kill)
        timer.start()
        try:
            self.proc.stdin.write(json.dumps([str(src), str(dst), params]) + "\n")
            self.proc.stdin.flush()
            said = next((json.loads(line[7:]) for line in self.proc.stdout if line.startswith("RESULT ")), None)
        except OSError:             # a runner that died before it read the job
            said = None
        timer.cancel()
        if said is None:            # killed at the time limit, or died: start afresh for the next
            self.kill()
            self.proc.wait()
            self.proc, said = None, (f"ran past {RUN_TIMEOUT_S} s" if time.monotonic() - t0 >= RUN_TIMEOUT_S else
                                     "its runner died:\n" + self.log.read_text()[-2000:])
        return said or None

    def kill(self):
        """End the runner and the kernel it started (its process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait()


@pytest.fixture(scope="session")
def runner(tmp_path_factory):
    """This test process's RUNNER."""
    r = Runner(tmp_path_factory.mktemp("runner") / "runner.log")
    yield r
    r.close()


@pytest.fixture
def results_dir():
    """A folder for the files part 1f saves: in scratch/ (results_dir must
    stay inside the project), removed afterwards."""
    scratch = ROOT / "scratch"
    made_scratch = not scratch.exists()
    scratch.mkdir(exist_ok=True)
    results = Path(tempfile.mkdtemp(prefix="test-ranges-", dir=scratch))
    yield results
    shutil.rmtree(results, ignore_errors=True)
    if made_scratch and not any(scratch.iterdir()):
        scratch.rmdir()


@pytest.mark.parametrize("run_id", RUN_IDS)
def test_notebook_runs_to_the_end_at_the_ends_of_its_ranges(runner, tmp_path, request, run_id):
    stem, label = run_id.rsplit("-", 1)
    params = dict(RUNS[stem, label])
    if stem == "1f_timing":
        params["results_dir"] = str(request.getfixturevalue("results_dir"))
    t0 = time.monotonic()
    problem = runner.run(NOTEBOOKS / f"{stem}.ipynb", tmp_path / f"{run_id}.ipynb", params)
    assert problem is None, (f"{stem}.ipynb failed at the ends of its ranges, {RUNS[stem, label]} "
                             f"({time.monotonic() - t0:.0f} s):\n{problem}")


@pytest.mark.parametrize("stem, label", list(RUNS), ids=RUN_IDS)
def test_the_runs_are_inside_the_ranges_and_estimates(stem, label):
    """Each run's values are ones the build accepts: inside the declared
    ranges, and within the memory and run-time estimates."""
    values = values_of(stem, RUNS[stem, label])
    jobs = [(NOTEBOOKS / f"{stem}.ipynb", values)]
    assert check_run_time(jobs) == []
    assert check_memory(jobs) == []


def _ends_set(runs, p):
    """The values runs give parameter ``p``: each item of a list."""
    found = []
    for overrides in runs:
        if p.name in overrides:
            v = overrides[p.name]
            found += list(v) if isinstance(v, (list, tuple)) else [v]
    return found


def _reaches(values, end, is_open, low):
    """Whether some value is the end itself (closed) or next to it (open:
    within 1e-5 of it, or below 1e-250 for an end of 0)."""
    if not is_open:
        return any(math.isclose(v, end, rel_tol=1e-12) for v in values)
    if end == 0:
        return any(0 < v < 1e-250 for v in values)
    return any(abs(v - end) <= 1e-5 * abs(end) and (v > end if low else v < end) for v in values)


def test_every_range_end_is_run():
    """Each parameter of each notebook is set by one of its RUNS, at the low
    end of its range and at its high end where it has one (an end that is
    the default counts: the report's test runs the defaults): a new
    parameter or range shows up here until a run covers it."""
    for name, params in declarations().items():
        stem = name.removesuffix(".ipynb")
        runs = [v for (s, _), v in RUNS.items() if s == stem]
        assert runs, f"RUNS has no run of {name}"
        for p in params:
            if p.name in NOT_RANGES:
                continue
            values = _ends_set([*runs, {p.name: p.default}], p)
            assert values, f"no run of {name} sets {p.name}"
            for end, is_open, low in ((p.lo, p.lo_open, True), (p.hi, p.hi_open, False)):
                if isinstance(end, (int, float)):
                    assert _reaches(values, end, is_open, low), \
                        f"no run of {name} sets {p.name} at the {'low' if low else 'high'} end of its range, {end}"


# ------------------------------------------------------------------ the run-time estimate

def test_check_run_time_refuses_above_the_limit_and_passes_below(tmp_path):
    slow = notebook(tmp_path / "1e_slow.ipynb", "n: int = 10  # steps\nreps: int = 3  # repeats",
                    {"run_seconds": "2 * n * reps + 10"})
    plain = notebook(tmp_path / "2a_plain.ipynb", "n: int = 3  # count")
    assert memory.TIME_LIMIT_S == 3600
    assert check_run_time([(plain, {"n": 10**9}), (slow, {"n": 500, "reps": 3})]) == []     # 50 min
    jobs = [(plain, {"n": 3}), (slow, {"n": 1000, "reps": 3})]                                # 100 min
    with pytest.raises(ParamError) as e:
        check_run_time(jobs)
    assert str(e.value) == ("1e_slow.ipynb would run for about 2 h at n=1000, reps=3 (its estimate), more than "
                            "the limit of 1 h; use smaller values, or pass --ignore-time to run anyway")
    assert check_run_time(jobs, override=True) == [str(e.value).replace(
        "use smaller values, or pass --ignore-time to run anyway", "running it anyway (--ignore-time)")]


def test_check_run_time_names_every_notebook_over_the_limit(tmp_path):
    a = notebook(tmp_path / "1e_a.ipynb", "n: int = 1  # steps", {"run_seconds": "60 * n"})
    b = notebook(tmp_path / "2b_b.ipynb", "n_iter: int = 1  # steps", {"run_seconds": "1e-5 * n_iter**2"})
    with pytest.raises(ParamError) as e:
        check_run_time([(a, {"n": 65}), (b, {"n_iter": 10**20})])
    lines = str(e.value).splitlines()
    assert lines[0].startswith("1e_a.ipynb would run for about 65 min at n=65 (its estimate)")
    assert lines[1].startswith("2b_b.ipynb would run for about 3e+27 years at n_iter=100000000000000000000")
    c = notebook(tmp_path / "1f_c.ipynb", "d: int = 1  # size", {"run_seconds": "10.0**d"})
    with pytest.raises(ParamError, match="1f_c.ipynb would run for longer than any machine can run at d=400"):
        check_run_time([(c, {"d": 400})])


def test_run_time_uses_the_memory_estimates_evaluator(tmp_path):
    path = notebook(tmp_path / "2a_t.ipynb", "xs: list = [1, 2]  # items\nn: int = 2  # count",
                    {"run_seconds": "len(xs) * n + sum(xs) + max(xs)"})
    assert run_time(path, {"xs": [1, 2, 30], "n": 4}) == 3 * 4 + 33 + 30
    assert run_time(notebook(tmp_path / "2b_t.ipynb", "n: int = 2  # count"), {"n": 2}) is None
    for expr, message in [("len(n)", "len takes one list parameter"), ("abs(n)", "is not allowed"),
                          ("n - 100", "not a number of seconds")]:
        bad = notebook(tmp_path / "2c_t.ipynb", "n: int = 2  # count", {"run_seconds": expr})
        with pytest.raises(ParamError, match="cannot evaluate metadata report.run_seconds") as e:
            run_time(bad, {"n": 2})
        assert message in str(e.value)


def test_duration_in_words():
    assert [duration_text(s) for s in (40, 2400, 3 * 3600, 12 * 86400, 300 * 365.25 * 86400, math.inf)] == [
        "about 40 s", "about 40 min", "about 3 h", "about 12 days", "about 300 years",
        "longer than any machine can run"]


def test_every_notebook_estimates_its_run_time_under_the_limit_at_defaults_and_quick():
    decls = declarations()
    defaults, _ = resolve(decls)
    quick, _ = resolve(decls, load_quick(NOTEBOOKS))
    for name in decls:
        for values in (defaults[name], quick[name]):
            seconds = run_time(NOTEBOOKS / name, values)
            assert seconds is not None, f"{name} declares no metadata report.run_seconds"
            assert 0 < seconds < memory.TIME_LIMIT_S, (name, seconds)
    assert 100 < run_time(NOTEBOOKS / "1f_timing.ipynb", defaults["1f_timing.ipynb"]) < 900   # 3.5 min measured


@pytest.mark.parametrize("stem, overrides", [
    ("2a_heron", {"n_history": 10**8}),             # O(n^2) history
    ("2a_heron", {"n_history": 10**11}),
    ("2a_heron", {"n_values": [10, 10**6]}),
    ("2b_heron_forward", {"n_iter": 10**9}),
    ("2c_heron_reverse", {"n_iter": 10**9}),
    ("1e_complexity", {"sweep_repeats": 10**8}),
    ("1f_timing", {"timing_d": 30000}),
    ("1f_timing", {"timing_d": 21000, "timing_chunk_size": 1}),     # 10500 matrix-vector products at d/2 push it past 1 h
    ("1c_forward_mode", {"d0": 20000, "d1": 20000, "d2": 20000}),
    ("1d_reverse_mode", {"sat_d0": 10000, "sat_d1": 10000, "sat_d2": 10000}),     # 50-digit mpmath
])
def test_work_that_would_run_for_hours_is_refused(stem, overrides):
    jobs = [(NOTEBOOKS / f"{stem}.ipynb", values_of(stem, overrides))]
    with pytest.raises(ParamError, match=f"{stem}.ipynb would run for about .* more than the limit of 1 h"):
        check_run_time(jobs)

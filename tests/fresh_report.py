"""The report this test run builds, in build/test-report/, from the current
code, for the tests of the built report (test_report_layout.py,
test_html_browser.py, test_notebooks.py; ``fresh_report`` in conftest.py).

One process starts it (the xdist controller, or pytest itself without
xdist), at collection, at a low priority, so that it overlaps the other
tests: ``ReportBuild.start`` chooses the values, seeds the stored runs,
runs ``python -m reportbuild`` and, once it succeeded, has Chromium dump
the page's DOM for the browser test.  Every process that needs the report
(any xdist worker) reads the outcome from files in the build's session
folder (``wait``): STATUS, then DOM_STATUS and DOM.

Which values.  The report is built with the --quick values when every
notebook has a stored run under its current run key at those values (in
build/cache or build/test-report/cache), else with the default values when
every notebook has one at those (after a full ``./build_report.sh``), else
with --quick, running what is missing.  Either way every notebook ran to
the end under its current code and values, now or in a stored run, and
the report's own build renders only what changed.  When build/ holds the
report those very runs make, the test report starts as a copy of it (its
report set and MathJax), so that the build finds it up to date unless the
render inputs differ (the tool, the date, the commit, the title).
"""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
from system import DomDump, which

from reportbuild import outfolder

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"                  # the student's output folder: read, never written, but for test-report/
TEST_REPORT = BUILD / "test-report"
LOG = BUILD / "test-report.log"
NOTEBOOKS = ROOT / "notebooks"
STATUS, DOM, DOM_STATUS = "status.json", "dom.html", "dom.json"
BUILD_TIMEOUT_S = 900


def tracked_changes():
    """``git status`` of the tracked files (a build must not change any)."""
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


def write_json(path, data):
    """Write ``data`` to ``path`` at once (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def wait_json(path, timeout):
    """The data of ``path`` once it exists (``write_json``); AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not written within {timeout} s"
        time.sleep(0.1)
    return json.loads(path.read_text())


# --------------------------------------------------------------- which values

def _stored_sets():
    """{"quick": keys, "default": keys}: for each set of values, {notebook
    file: its current run key}; and the folders holding a run of each."""
    from reportbuild.keys import run_inputs_digest, run_key
    from reportbuild.parameters import load_quick, read_params
    from reportbuild.parts import find_notebooks
    from reportbuild.values import resolve

    paths = find_notebooks(NOTEBOOKS)
    declared = {p.name: read_params(p) for p in paths}
    sources = {p: nbformat.read(str(p), as_version=4) for p in paths}
    run_inputs = run_inputs_digest()
    sets = {}
    for name, quick in (("quick", load_quick(NOTEBOOKS)), ("default", None)):
        values, _ = resolve(declared, quick)
        sets[name] = {p: run_key(sources[p], values[p.name], run_inputs) for p in paths}
    return sets


def _where_stored(keys):
    """{notebook: folder of its stored run} for those of ``keys`` stored in
    build/cache or build/test-report/cache."""
    from reportbuild.run.cache import entry

    found = {}
    for src, key in keys.items():
        for out in (TEST_REPORT, BUILD):
            if entry(out, src, key).is_dir():
                found[src] = entry(out, src, key)
                break
    return found


def choose_values():
    """("quick" or "default", {notebook: run key}, {notebook: stored run}):
    the values the report is built with (module docstring)."""
    from reportbuild.parameters import ParamError
    from reportbuild.parts import PartsError

    try:
        sets = _stored_sets()
    except (ParamError, PartsError, OSError, ValueError):     # the build refuses it, and says why
        return "quick", {}, {}
    stored = {name: _where_stored(keys) for name, keys in sets.items()}
    for name in ("quick", "default"):
        if len(stored[name]) == len(sets[name]):
            return name, sets[name], stored[name]
    return "quick", sets["quick"], stored["quick"]


# --------------------------------------------------------------- the copies

def _published_runs(out):
    """{notebook name: run key} of the executed notebooks of the report in ``out``."""
    from reportbuild.executed import recorded_run_key

    found = {}
    for path in sorted((out / "notebooks").glob("*.ipynb")):
        try:
            found[path.name] = recorded_run_key(nbformat.read(str(path), as_version=4))
        except (OSError, ValueError):       # unreadable: not the report of these runs
            found[path.name] = None
    return found


def _mtime(out):
    return (out / outfolder.MANIFEST).stat().st_mtime


def _copy_published_report(keys):
    """Make the report set of build/ that of build/test-report when build/
    holds the report of the runs ``keys`` and build/test-report none, or
    one rendered before it.  The report's build checks the copy as it
    checks any published report (``outfolder.verify``): it renders anew
    when the render inputs differ, or when a build that published into
    build/ meanwhile left a mixed copy."""
    wanted = {src.name: key for src, key in keys.items()}
    built, ours = outfolder.read_manifest(BUILD), outfolder.read_manifest(TEST_REPORT)
    if not wanted or built is None or _published_runs(BUILD) != wanted:
        return False
    if ours is not None and (ours["render_key"] == built["render_key"]           # the same report, or
                             or _mtime(TEST_REPORT) >= _mtime(BUILD)):          # one rendered since
        return False
    for name in outfolder.REPORT_SET:
        target = TEST_REPORT / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for name in outfolder.REPORT_SET:
        source = BUILD / name
        if source.is_dir():
            shutil.copytree(source, TEST_REPORT / name)
        elif source.is_file():
            shutil.copy2(source, TEST_REPORT / name)
    if not (TEST_REPORT / "mathjax").exists() and (BUILD / "mathjax").is_dir():
        shutil.copytree(BUILD / "mathjax", TEST_REPORT / "mathjax")
    return True


def _seed_runs(stored):
    """Copy into build/test-report/cache the stored runs of build/cache that it lacks."""
    for run in stored.values():
        target = TEST_REPORT / "cache" / run.name
        if run.parent.parent == BUILD and not target.exists():
            shutil.copytree(run, target)


# --------------------------------------------------------------- the build

class ReportBuild:
    """The build of build/test-report, and the DOM dump of its page, run by a
    thread of the process that starts it; their outcomes go to files in
    ``session`` (a folder of this test run)."""

    def __init__(self, session, dump_dom):
        self.session, self.dump_dom = Path(session), dump_dom
        self.proc = self.dump = None
        self.stopped = False

    def start(self):
        self.session.mkdir(parents=True, exist_ok=True)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def join(self):
        """Wait for the build and the dump to end."""
        self.thread.join()

    def _run(self):
        try:
            self._build()
        except BaseException as e:  # noqa: BLE001  (told to the tests that wait, not lost in a thread)
            if not (self.session / STATUS).exists():
                write_json(self.session / STATUS, {"status": None, "error": f"{type(e).__name__}: {e}"})

    def _build(self):
        outfolder.prepare(BUILD)        # build/, the default output folder, holds the test report too
        outfolder.prepare(TEST_REPORT)  # an output folder of the tool, before its runs are seeded
        values, keys, stored = choose_values()
        _seed_runs(stored)
        copied = _copy_published_report(keys)
        command = [sys.executable, "-m", "reportbuild", *(["--quick"] if values == "quick" else []),
                   "--out", str(TEST_REPORT)]
        tracked = tracked_changes()
        with open(LOG, "w") as log:
            log.write(f"$ {' '.join(command[1:])}   (values: {values}; report set copied from build/: "
                      f"{'yes' if copied else 'no'})\n")
            log.flush()
            if self.stopped:
                return
            self.proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        os.setpriority(os.PRIO_PROCESS, self.proc.pid, 10)  # and so its workers and kernels, started later
        try:
            status = self.proc.wait(timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            status = f"still running after {BUILD_TIMEOUT_S} s"
        write_json(self.session / STATUS, {"status": status, "values": values, "tracked_before": tracked,
                                           "command": " ".join(command[1:]), "dom": self.dump_dom})
        if status == 0 and self.dump_dom and not self.stopped:
            self._dump()

    def _dump(self):
        """The DOM of the report's page after its scripts ran (``system.DomDump``), into DOM."""
        if not which("chromium"):
            write_json(self.session / DOM_STATUS, {"error": "chromium not found"})
            return
        self.dump = DomDump(TEST_REPORT / "report.html", nice=15)
        try:
            (self.session / DOM).write_text(self.dump.dom(), encoding="utf-8")
            write_json(self.session / DOM_STATUS, {"error": None})
        except (AssertionError, subprocess.TimeoutExpired, OSError) as e:
            write_json(self.session / DOM_STATUS, {"error": f"{type(e).__name__}: {e}"})

    def stop(self):
        """End the build and the dump if they still run (SIGTERM: the build
        stops its workers and kernels, ``test_signals``)."""
        self.stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        if self.dump is not None:
            self.dump.close()


def wait(session):
    """{"out", "log", "values" ("quick" or "default"), "tracked_before"} once
    the build in ``session`` succeeded; AssertionError with its output
    when it failed."""
    status = wait_json(Path(session) / STATUS, BUILD_TIMEOUT_S + 60)
    log = LOG.read_text() if LOG.exists() else ""
    assert status["status"] == 0, (f"{status.get('command') or 'the test report build'} failed "
                                   f"({status.get('error') or status['status']}):\n{log[-3000:]}")
    return {"out": TEST_REPORT, "log": log, "values": status["values"], "tracked_before": status["tracked_before"]}


def dom(session):
    """The DOM of the test report's page after its scripts ran
    (``ReportBuild._dump``, or now when the build was started without it)."""
    if not wait_json(Path(session) / STATUS, BUILD_TIMEOUT_S + 60).get("dom"):
        return DomDump(TEST_REPORT / "report.html").dom()
    status = wait_json(Path(session) / DOM_STATUS, 300)
    assert status["error"] is None, f"Chromium could not render {TEST_REPORT / 'report.html'}: {status['error']}"
    return (Path(session) / DOM).read_text(encoding="utf-8")

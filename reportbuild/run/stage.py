"""The run stage: the executed notebooks and their result files, for the
next report set.

A notebook is executed (``kernels``) only when its run key
(``keys.run_key``) has no stored run (``cache``); otherwise the stored run
is used.  Either way ``write_executed`` puts into the staging folder of the
next report set (``outfolder``) each notebook's current source combined
with its run's outputs (so Markdown edits show without a run) in
``notebooks/``, and the files its run saved in ``results/``.  The render
stage reads only these.

A parameter naming a folder (``Param.is_folder``, e.g. ``results_dir``) is
where a notebook run by hand saves its files; in a build it points into the
run's working folder instead, so that the files land in the stored run and
reach ``OUT/results/`` with the report that cites them, never before.
"""

import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from ..atomic import replace_folder
from ..executed import computed_at, ran_with, recorded_results, recorded_run_key
from ..keys import run_inputs as key_inputs
from ..keys import run_key
from ..parameters import read_params
from . import cache
from .kernels import (  # NotebookFailed: for callers too
    NotebookFailed,
    execute,
    status_line,
)


def warn_stderr(message):
    print(message, file=sys.stderr, flush=True)


def run_all(jobs, out, run_inputs, rerun=False, log=print, warn=warn_stderr):
    """The stored run (``cache.Entry``) of each of ``jobs`` ([(source,
    params)]), in order, running those without one (all of them with
    ``rerun``); ``run_inputs`` is ``keys.run_inputs_digest()``.

    Runs go to a working folder ``out/.run-*``; each that ran to the end
    enters the cache.  On a failure the executed copies go to
    ``out/failed`` and NotebookFailed is raised; on Ctrl-C nothing is
    stored.  The report set in ``out`` is not touched.
    """
    out = Path(out)
    sources, keys, entries, todo = {}, {}, {}, []
    recorded = key_inputs()             # stored with each run, for --check to say what changed
    for src, params in jobs:
        sources[src] = nbformat.read(str(src), as_version=4)
        keys[src] = run_key(sources[src], params, run_inputs)
        hit = None if rerun else cache.lookup(out, src, keys[src], warn)
        if hit is None:
            todo.append((src, params))
        else:
            entries[src] = hit
            log(status_line(src, f"cached (computed {computed_at(hit.notebook)})"), flush=True)
    work = Path(tempfile.mkdtemp(prefix=".run-", dir=out))
    work.chmod(0o755)                   # mkdtemp makes it private; outputs are not
    asked = dict(todo)
    folders = {src: [p.name for p in read_params(src) if p.is_folder] for src in asked}
    runs = [(src, {**params, **{name: str(_results(src, work)) for name in folders[src]}})
            for src, params in todo]
    succeeded = []
    try:
        execute(runs, work, log, failed_dir=out / "failed", succeeded=succeeded)
    except NotebookFailed:
        for src in succeeded:           # their runs are sound; keep them
            _store(out, src, keys[src], asked[src], folders[src], work, recorded)
        replace_folder(work, out / "failed")
        raise
    except BaseException:               # Ctrl-C: store nothing
        shutil.rmtree(work, ignore_errors=True)
        raise
    for src in succeeded:
        entries[src] = _store(out, src, keys[src], asked[src], folders[src], work, recorded)
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(out / "failed", ignore_errors=True)
    return [entries[src] for src, _ in jobs]


def _results(src, work):
    """The folder in ``work`` that receives the files notebook ``src`` saves."""
    return work / f"{Path(src).stem}.results"


def _store(out, src, key, params, folders, work, inputs):
    """Store the run of ``src`` from ``work``: its executed notebook, with the
    values it was asked to run with (``params``; the folder parameters
    ``folders`` as asked, not the working folder they pointed to), and its
    saved files; ``inputs`` (``keys.run_inputs()``) go with the key."""
    executed = work / src.name
    nb = nbformat.read(str(executed), as_version=4)
    record = nb.metadata.get("papermill", {}).get("parameters", {})
    for name in folders:
        record[name] = params[name]

    def as_asked(line):             # a line `name = value` of papermill's injected cell
        name = line.split(" = ")[0]
        return f"{name} = {params[name]!r}" if name in folders else line

    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = "\n".join(map(as_asked, cell.source.splitlines()))
    nbformat.write(nb, str(executed))
    return cache.store(out, src, key, executed, _results(src, work), inputs)


def write_executed(sources, entries, staging):
    """Into ``staging``: ``notebooks/NAME.ipynb`` for each notebook file of
    ``sources``, its current source around the outputs of its stored run
    ``entries[i]``, and the files those runs saved in ``results/``.
    Returns the executed notebooks' paths."""
    paths = []
    for src, entry in zip(sources, entries):
        nb = cache.combine(nbformat.read(str(src), as_version=4), entry.notebook)
        paths.append(_write(staging / "notebooks" / src.name, nb))
        if entry.results.is_dir():      # copies, not links: editing a published file must not change a stored run
            shutil.copytree(entry.results, staging / "results", dirs_exist_ok=True)
    return paths


def reuse_published(sources, out, staging, run_inputs, warn=warn_stderr):
    """``write_executed`` for --render-only: the runs are the executed
    notebooks of the report in ``out`` (their saved files from the stored
    run, else from ``out/results``).  A notebook whose code changed since
    its run is used as it ran, with a warning; otherwise its current
    Markdown is put around the outputs.  FileNotFoundError names the
    notebooks that never ran."""
    out = Path(out)
    missing = [src.name for src in sources if not (out / "notebooks" / src.name).exists()]
    if missing:
        raise FileNotFoundError(", ".join(missing))
    paths = []
    for src in sources:
        done = out / "notebooks" / src.name
        ran = nbformat.read(str(done), as_version=4)
        source = nbformat.read(str(src), as_version=4)
        _, values = ran_with(done, ran)
        if recorded_run_key(ran) != run_key(source, values, run_inputs):
            warn(f"warning: {src.stem}: its code or the helpers package changed since it ran; "
                 "the report shows that earlier run (build without --render-only to update it)")
        try:
            nb = cache.combine(source, ran)
        except ValueError:
            nb = ran
        paths.append(_write(staging / "notebooks" / src.name, nb))
        stored = cache.entry(out, src, recorded_run_key(ran) or "none") / cache.RESULTS
        for name in recorded_results(ran):
            origin = stored / name if (stored / name).exists() else out / "results" / name
            if origin.exists():
                (staging / "results" / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, staging / "results" / name)
    return paths


def _write(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


"""The run stage: bring ``OUT/notebooks`` up to date.

A notebook is executed (``kernels``) only when its run key
(``keys.run_key``) has no stored run (``cache``); otherwise the stored outputs are
combined with its current source, so Markdown edits show without a run.
The executed notebooks in ``OUT/notebooks`` are all the render stage reads.
"""

import shutil
import tempfile
from pathlib import Path

import nbformat

from ..atomic import replace_folder, write_atomic
from ..executed import computed_at, ran_with, recorded_run_key
from ..keys import run_key
from . import cache
from .kernels import NotebookFailed, execute, status_line


def run_all(jobs, out, run_inputs, rerun=False, log=print):
    """Bring ``out/notebooks`` up to date for ``jobs`` ([(source, params)]);
    ``run_inputs`` is ``keys.run_inputs_digest()``.

    A notebook whose run key (``keys.run_key``) has a stored run is
    not executed: that run's outputs are combined with the current source
    (so Markdown edits show).  The others run (all of them with ``rerun``);
    those that finish enter the cache.  Only when every notebook succeeded
    are the copies in ``out/notebooks`` replaced, each by one rename.  On a
    failure the executed copies go to ``out/failed``; on Ctrl-C nothing is
    written or cached.  Returns the paths in ``out/notebooks``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sources, keys, results, todo = {}, {}, {}, []
    for src, params in jobs:
        sources[src] = nbformat.read(str(src), as_version=4)
        keys[src] = run_key(sources[src], params, run_inputs)
        hit = None if rerun else cache.lookup(out, src, keys[src])
        if hit is None:
            todo.append((src, params))
        else:
            results[src] = hit
            log(status_line(src, f"cached (computed {computed_at(hit)})"), flush=True)
    staging = Path(tempfile.mkdtemp(prefix=".run-", dir=out))
    staging.chmod(0o755)                    # mkdtemp makes it private; outputs are not
    succeeded = []
    try:
        execute(todo, staging, log, failed_dir=out / "failed", succeeded=succeeded)
    except NotebookFailed:
        for src in succeeded:           # their runs are sound; keep them
            cache.store(out, src, keys[src], staging / src.name)
        replace_folder(staging, out / "failed")
        raise
    except BaseException:           # Ctrl-C: leave nothing half-written behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for src in succeeded:
        results[src] = cache.store(out, src, keys[src], staging / src.name)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(out / "failed", ignore_errors=True)
    paths = []
    for src, _ in jobs:
        paths.append(out / "notebooks" / src.name)
        write_atomic(paths[-1], nbformat.writes(cache.combine(sources[src], results[src])))
    return paths


def stale(paths, executed, run_inputs):
    """Problems with executed notebooks whose code, helpers/ or requirements
    changed since they ran (only --render-only uses them as they are)."""
    problems = []
    for src, done in zip(paths, executed):
        nb = nbformat.read(str(done), as_version=4)
        _, values = ran_with(done, nb)
        key = run_key(nbformat.read(str(src), as_version=4), values, run_inputs)
        if recorded_run_key(nb) != key:
            problems.append(f"{src.stem}: its code or the helpers package changed since it ran; "
                            "the report shows that earlier run (build without --render-only to update it)")
    return problems

"""Execute notebooks with papermill, one kernel each, two at a time
(timing notebooks alone).

Each notebook runs with its own folder as the working directory, exactly
as when it is opened in Jupyter, so relative paths (``../build/results``)
mean the same in both.  A notebook whose code, parameters and environment
are unchanged since a stored run is not executed again (``cache``).
Executed copies go to a fresh staging folder; only when every notebook has
succeeded are the copies in ``OUT/notebooks`` replaced.  After a failure the
staging folder becomes ``OUT/failed`` (the failing cell is marked there) and
the last good executed copies and report stay as they were.
"""

import logging
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from . import cache
from .render import write_atomic

# The kernel's "running over TCP without encryption" warning is noise here.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
NAME_WIDTH = 22


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names it, the cell and the copy to open."""


def _rel(path):
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _cell_number(src, code):
    """1-based position of the code cell with source ``code`` in notebook ``src``."""
    import nbformat

    cells = nbformat.read(str(src), as_version=4).cells
    return next((i for i, c in enumerate(cells, 1) if c.source == code), "?")


def _failure(src, copy, err):
    """A message a student can act on, from papermill's exception."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        first = next((ln.strip() for ln in err.source.splitlines() if ln.strip()), "")
        return (f"notebook {src.name} failed in cell {_cell_number(src, err.source)} (In [{err.exec_count}]), "
                f"which starts: {first[:80]}\n"
                f"    {err.ename}: {err.evalue}\n"
                f"  the traceback is in the executed copy, below the red banner: {_rel(copy)}")
    return (f"notebook {src.name} could not be run: {type(err).__name__}: {err}\n"
            f"  the partly executed copy (if any): {_rel(copy)}")


def runs_alone(src):
    """True for a notebook whose metadata says ``report: {run_alone: true}``:
    it times code, so nothing else may run beside it."""
    import nbformat

    meta = nbformat.read(str(src), as_version=4).metadata
    return bool(meta.get("report", {}).get("run_alone", False))


def _ignore_ctrl_c():
    """Worker start-up: an idle worker ignores Ctrl-C (the build process
    handles it); ``_run_one`` takes it while a notebook runs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_one(src, dst, params, failed_copy):
    """Run one notebook (in a worker process); None, or the failure message.
    Ctrl-C stops the notebook and its kernel and returns quietly."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _papermill(src, dst, params, failed_copy)
    except KeyboardInterrupt:
        return f"notebook {src.name} was interrupted"
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _papermill(src, dst, params, failed_copy):
    """papermill.execute_notebook, with the settings described below."""
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")    # silences a jupyter_core notice
    import papermill
    from traitlets.config import Config

    # Parameters are checked in values.py; papermill's own guesses at the
    # parameters cell ("Passed unknown parameter") would only confuse.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    # Kernels talk over Unix sockets in a private folder: two kernels started
    # at once cannot race for the same TCP port, and no port is opened at all.
    with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(sockets) / "k")
        try:
            papermill.execute_notebook(
                str(src), str(dst), parameters=params, cwd=str(src.parent),
                progress_bar=False, extra_arguments=KERNEL_ARGS, config=config)
        except Exception as err:    # papermill's own errors and kernel deaths alike
            return _failure(src, failed_copy, err)
    return None


def execute(jobs, staging, log=print, failed_dir=None, workers=2, succeeded=None):
    """Run ``jobs`` ([(source Path, {param: value})]) into ``staging``.

    Notebooks run ``workers`` at a time, each in its own process and kernel
    (kernel start-up dominates the small ones); those that ``runs_alone``
    then run one by one on an otherwise idle machine.  Returns the executed
    copies in the order of ``jobs``; raises NotebookFailed after the first
    failure (no further notebook is started), pointing to the copy in
    ``failed_dir`` (default: ``staging``).  Prints one line per notebook as
    it finishes, with its run time; appends each notebook that ran to the
    end to ``succeeded`` (a list), failure or not.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    staging = Path(staging)
    if not jobs:
        return []
    alone = [job for job in jobs if runs_alone(job[0])]
    batches = [[job for job in jobs if job not in alone]] + [[job] for job in alone]
    with ProcessPoolExecutor(max(1, workers), mp_context=get_context("spawn"), initializer=_ignore_ctrl_c) as pool:
        for batch in batches:
            pending, queue = {}, list(batch)
            while queue or pending:
                while queue and len(pending) < max(1, workers):
                    src, params = queue.pop(0)
                    copy = Path(failed_dir or staging) / src.name
                    fut = pool.submit(_run_one, src, staging / src.name, params, copy)
                    pending[fut] = (src, time.monotonic())
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    src, t0 = pending.pop(fut)
                    message = fut.result()
                    if message:
                        wait(pending)           # let the others finish; start no more
                        if succeeded is not None:
                            succeeded += [s for f, (s, _) in pending.items() if f.result() is None]
                        raise NotebookFailed(message)
                    if succeeded is not None:
                        succeeded.append(src)
                    log(status_line(src, f"{time.monotonic() - t0:.1f} s"), flush=True)
    return [staging / src.name for src, _ in jobs]


def status_line(src, status):
    """The build's one line about a notebook: its name, then ``status``."""
    return f"  {Path(src).stem:<{NAME_WIDTH}} {status}"


def run_all(jobs, out, rerun=False, log=print):
    """Bring ``out/notebooks`` up to date for ``jobs`` ([(source, params)]).

    A notebook whose cache key (``cache.notebook_key``) has a stored run is
    not executed: that run's outputs are combined with the current source
    (so Markdown edits show).  The others run (all of them with ``rerun``);
    those that finish enter the cache.  Only when every notebook succeeded
    are the copies in ``out/notebooks`` replaced, each by one rename.  On a
    failure the executed copies go to ``out/failed``; on Ctrl-C nothing is
    written or cached.  Returns the paths in ``out/notebooks``.
    """
    import nbformat

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    environment = cache.environment_digest()
    sources, keys, results, todo = {}, {}, {}, []
    for src, params in jobs:
        sources[src] = nbformat.read(str(src), as_version=4)
        keys[src] = cache.notebook_key(sources[src], params, environment)
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
        _replace(staging, out / "failed")
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


def computed_at(nb):
    """When the outputs of executed notebook ``nb`` were computed (papermill's
    end time, as 'YYYY-MM-DD HH:MM UTC'), or 'unknown'."""
    end = nb.metadata.get("papermill", {}).get("end_time")
    if not end:
        return "unknown"
    import datetime
    t = datetime.datetime.fromisoformat(end)
    t = t.astimezone(datetime.timezone.utc) if t.tzinfo else t
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _replace(new, dest):
    """Put folder ``new`` at ``dest``, removing what was there."""
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=".old-", dir=dest.parent))
        os.replace(dest, old / dest.name)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(new, dest)

"""Execute notebooks with papermill, one kernel each, two at a time
(timing notebooks alone).

Each notebook runs with its own folder as the working directory, exactly
as when it is opened in Jupyter, so relative paths mean the same in both.
``stage`` decides which notebooks run and where their executed copies go.

Each runs in a worker process, which tells the build process when each
of its code cells starts (``progress.CellEvents``), for the progress line.
A worker stops its notebook and kernel when the build process dies, even
by SIGKILL (Linux: the parent-death signal).
"""

import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from ..exit_status import INTERRUPTED
from .progress import CellEvents, Progress, status_line

# The kernel's "running over TCP without encryption" warning is noise here.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
WORKERS = 2             # notebooks at a time: kernel start-up dominates the small ones
TICK = 0.25             # seconds between looks at the workers while notebooks run
PR_SET_PDEATHSIG = 1    # from <linux/prctl.h>

# In a worker process (set by _start_worker): the build process's id and
# the queue that takes (notebook, cell number, cells) to it.
_parent = None
_events = None


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


def batches(jobs):
    """The order ``jobs`` ([(source, params)]) run in: one batch of those that
    may share the machine (WORKERS at a time), then each that ``runs_alone``
    in a batch of its own; the jobs keep their order within each."""
    alone = [job for job in jobs if runs_alone(job[0])]
    return [[job for job in jobs if job not in alone]] + [[job] for job in alone]


def _start_worker(events, parent):
    """Worker start-up: keep the queue of cell events and the build
    process's id; leave Ctrl-C to the build process while idle
    (``_run_one`` takes it while a notebook runs); and, on Linux, ask
    for SIGINT when the build process dies (then ``_run_one`` stops the
    notebook and its kernel as on Ctrl-C), so that a build killed with
    SIGKILL leaves no worker or kernel running.  The signal comes when the
    thread that started the worker ends: here the build's main thread."""
    global _parent, _events
    _parent, _events = parent, events
    signal.signal(signal.SIGINT, _idle_interrupt)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, int(signal.SIGINT), 0, 0, 0)
        except (OSError, AttributeError):   # no prctl to call: carry on without
            pass
    if _orphaned():                         # the build died before prctl
        os._exit(INTERRUPTED)


def _orphaned():
    """True in a worker whose build process is gone."""
    return _parent is not None and os.getppid() != _parent


def _idle_interrupt(signum, frame):
    """SIGINT in an idle worker: Ctrl-C is the build process's to handle,
    but the parent-death signal means there is no build left to work for."""
    if _orphaned():
        os._exit(INTERRUPTED)


def _run_one(src, dst, params, failed_copy):
    """Run one notebook (in a worker process); None, or the failure message.
    Ctrl-C stops the notebook and its kernel and returns quietly; so does
    the death of the build process, after which the worker exits.

    While it runs, the worker's stderr (which the kernel inherits) goes to
    /dev/null: what reaches it is the teardown noise of the kernel and its
    client after Ctrl-C (seen: a libzmq assertion from the kernel), while
    the notebook's own stderr travels to the executed notebook over the
    kernel's messages and a failure comes back as the returned message."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    saved, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    os.close(quiet)
    try:
        return _papermill(src, dst, params, failed_copy)
    except KeyboardInterrupt:
        return f"notebook {src.name} was interrupted"
    finally:
        signal.signal(signal.SIGINT, _idle_interrupt)
        os.dup2(saved, 2)
        os.close(saved)
        if _orphaned():                 # the kernel is stopped; nobody waits for the result
            os._exit(INTERRUPTED)


def _papermill(src, dst, params, failed_copy):
    """papermill.execute_notebook, with the settings described below."""
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")    # silences a jupyter_core notice
    import papermill
    from traitlets.config import Config

    # Parameters are checked in values.py; papermill's own guesses at the
    # parameters cell ("Passed unknown parameter") would only confuse.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    # papermill passes the hooks on to nbclient (as "engine arguments").
    hooks = CellEvents(src.stem, _events).hooks() if _events is not None else {}
    # Kernels talk over Unix sockets in a private folder: two kernels started
    # at once cannot race for the same TCP port, and no port is opened at all.
    with tempfile.TemporaryDirectory(prefix="kernel-") as sockets:
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(sockets) / "k")
        try:
            papermill.execute_notebook(
                str(src), str(dst), parameters=params, cwd=str(src.parent),
                progress_bar=False, extra_arguments=KERNEL_ARGS, config=config, **hooks)
        except Exception as err:    # papermill's own errors and kernel deaths alike
            return _failure(src, failed_copy, err)
    return None


def execute(jobs, staging, log=print, failed_dir=None, succeeded=None):
    """Run ``jobs`` ([(source Path, {param: value})]) into ``staging``.

    Notebooks run WORKERS at a time, each in its own process and kernel;
    those that ``runs_alone`` then run one by one on an otherwise idle
    machine.  Returns the executed
    copies in the order of ``jobs``; raises NotebookFailed after the first
    failure (no further notebook is started), pointing to the copy in
    ``failed_dir`` (default: ``staging``).  Prints one line per notebook as
    it finishes, with its run time; appends each notebook that ran to the
    end to ``succeeded`` (a list), failure or not.  While a notebook runs
    longer than a few seconds, its progress shows on standard output
    (``progress.Progress``).
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    staging = Path(staging)
    if not jobs:
        return []
    context = get_context("spawn")
    events = context.SimpleQueue()
    with ProcessPoolExecutor(WORKERS, mp_context=context, initializer=_start_worker,
                             initargs=(events, os.getpid())) as pool, Progress() as shown:
        for batch in batches(jobs):
            pending, queue = {}, list(batch)
            while queue or pending:
                while queue and len(pending) < WORKERS:
                    src, params = queue.pop(0)
                    copy = Path(failed_dir or staging) / src.name
                    fut = pool.submit(_run_one, src, staging / src.name, params, copy)
                    pending[fut] = (src, time.monotonic())
                    shown.start(src.stem)
                for fut in _wait(pending, events, shown):
                    src, t0 = pending.pop(fut)
                    message = fut.result()
                    shown.finish(src.stem)
                    if message:
                        _wait(pending, events, shown, until_all=True)   # let the others finish; start no more
                        if succeeded is not None:
                            succeeded += [s for f, (s, _) in pending.items() if f.result() is None]
                        raise NotebookFailed(message)
                    if succeeded is not None:
                        succeeded.append(src)
                    log(status_line(src, f"{time.monotonic() - t0:.1f} s"), flush=True)
    return [staging / src.name for src, _ in jobs]


def _wait(futures, events, shown, until_all=False):
    """The futures that are done, once one is (all of them, with
    ``until_all``); meanwhile the cells that start, from the workers'
    ``events``, show on ``shown``, updated every TICK seconds."""
    from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, wait

    while True:
        done, not_done = wait(futures, timeout=TICK, return_when=ALL_COMPLETED if until_all else FIRST_COMPLETED)
        while not events.empty():
            shown.cell(*events.get())
        if not not_done or (done and not until_all):
            return done
        shown.show()

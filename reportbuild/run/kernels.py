"""Execute notebooks with papermill, one kernel each, two at a time
(timing notebooks alone).

Each notebook runs with its own folder as the working directory, exactly
as when it is opened in Jupyter, so relative paths (``../build/results``)
mean the same in both.  ``stage`` decides which notebooks run and
where their executed copies go.
"""

import logging
import os
import signal
import tempfile
import time
from pathlib import Path


# The kernel's "running over TCP without encryption" warning is noise here.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
NAME_WIDTH = 22
WORKERS = 2             # notebooks at a time: kernel start-up dominates the small ones


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names it, the cell and the copy to open."""


def status_line(src, status):
    """The build's one line about a notebook: its name, then its run time
    or that its outputs were reused."""
    return f"  {Path(src).stem:<{NAME_WIDTH}} {status}"


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


def _ignore_ctrl_c():
    """Worker start-up: an idle worker ignores Ctrl-C (the build process
    handles it); ``_run_one`` takes it while a notebook runs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_one(src, dst, params, failed_copy):
    """Run one notebook (in a worker process); None, or the failure message.
    Ctrl-C stops the notebook and its kernel and returns quietly.

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
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.dup2(saved, 2)
        os.close(saved)


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


def execute(jobs, staging, log=print, failed_dir=None, succeeded=None):
    """Run ``jobs`` ([(source Path, {param: value})]) into ``staging``.

    Notebooks run WORKERS at a time, each in its own process and kernel;
    those that ``runs_alone`` then run one by one on an otherwise idle
    machine.  Returns the executed
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
    with ProcessPoolExecutor(WORKERS, mp_context=get_context("spawn"), initializer=_ignore_ctrl_c) as pool:
        for batch in batches(jobs):
            pending, queue = {}, list(batch)
            while queue or pending:
                while queue and len(pending) < WORKERS:
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

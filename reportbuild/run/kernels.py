"""Execute notebooks with papermill, one kernel each, two at a time
(timing notebooks alone).

Each notebook runs with its own folder as the working directory, exactly
as when it is opened in Jupyter, so relative paths mean the same in both.
``stage`` decides which notebooks run and where their executed copies go.

Each runs in a worker process (``worker``), which tells the build process
when each of its code cells starts, and what a tqdm bar in it says, for
the progress line (``progress``).

Stopping.  A worker stops at once on SIGINT, SIGTERM or SIGHUP, kernel
included (``worker``).  A Ctrl-C reaches the workers with the build
process; a signal to the build process alone (SIGTERM, which ``cli`` turns
into KeyboardInterrupt) is passed on by ``execute``, which then shuts the
pool down (``_stop_workers``).
"""

import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

from .progress import Progress, status_line
from .worker import STOP_SIGNALS, run_one, start_worker

WORKERS = 2             # notebooks at a time: kernel start-up dominates the small ones
TICK = 0.25             # seconds between looks at the workers while notebooks run
STOP_WAIT = 0.6         # seconds the build waits for its workers to stop before it kills them


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names it, the cell and the copy to open."""


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


# --- in the build process ----------------------------------------------------

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
    (``progress.Progress``).  On KeyboardInterrupt (or any other
    exception) the workers and their kernels are stopped before it
    propagates (``_stop_workers``).
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    staging = Path(staging)
    if not jobs:
        return []
    context = get_context("spawn")
    events = context.SimpleQueue()
    with ProcessPoolExecutor(WORKERS, mp_context=context, initializer=start_worker,
                             initargs=(events, os.getpid())) as pool, Progress() as shown:
        try:
            _run_batches(jobs, staging, pool, events, shown, log, failed_dir, succeeded)
        except NotebookFailed:      # the other notebooks have ended
            raise
        except BaseException:
            _stop_workers(pool)
            raise
    return [staging / src.name for src, _ in jobs]


def _run_batches(jobs, staging, pool, events, shown, log, failed_dir, succeeded):
    """The loop of ``execute``: ``batches(jobs)`` one after another on ``pool``."""
    for batch in batches(jobs):
        pending, queue = {}, list(batch)
        while queue or pending:
            while queue and len(pending) < WORKERS:
                src, params = queue.pop(0)
                copy = Path(failed_dir or staging) / src.name
                with _held(STOP_SIGNALS):   # a worker may start here: see worker.start_worker
                    fut = pool.submit(run_one, src, staging / src.name, params, copy)
                pending[fut] = (src, time.monotonic())
                shown.start(src.stem)
            for fut in _wait(pending, events, shown):
                src, t0 = pending.pop(fut)
                message = _outcome(fut, src)
                shown.finish(src.stem)
                if message:
                    _wait(pending, events, shown, until_all=True)   # let the others finish; start no more
                    if succeeded is not None:
                        succeeded += [s for f, (s, _) in pending.items() if _outcome(f, s) is None]
                    raise NotebookFailed(message)
                if succeeded is not None:
                    succeeded.append(src)
                log(status_line(src, f"{time.monotonic() - t0:.1f} s"), flush=True)


def _outcome(fut, src):
    """The result of ``worker.run_one`` for ``src``: a worker that died instead of
    answering (killed, out of memory, a stray signal) is a failure too."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return fut.result()
    except BrokenProcessPool:
        return f"notebook {src.name} could not be run: its worker process stopped (killed, or out of memory?)"


@contextmanager
def _held(signals):
    """``signals`` held back in this thread within the block (delivered on
    leaving it); a process started meanwhile starts with them held."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_workers(pool):
    """Stop the workers of ``pool`` and their kernels now, then shut it down.
    They got the Ctrl-C already when it came from the terminal, but not a
    signal sent to the build process alone; a worker stops at the first
    (``_stop``).  One still starting (its signals held until
    ``worker.start_worker``: it has no kernel yet) or slowed down past STOP_WAIT
    seconds is killed outright.  Quiet: no warning, no traceback."""
    import multiprocessing

    workers = multiprocessing.active_children()     # the pool's: the build starts no other
    for worker in workers:
        try:
            os.kill(worker.pid, signal.SIGINT)
        except OSError:             # ended meanwhile
            pass
    deadline = time.monotonic() + STOP_WAIT
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _wait(futures, events, shown, until_all=False):
    """The futures that are done, once one is (all of them, with
    ``until_all``); meanwhile the cells that start and what their tqdm bars
    say, from the workers' ``events``, show on ``shown``, updated every
    TICK seconds."""
    from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, wait

    while True:
        done, not_done = wait(futures, timeout=TICK, return_when=ALL_COMPLETED if until_all else FIRST_COMPLETED)
        while not events.empty():
            kind, *args = events.get()      # see news.CellEvents
            (shown.cell if kind == "cell" else shown.task)(*args)
        if not not_done or (done and not until_all):
            return done
        shown.show()

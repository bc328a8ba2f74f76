"""The worker process that runs one notebook at a time for ``kernels``
(papermill, one kernel per notebook), and tells the build process when
each of its code cells starts and what a tqdm bar in it says, read from
the kernel's stderr (``news.CellEvents``).

Cells are named by Jupyter's numbers (``news.jupyter_numbers``), in
the progress line and in the message of a failure alike.

Each notebook runs with its own folder as the working directory, exactly
as when it is opened in Jupyter, so relative paths mean the same in both.

Stopping.  A worker stops at once on SIGINT, SIGTERM or SIGHUP, whatever it
is doing: it kills its kernel's process group (SIGKILL: an interrupted run
is thrown away, so nothing is gained by a polite shutdown, which waits up
to 2.5 s for a kernel still starting), removes the kernel's private folder
and exits (``_stop``).  The death of the build process, even by SIGKILL,
sends the workers SIGINT (Linux: the parent-death signal).  For that,
papermill runs in a thread of the worker (``run_one``): in the main
thread, nbclient would take SIGINT for its own polite shutdown.
"""

import functools
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from ..exit_status import INTERRUPTED
from ..processes import signal_on_parent_death
from .news import CellEvents, jupyter_numbers

# The kernel's "running over TCP without encryption" warning is noise here.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
NEWS_TICK = 0.1        # seconds between the main thread's looks at a bar's news held back
LAUNCH_WAIT = 1.0       # seconds a stopping worker waits for a kernel launch under way (a fork: ms)
KILL_WAIT = 0.3         # seconds a stopping worker waits for its killed kernel to be gone

# In a worker process: the build process's id and the queue that takes the
# news of CellEvents to it (set by start_worker); the kernel
# running and its private folder, for _stop; held while a kernel is launched.
_parent = None
_events = None
_kernels = []           # (pid, process group) of the kernel of the notebook running
_folders = []           # its private folder (sockets, connection file)
_launching = threading.Lock()
_stopping = False


def _rel(path):
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _jupyter_number(executed, index):
    """Jupyter's number (``jupyter_numbers``) of cell ``index`` of the
    notebook papermill ran, read from its executed copy ``executed``
    without the cells papermill adds there on a failure; None when that
    copy cannot be read."""
    import nbformat
    from papermill.execute import ERROR_MARKER_TAG

    try:
        cells = nbformat.read(str(executed), as_version=4).cells
    except (OSError, ValueError):
        return None
    cells = [c for c in cells if ERROR_MARKER_TAG not in c.get("metadata", {}).get("tags", [])]
    return jupyter_numbers(cells)[index] if index < len(cells) else None


def _failure(src, executed, copy, err):
    """A message a student can act on, from papermill's exception:
    the failing cell by its Jupyter number, and its ``In [n]`` in the
    executed ``copy`` (which ``executed`` becomes) where that differs."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(err, PapermillExecutionError):
        first = next((ln.strip() for ln in err.source.splitlines() if ln.strip()), "")
        number = _jupyter_number(executed, err.cell_index)
        where = f"cell {number}" if number else f"the cell In [{err.exec_count}] of the executed copy"
        there = ""
        if number and err.exec_count is not None and err.exec_count != number:
            there = f"\n  in that copy the cell is In [{err.exec_count}]: papermill adds a parameters cell there"
        return (f"notebook {src.name} failed in {where}, which starts: {first[:80]}\n"
                f"    {err.ename}: {err.evalue}\n"
                f"  the traceback is in the executed copy, below the red banner: {_rel(copy)}{there}")
    return (f"notebook {src.name} could not be run: {type(err).__name__}: {err}\n"
            f"  the partly executed copy (if any): {_rel(copy)}")


def start_worker(events, parent):
    """Worker start-up: keep the queue of cell events and the build
    process's id; stop on STOP_SIGNALS (``_stop``), which ``execute`` held
    back while this process started (so that a Ctrl-C while it imports
    stops it here, not with a traceback); and, on Linux, ask for SIGINT
    when the build process dies, so that a build killed with SIGKILL leaves
    no worker or kernel running.  That signal comes when the thread that
    started the worker ends: here the build's main thread."""
    global _parent, _events
    _parent, _events = parent, events
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stop)
    signal_on_parent_death(signal.SIGINT)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if _orphaned():                         # the build died before prctl
        _stop(signal.SIGINT, None)


def _orphaned():
    """True in a worker whose build process is gone."""
    return _parent is not None and os.getppid() != _parent


def _stop(signum, frame):
    """STOP_SIGNALS in a worker: kill the kernel (its whole process group,
    at once), remove its private folder and exit.  A kernel being launched
    is waited for first (``_tracked_kernel_manager``).  The run is abandoned:
    the build process stops too, and drops what the run wrote."""
    global _stopping
    if _stopping:                           # a second signal (Ctrl-C, then the one passed on)
        return
    _stopping = True
    _launching.acquire(timeout=LAUNCH_WAIT)
    for pid, group in _kernels:
        _kill(pid, group)
    for folder in _folders:
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(INTERRUPTED)


def _kill(pid, group):
    """SIGKILL to kernel ``pid`` and everything in its process group (it
    leads its own: jupyter_client starts it in a new session); wait up to
    KILL_WAIT seconds for it to be gone."""
    try:
        if group == pid:
            os.killpg(group, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:                         # gone already
        return
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:           # reaped by its Popen meanwhile
            return
        time.sleep(0.005)


@functools.cache
def _tracked_kernel_manager():
    """jupyter_client's AsyncKernelManager that records the kernel it
    launches in ``_kernels`` for ``_stop``, under ``_launching`` so that a
    stop during the launch waits for the kernel's process id, and launches
    none once stopping."""
    from jupyter_client.manager import AsyncKernelManager

    class TrackedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):     # the override point jupyter_client names
            with _launching:
                if _stopping:
                    raise RuntimeError("the build is stopping")
                await super()._async_launch_kernel(kernel_cmd, **kw)
                _kernels.append((self.provisioner.pid, getattr(self.provisioner, "pgid", None)))

    return TrackedKernelManager


def run_one(src, dst, params, failed_copy):
    """Run one notebook (in a worker process); None, or the failure message.

    papermill runs in a thread of its own (see the module's docstring);
    this, the main thread, waits for it, ready for ``_stop``, and sends
    the news of a tqdm bar held back (``CellEvents.send_due``).  While it
    runs, the worker's stderr (which the kernel inherits) goes to
    /dev/null: what reaches it is the teardown noise of the kernel and its
    client, while the notebook's own stderr travels to the executed
    notebook (and to ``CellEvents``) over the kernel's messages and a
    failure comes back as the returned message."""
    saved, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    os.close(quiet)
    outcome = []
    news = CellEvents(src.stem, _events) if _events is not None else None

    def run():
        try:
            outcome.append(_papermill(src, dst, params, failed_copy, news))
        except BaseException as err:  # noqa: BLE001  (_papermill turns every Exception into a message)
            outcome.append(f"notebook {src.name} could not be run: {type(err).__name__}: {err}")

    runner = threading.Thread(target=run, name=f"papermill {src.name}", daemon=True)
    try:
        runner.start()
        while runner.is_alive():
            runner.join(NEWS_TICK)
            if news is not None:
                news.send_due()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return outcome[0]


def _papermill(src, dst, params, failed_copy, news=None):
    """papermill.execute_notebook, with the settings described below;
    ``news`` (a ``CellEvents``, or None) hears of its cells and stderr."""
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")    # silences a jupyter_core notice
    import papermill
    from traitlets.config import Config

    # Parameters are checked in values.py; papermill's own guesses at the
    # parameters cell ("Passed unknown parameter") would only confuse.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    # papermill passes the hooks on to nbclient (as "engine arguments"), and
    # writes each chunk of the kernel's stderr to stderr_file as it comes.
    hooks = {**news.hooks(), "stderr_file": news} if news is not None else {}
    # Kernels talk over Unix sockets in a private folder, which holds the
    # connection file too: two kernels started at once cannot race for the
    # same TCP port, no port is opened at all, and _stop removes the lot.
    with tempfile.TemporaryDirectory(prefix="kernel-") as private:
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(private) / "k")
        config.KernelManager.connection_file = str(Path(private) / "kernel.json")
        _folders.append(private)
        try:
            papermill.execute_notebook(
                str(src), str(dst), parameters=params, cwd=str(src.parent), progress_bar=False,
                extra_arguments=KERNEL_ARGS, config=config, kernel_manager_class=_tracked_kernel_manager(), **hooks)
        except Exception as err:  # noqa: BLE001  (papermill's own errors and kernel deaths alike)
            return _failure(src, dst, failed_copy, err)
        finally:                    # the kernel has stopped (nbclient shut it down)
            _kernels.clear()
            _folders.remove(private)
    return None

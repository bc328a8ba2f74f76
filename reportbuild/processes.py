"""Child processes that end with the build: the signal a child asks for
when its parent dies (Linux), and the SIGKILL of a whole process group."""

import functools
import os
import signal
import sys

PR_SET_PDEATHSIG = 1    # from <linux/prctl.h>


@functools.cache
def _prctl():
    """Linux's prctl(2), or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None


def signal_on_parent_death(signum):
    """Ask for ``signum`` when the parent of this process dies (Linux;
    elsewhere nothing).  True when asked."""
    prctl = _prctl()
    if prctl is None:
        return False
    prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
    return True


def die_with(parent):
    """A ``preexec_fn`` for subprocess: the child gets SIGKILL when
    ``parent`` (this process) dies, even by SIGKILL; None where that
    cannot be asked for."""
    if _prctl() is None:
        return None

    def arm():
        signal_on_parent_death(signal.SIGKILL)
        if os.getppid() != parent:                  # it died before that
            os._exit(1)
    return arm


def kill_group(proc):
    """SIGKILL to the process group that Popen ``proc`` leads
    (start_new_session), then wait for ``proc``."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:                 # gone already
        pass
    proc.wait()

"""The output folder (``build/``) as one unit.

- **One build at a time**: a build holds an exclusive lock on ``OUT/.lock``
  while it uses the folder; a second build says whose lock it is and waits.
  The lock is the operating system's (``flock``), so a killed build never
  leaves it held.
- **Leftovers**: a killed build can leave its working folders behind (every
  name in OUT and OUT/cache that starts with a dot, the lock aside); the
  next build removes them, once it holds the lock.
- **The report set** (REPORT_SET: the PDF, the HTML, the merged notebook,
  the page map, the executed notebooks, the result files and the render
  key) changes all at once or not at all.  A build writes the new set into a
  staging folder ``OUT/.next-*``; ``publish`` then marks it complete and
  moves each entry into place, with Ctrl-C held back.  If the process is
  killed in between, the next build finds the mark and completes the move
  (``clean_leftovers``), so the set is never left half new.
"""

import errno
import fcntl
import json
import os
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .atomic import remove

REPORT_SET = ("report.pdf", "pages.json", "report.html", "report.ipynb", "notebooks", "results", "report.key")
LOCK = ".lock"
STAGING = ".next-"
COMPLETE = ".complete"          # in a staging folder: its set is whole; publishing has begun
OLD = ".replaced"               # in a staging folder: the entries it replaced


class OutputError(RuntimeError):
    """The output folder cannot be used; the message says why and what to do."""


class InterruptedAfterPublish(KeyboardInterrupt):
    """Ctrl-C came while the new report set was being published: it was
    completed first, so the new report is whole."""


def prepare(out):
    """Create ``out`` if need be; OutputError when it is a file or cannot be written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: that is a file, not a folder; choose a folder for the report")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(prefix=".probe-", dir=out)
        probe.close()
    except OSError as e:
        why = "permission denied" if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else e.strerror
        raise OutputError(f"cannot write to the output folder {out}/ ({why}); fix its permissions "
                          "or choose another folder with --out") from None


@contextmanager
def locked(out, say=print):
    """Hold the lock of output folder ``out`` (waiting, with a message, while
    another build holds it); yields the leftovers removed (``clean_leftovers``)."""
    out = Path(out)
    prepare(out)
    with open(out / LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            say(f"==> Waiting: another build is using {out}/ ({holder}); this one starts when it ends",
                flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.seek(0)
        lock.truncate()
        lock.write(f"process {os.getpid()}")
        lock.flush()
        try:
            yield clean_leftovers(out)
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock, fcntl.LOCK_UN)


def clean_leftovers(out):
    """Complete a publish that a killed build began, then remove every other
    working file of an earlier build; returns the names removed.  Call it
    only while holding the lock."""
    out = Path(out)
    removed = []
    for path in sorted(out.glob(f"{STAGING}*")):
        if (path / COMPLETE).exists():
            _move_into_place(out, path)
    for folder in (out, out / "cache"):
        for path in sorted(folder.glob(".*")) if folder.is_dir() else []:
            if path.name == LOCK:
                continue
            removed.append(str(path.relative_to(out)))
            remove(path)
    return removed


def previous_report(out):
    """The sentence a failed or interrupted build ends with: the report set
    of ``out`` is as it was (or there is none yet)."""
    out = Path(out)
    if any((out / name).exists() for name in REPORT_SET):
        return f"The previous report in {out}/ is unchanged."
    return f"No report was written to {out}/."


def new_staging(out):
    """An empty staging folder in ``out`` for the next report set."""
    path = Path(tempfile.mkdtemp(prefix=STAGING, dir=out))
    path.chmod(0o755)                   # mkdtemp makes it private; a report is not
    return path


def discard(staging):
    """Remove a staging folder that will not be published."""
    remove(Path(staging))


def publish(out, staging):
    """Make the entries of ``staging`` the report set of ``out``: each of
    REPORT_SET that ``staging`` holds replaces the published one, and the
    others are removed (they belong to an earlier report).  Returns the
    names removed that way.  Ctrl-C and SIGTERM wait until it is done; a
    Ctrl-C that came meanwhile is then raised as InterruptedAfterPublish."""
    out, staging = Path(out), Path(staging)
    names = [n for n in REPORT_SET if (staging / n).exists()]
    gone = [n for n in REPORT_SET if n not in names and (out / n).exists()]
    with _signals_held() as held:
        (staging / COMPLETE).write_text(json.dumps({"publish": names, "remove": gone}))
        _move_into_place(out, staging)
    if signal.SIGINT in held:
        raise InterruptedAfterPublish()
    return gone


def _move_into_place(out, staging):
    """The second half of ``publish``, which ``clean_leftovers`` repeats
    after a kill: each step is a rename, and a step already done is skipped."""
    plan = json.loads((staging / COMPLETE).read_text())
    old = staging / OLD
    old.mkdir(exist_ok=True)
    for name in plan["publish"] + plan["remove"]:
        new, dest = staging / name, out / name
        if name in plan["publish"] and not new.exists():
            continue                        # moved before the kill
        if dest.exists() and (dest.is_dir() or name in plan["remove"]):
            os.replace(dest, old / name)    # a folder cannot be renamed over
        if name in plan["publish"]:
            os.replace(new, dest)
    remove(staging)


@contextmanager
def _signals_held():
    """Ctrl-C and SIGTERM are held back inside the block; yields the list of
    those that came.  A SIGTERM is delivered again after the block."""
    held, handlers = [], {}

    def hold(signum, frame):
        held.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        handlers[sig] = signal.signal(sig, hold)
    try:
        yield held
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        if signal.SIGTERM in held:
            os.kill(os.getpid(), signal.SIGTERM)


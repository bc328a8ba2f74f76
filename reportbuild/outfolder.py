"""The output folder (``build/``) as one unit, holding only what the tool made.

- **Ownership**: a folder is used as the output folder only when it is new,
  empty, or marked as one by an earlier build (the file MARK, or an older
  version's report.key); any other folder, the notebooks' folder, a folder
  that holds it and one inside it are refused before anything runs
  (``check``).  The tool then removes or replaces only its own names: the
  report set, cache/, failed/, mathjax/, latex.log and its working folders.
- **One build at a time**: a build holds an exclusive lock on ``OUT/.lock``
  while it uses the folder; a second build says whose lock it is and waits.
  The lock is the operating system's (``flock``), so a killed build never
  leaves it held.
- **Leftovers**: a killed build can leave its working folders behind; the
  next build removes them, once it holds the lock.  They are recognised by
  the prefixes the tool gives them (LEFTOVER), never by a leading dot alone.
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
import re
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .atomic import remove
from .keys import file_sha256

MANIFEST = "manifest.json"      # the render key and every file's checksum (``verify``)
REPORT_SET = ("report.pdf", "pages.json", "report.html", "report.ipynb", "notebooks", "results", MANIFEST)
OLDER = ("report.key",)         # what older versions of the tool published in place of MANIFEST
MARK = ".report-folder"         # marks an output folder (``claim``)
SETUP_LOG = "setup.log"         # build_report.sh writes it into build/ before a build marks the folder
LOCK = ".lock"
STAGING = ".next-"
COMPLETE = ".complete"          # in a staging folder: its set is whole; publishing has begun
OLD = ".replaced"               # in a staging folder: the entries it replaced
# The working folders and files a build makes in OUT and OUT/cache, by the
# prefixes it gives them (tempfile's suffixes are [a-z0-9_]): staging,
# runs, renders, the MathJax copy, the write probe, replaced folders,
# write_atomic's temporary files, and a stored run being entered.
LEFTOVER = re.compile(r"\.(next|run|render|mathjax|probe|old)-[a-z0-9_]+|\.(latex\.log|setup\.log)\.[a-z0-9_]+")
CACHE_LEFTOVER = re.compile(r"\.old-[a-z0-9_]+|\.[A-Za-z0-9_]+-[0-9a-f]{20}-[a-z0-9_]+")
MARK_TEXT = ("This folder is the output folder of build_report.sh (python -m reportbuild).\n"
             "A build removes or replaces only what it made here: the report set "
             f"({', '.join(REPORT_SET)}),\n"
             "cache/, failed/, mathjax/, latex.log and its own working folders (.next-*, .run-*, .render-*).\n")


class OutputError(RuntimeError):
    """The output folder cannot be used; the message says why and what to do."""


class InterruptedAfterPublish(KeyboardInterrupt):
    """Ctrl-C came while the new report set was being published: it was
    completed first, so the new report is whole."""


def is_marked(out):
    """Whether folder ``out`` is an output folder of this tool: it holds the
    MARK, or the render key that versions before the MARK published."""
    return any((Path(out) / name).is_file() for name in (MARK, *OLDER))


def check(out, notebooks):
    """OutputError unless ``out`` may be used as the output folder of a build
    of ``notebooks``: it must be new, empty or marked (``is_marked``), and
    neither the notebooks' folder, nor a folder holding it, nor one inside
    it.  Creates nothing, so ``--check`` refuses exactly what a build would."""
    out, notebooks = Path(out), Path(notebooks)
    where, nbs = out.resolve(), notebooks.resolve()
    if where == nbs or where in nbs.parents:
        what = "is the notebooks' folder" if where == nbs else f"holds the notebooks ({notebooks}/)"
        raise OutputError(f"--out {out}: that folder {what}; a build writes and removes files in its "
                          "output folder, so choose a folder of its own, such as build")
    if nbs in where.parents:
        raise OutputError(f"--out {out}: that folder is inside the notebooks' folder {notebooks}/, where "
                          "the build would read its own output as notebooks; choose a folder outside it, "
                          "such as build")
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: that is a file, not a folder; choose a folder for the report")
    if out.is_dir() and not is_marked(out):
        try:
            names = sorted(p.name for p in out.iterdir())
        except OSError as e:
            raise OutputError(f"cannot read the output folder {out}/ ({e.strerror.lower()}); "
                              "choose another folder with --out") from None
        foreign = [n for n in names if n != SETUP_LOG]
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputError(f"--out {out}: that folder already holds files this tool did not make "
                              f"({shown}); a build removes and replaces files in its output folder, so it "
                              "uses only a new or empty folder, or one an earlier build made (marked by its "
                              f"{MARK} file); choose another folder")


def prepare(out):
    """Create ``out`` if need be and mark it as the tool's (``MARK``);
    OutputError when it cannot be written, saying why."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=".probe-", dir=out):
            pass
        if not (out / MARK).is_file():
            (out / MARK).write_text(MARK_TEXT, encoding="utf-8")
    except OSError as e:
        raise OutputError(f"cannot write to the output folder {out}/ ({why_not_written(e)}); "
                          "choose another folder with --out") from None


def check_writable(out):
    """OutputError, worded as ``prepare``'s, when ``out`` (or the folder
    that would hold it) cannot be written; writes nothing (``--check``)."""
    out = Path(out)
    here = out
    while not here.exists() and here != here.parent:
        here = here.parent
    if os.access(here, os.W_OK | os.X_OK):
        return
    try:
        read_only = bool(os.statvfs(here).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    code = errno.EROFS if read_only else errno.EACCES
    raise OutputError(f"cannot write to the output folder {out}/ ({WRITE_ERRORS[code]}); "
                      "choose another folder with --out")


WRITE_ERRORS = {errno.EROFS: "it is on a read-only file system",
                errno.ENOSPC: "no space is left on the device",
                errno.EDQUOT: "the disk quota is used up",
                errno.EACCES: "permission denied: fix its permissions",
                errno.EPERM: "operation not permitted: fix its permissions"}


def why_not_written(err):
    """What an OSError of a write means, in words a student can act on.
    shutil.copytree's Error carries no errno, only the texts of the errors
    it collected: those are matched against the system's own wording."""
    code = err.errno
    if code is None:
        code = next((c for c in WRITE_ERRORS if os.strerror(c) in str(err)), None)
    return WRITE_ERRORS.get(code, (err.strerror or str(err)[:200]).lower())


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
    """Complete a publish that a killed build began, then remove the other
    working files of an earlier build (the names LEFTOVER and
    CACHE_LEFTOVER match; nothing else); returns the names removed.  Call
    it only while holding the lock."""
    out = Path(out)
    removed = []
    for path in sorted(out.glob(f"{STAGING}*")):
        if (path / COMPLETE).exists():
            _move_into_place(out, path)
    for folder, pattern in ((out, LEFTOVER), (out / "cache", CACHE_LEFTOVER)):
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if pattern.fullmatch(path.name):
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
    names removed that way.  Ctrl-C, SIGTERM and SIGHUP wait until it is
    done; one that came meanwhile is then raised as InterruptedAfterPublish."""
    out, staging = Path(out), Path(staging)
    names = [n for n in REPORT_SET if (staging / n).exists()]
    gone = [n for n in REPORT_SET + OLDER if n not in names and (out / n).exists()]
    with _signals_held() as held:
        (staging / COMPLETE).write_text(json.dumps({"publish": names, "remove": gone}))
        _move_into_place(out, staging)
    if held:
        raise InterruptedAfterPublish()
    return [n for n in gone if n not in OLDER]


def checksums(folder):
    """{path relative to ``folder``: SHA-256} of every file of the report
    set in ``folder``, the manifest aside."""
    folder, sums = Path(folder), {}
    for name in REPORT_SET:
        path = folder / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for f in files:
            if f.name != MANIFEST or f.parent != folder:
                sums[f.relative_to(folder).as_posix()] = file_sha256(f)
    return sums


def write_manifest(staging, render_key, inputs=None):
    """Record the render key, its ingredients ``inputs`` (``keys.render_inputs``:
    for ``--check`` to say what changed) and every file's checksum of the
    report set in ``staging`` in its MANIFEST, last, once the set is whole."""
    sums = checksums(staging)
    record = {"render_key": render_key, "files": sums, **({"inputs": inputs} if inputs else {})}
    (Path(staging) / MANIFEST).write_text(json.dumps(record, indent=1))


def read_manifest(out):
    """The MANIFEST of the report published in ``out`` ({"render_key",
    "files", maybe "inputs"}), or None when there is none that can be read."""
    try:
        manifest = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
        if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict) and "render_key" in manifest:
            return manifest
    except (OSError, ValueError):
        pass
    return None


def verify(out, render_key, staging):
    """(up to date, damaged): whether the report set published in ``out`` is
    the one ``render_key`` would render, with the executed notebooks and
    saved files that ``staging`` holds now, every file as its manifest
    records it; ``damaged`` lists the published files that are missing,
    changed or not in the manifest although the key matches (a damaged set,
    to be repaired by publishing it anew)."""
    out, staging = Path(out), Path(staging)
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        recorded, key = dict(manifest["files"]), manifest["render_key"]
    except (OSError, ValueError, KeyError, TypeError):
        return False, []
    if key != render_key:
        return False, []
    now = checksums(out)
    damaged = sorted(n for n in set(recorded) | set(now) if recorded.get(n) != now.get(n))
    fresh = {n: s for n, s in checksums(staging).items() if n.split("/")[0] in ("notebooks", "results")}
    same_runs = fresh == {n: s for n, s in recorded.items() if n.split("/")[0] in ("notebooks", "results")}
    return not damaged and same_runs, damaged


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
    """Ctrl-C, SIGTERM and SIGHUP are held back inside the block; yields the
    list of those that came."""
    held, handlers = [], {}

    def hold(signum, frame):
        held.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        handlers[sig] = signal.signal(sig, hold)
    try:
        yield held
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


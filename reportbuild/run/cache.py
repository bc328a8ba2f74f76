"""The stored runs: a notebook runs again only when its run key
(``keys.run_key``: its code, its values, helpers/, requirements.txt, the
Python version) has no stored run.

A stored run is a folder ``OUT/cache/NAME-KEY/`` holding everything the run
produced: the executed notebook (``notebook.ipynb``, which records the
checksum of each saved file) and the files it saved (``results/``).  It
enters the cache, in one rename, only after the notebook ran to the end; a
failed or interrupted run stores nothing.  An entry that cannot be read, or
whose saved files are missing or changed, counts as no entry (``lookup``
says why and removes it), so the notebook simply runs again.

Markdown is not in the key: a prose edit reuses the stored outputs, and
``combine`` puts the current Markdown around them.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat.reader import NotJSONError

from ..atomic import remove, replace_folder
from ..executed import (
    RUN_RECORD,
    record_run_key,
    recorded_checksums,
    recorded_results,
    recorded_run_key,
)
from ..keys import file_sha256

KEEP = 3                # stored runs kept per notebook (the least recently used go first)
NOTEBOOK = "notebook.ipynb"
RESULTS = "results"


class Entry:
    """A stored run: ``notebook`` (the executed notebook, read) and
    ``results`` (its folder of saved files, which may not exist)."""

    def __init__(self, path, notebook):
        self.path, self.notebook = Path(path), notebook
        self.results = self.path / RESULTS


def entry(out, src, key):
    """The folder where the run of notebook file ``src`` under ``key`` is stored."""
    return Path(out) / "cache" / f"{Path(src).stem}-{key}"


def lookup(out, src, key, warn=print):
    """The stored run (an Entry) of ``src`` under ``key``, or None.  An entry
    that cannot be read, that records another key, or whose saved files are
    missing or changed, is removed, with a warning through ``warn``, and
    counts as none."""
    found, why = peek(out, src, key)
    if why:
        path = entry(out, src, key)
        warn(f"warning: the stored run {path.relative_to(Path(out))}/ is unusable ({why}); "
             f"it was removed and {Path(src).stem} runs again")
        remove(path)
    if found is not None:
        os.utime(found.path)        # most recently used: kept longest
    return found


def peek(out, src, key):
    """(Entry or None, why it is unusable or ''): ``lookup`` without its
    effects (for ``--check``): nothing is removed or touched."""
    path = entry(out, src, key)
    if not path.is_dir():
        return None, ""
    try:
        nb = nbformat.read(str(path / NOTEBOOK), as_version=4)
        if recorded_run_key(nb) != key:
            raise ValueError(f"it records the run key {recorded_run_key(nb)}")
        _check_saved_files(path, nb)
    except Exception as e:  # noqa: BLE001  (unreadable, truncated, not a notebook, a saved file gone: alike)
        why = " ".join(str(e).split())
        return None, ("its notebook is not valid JSON" if isinstance(e, NotJSONError) else
                      str(e) if isinstance(e, _Damaged) else
                      f"{type(e).__name__}: {why[:60]}{'...' if len(why) > 60 else ''}" if why else type(e).__name__)
    return Entry(path, nb), ""


def stored_runs(out, src):
    """The folders of the stored runs of ``src``, the most recently used first."""
    name = re.compile(re.escape(Path(src).stem) + r"-[0-9a-f]{20}")
    folder = Path(out) / "cache"
    runs = [p for p in folder.iterdir() if name.fullmatch(p.name) and p.is_dir()] if folder.is_dir() else []
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)


def recorded_inputs(nb):
    """The ingredients of the run key that executed notebook ``nb`` was
    stored under (``keys.run_inputs``), or {} for a run stored before they
    were recorded."""
    inputs = nb.metadata.get(RUN_RECORD, {}).get("inputs", {})
    return inputs if isinstance(inputs, dict) else {}


class _Damaged(ValueError):
    """A stored run's saved file is missing or changed; the message names it."""


def _check_saved_files(path, nb):
    """_Damaged unless every file the stored run at ``path`` (its notebook
    ``nb``) saved is there, with the checksum recorded when it was stored."""
    sums = recorded_checksums(nb)
    for name in recorded_results(nb):
        saved = path / RESULTS / name
        if not saved.is_file():
            raise _Damaged(f"its saved file {RESULTS}/{name} is missing")
        if name in sums and file_sha256(saved) != sums[name]:
            raise _Damaged(f"its saved file {RESULTS}/{name} changed since the run")


def store(out, src, key, executed, results=None, inputs=None):
    """Store the run of ``src`` under ``key``: the executed notebook (file
    ``executed``) and the folder ``results`` (moved in, when given and
    present); ``inputs`` (``keys.run_inputs()``, when given) is recorded with
    the key.  Keeps the KEEP most recently used runs of that notebook.
    Returns the Entry."""
    nb = nbformat.read(str(executed), as_version=4)
    record_run_key(nb, key, {name: file_sha256(Path(results) / name) for name in _files(results)} if results else {})
    if inputs:
        nb.metadata[RUN_RECORD]["inputs"] = dict(inputs)
    dest = entry(out, src, key)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))   # a leftover if killed
    (tmp / NOTEBOOK).write_text(nbformat.writes(nb), encoding="utf-8")
    if results and Path(results).is_dir():
        shutil.move(str(results), str(tmp / RESULTS))
    tmp.chmod(0o755)
    replace_folder(tmp, dest)
    evict(out, src)
    return Entry(dest, nb)


def evict(out, src):
    """Remove all but the KEEP most recently used stored runs of ``src``
    (the oldest go), counting files left by earlier versions of the tool,
    which stored the notebook alone."""
    name = re.compile(re.escape(Path(src).stem) + r"-[0-9a-f]{20}(\.ipynb)?")
    folder = Path(out) / "cache"
    runs = [p for p in folder.iterdir() if name.fullmatch(p.name)]
    runs.sort(key=lambda p: p.stat().st_mtime, reverse=True)      # newest first
    for old in runs[KEEP:]:
        remove(old)


def _files(folder):
    """The names of the files under ``folder``, relative to it."""
    folder = Path(folder)
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []


def combine(source, executed):
    """The source notebook with the outputs of ``executed`` (an earlier run of
    the same code): Markdown and cell tags from the source, outputs, papermill's
    injected-parameters cell and run facts from the run.  ValueError when the
    code cells differ."""
    ran = [c for c in executed.cells if c.cell_type == "code"]
    injected = [c for c in ran if "injected-parameters" in c.metadata.get("tags", [])]
    ran = [c for c in ran if c not in injected]
    code = [c for c in source.cells if c.cell_type == "code"]
    if [c.source for c in code] != [c.source for c in ran]:
        raise ValueError("the code cells differ from those of the run")
    outputs = iter(ran)
    cells = []
    if not any("parameters" in c.metadata.get("tags", []) for c in code):
        cells += injected           # papermill puts it first when there is no parameters cell
    for cell in source.cells:
        cell = nbformat.from_dict(dict(cell))
        if cell.cell_type == "code":
            done = next(outputs)
            cell.outputs, cell.execution_count = done.outputs, done.execution_count
        cells.append(cell)
        if "parameters" in cell.metadata.get("tags", []):
            cells += injected
    nb = nbformat.from_dict(dict(source))
    nb.cells = cells
    for name in ("papermill", RUN_RECORD):
        if name in executed.metadata:
            nb.metadata[name] = executed.metadata[name]
    return nb

"""The stored runs: a notebook runs again only when its run key
(``keys.run_key``: its code, its values, helpers/, requirements.txt, the
Python version) has no stored run.

Markdown is not in the key: a prose edit reuses the stored outputs, and
``combine`` puts the current Markdown around them.  A notebook enters the
cache (``OUT/cache/NAME-KEY.ipynb``) only after it ran to the end; a failed
or interrupted run stores nothing.
"""

import os
from pathlib import Path

import nbformat

from ..atomic import write_atomic
from ..executed import RUN_RECORD, record_run_key

KEEP = 3                # cached runs kept per notebook (older ones are removed)


def entry(out, src, key):
    """Where the run of notebook file ``src`` with ``key`` is cached."""
    return Path(out) / "cache" / f"{Path(src).stem}-{key}.ipynb"


def lookup(out, src, key):
    """The cached executed notebook for ``key``, or None."""
    path = entry(out, src, key)
    if not path.exists():
        return None
    os.utime(path)          # most recently used: kept longest
    return nbformat.read(str(path), as_version=4)


def store(out, src, key, executed):
    """Put an executed notebook (read from ``executed``) into the cache,
    keeping only the KEEP most recently used runs of that notebook."""
    nb = nbformat.read(str(executed), as_version=4)
    record_run_key(nb, key)
    path = entry(out, src, key)
    write_atomic(path, nbformat.writes(nb))
    runs = sorted(path.parent.glob(f"{Path(src).stem}-*.ipynb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[KEEP:]:
        old.unlink(missing_ok=True)
    return nb


def combine(source, executed):
    """The source notebook with the outputs of ``executed`` (an earlier run of
    the same code): Markdown and cell tags from the source, outputs, papermill's
    injected-parameters cell and run facts from the run."""
    ran = [c for c in executed.cells if c.cell_type == "code"]
    injected = [c for c in ran if "injected-parameters" in c.metadata.get("tags", [])]
    ran = [c for c in ran if c not in injected]
    code = [c for c in source.cells if c.cell_type == "code"]
    assert [c.source for c in code] == [c.source for c in ran], "combine: the code differs from the run's"
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

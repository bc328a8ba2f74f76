"""The execution cache: a notebook runs again only when something that can
change its outputs has changed.

The key of a notebook hashes everything its outputs depend on:

    its code cells (and which one is the parameters cell),
    the parameter values it runs with,
    every file of the helpers package,
    requirements.txt and the Python version.

Markdown is not in the key: a prose edit reuses the stored outputs, and
``combine`` puts the current Markdown around them.  A notebook enters the
cache (``OUT/cache/NAME-KEY.ipynb``) only after it ran to the end; a failed
or interrupted run stores nothing.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import nbformat

from .render import write_atomic

PACKAGE = Path(__file__).resolve().parents[1]       # helpers/
REQUIREMENTS = PACKAGE.parent / "requirements.txt"
KEEP = 3                # cached runs kept per notebook (older ones are removed)
FORMAT = 1              # bump when the key's recipe changes


def digest(*parts):
    """SHA-256 of ``parts`` (bytes, or anything str() turns into text), each
    ended by a NUL so that no two lists of parts run together."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def environment_digest(package=PACKAGE, requirements=REQUIREMENTS):
    """One hash of the helpers package's files, requirements.txt and the
    Python version: a change in any of them reruns every notebook."""
    files = sorted(p for p in Path(package).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    parts = [FORMAT, sys.version]
    for p in files:
        parts += [p.relative_to(package).as_posix(), p.read_bytes()]
    req = Path(requirements)
    parts += ["requirements.txt", req.read_bytes() if req.exists() else b""]
    return digest(*parts)


def notebook_key(nb, params, environment):
    """The cache key of notebook ``nb`` run with ``params`` ({name: value})."""
    code = [(c.source, "parameters" in c.metadata.get("tags", []))
            for c in nb.cells if c.cell_type == "code"]
    return digest(environment, json.dumps(code), json.dumps(params, sort_keys=True, default=repr))[:20]


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
    nb.metadata["report_cache"] = {"key": key}
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
    for name in ("papermill", "report_cache"):
        if name in executed.metadata:
            nb.metadata[name] = executed.metadata[name]
    return nb

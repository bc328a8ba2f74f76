"""The two keys of the build, each a hash of exactly what can change the
output of its stage.

run key (one per notebook; ``run.cache`` stores runs under it)
    the notebook's code cells (and which one is the parameters cell), the
    parameter values it runs with, every file of the ``helpers`` package,
    requirements.txt and the Python version (and notebooks/quick.json, for
    a run with ``quick`` True).  Markdown is not in it: a
    prose edit reuses the stored outputs.
render key (one per report; ``render.stage`` skips an unchanged render)
    the executed notebooks, the title settings and build facts, whether a
    PDF is wanted, and the tool itself: every file of ``reportbuild``
    (its code and templates) and ``helpers/claims.py``, which defines the
    claim outputs the merge counts.  The code listings of the report are
    outputs of the executed notebooks, so they are in the key through them.

An edit of a template or of the tool therefore renders the report again
and runs no notebook; an edit of ``helpers`` runs every notebook again.

A key is a hash, so it cannot say what changed.  Beside each key the build
records its ingredients (``run_inputs``, ``render_inputs``: one entry per
ingredient), and ``--check`` compares them to say why a notebook would run
or the report be rendered again.
"""

import hashlib
import json
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parent             # reportbuild/
ROOT = TOOL.parent                                  # the checkout
HELPERS = ROOT / "helpers"
REQUIREMENTS = ROOT / "requirements.txt"
CLAIMS = HELPERS / "claims.py"
QUICK = ROOT / "notebooks" / "quick.json"          # the sizes a notebook's quick = True reads (helpers/quick.py)
FORMAT = 2              # bump when a key's recipe changes


def digest(*parts):
    """SHA-256 of ``parts`` (bytes, or anything str() turns into text), each
    ended by a NUL so that no two lists of parts run together."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def file_sha256(path):
    """SHA-256 of the bytes of file ``path``, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _files(folder):
    """[relative name, bytes, ...] of every file under ``folder``, sorted,
    without Python's caches."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    return [x for p in files for x in (p.relative_to(folder).as_posix(), p.read_bytes())]


def run_inputs():
    """{ingredient: digest} of what every notebook's run depends on besides
    its own code and values: ``helpers`` (the package's files),
    ``requirements`` (requirements.txt) and ``python`` (the version), which
    a stored run records (``run.cache.store``) so that ``--check`` can say
    which of them changed."""
    return {"helpers": digest(*_files(HELPERS)),
            "requirements": digest(REQUIREMENTS.read_bytes() if REQUIREMENTS.exists() else b""),
            "python": sys.version}


def run_inputs_digest():
    """One hash of what every notebook's run depends on besides its own code
    and values: the helpers package, requirements.txt and the Python version."""
    return digest(FORMAT, sys.version, *_files(HELPERS),
                  "requirements.txt", REQUIREMENTS.read_bytes() if REQUIREMENTS.exists() else b"")


def code_cells(nb):
    """[(source, is the parameters cell)] of the code cells of notebook
    ``nb``, papermill's injected-parameters cell left out (an executed
    notebook gives the list its source gave): the code in the run key."""
    return [(c.source, "parameters" in c.metadata.get("tags", [])) for c in nb.cells
            if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]


def value_text(value):
    """A parameter value as the run key reads it (JSON; tuples as lists)."""
    return json.dumps(value, sort_keys=True, default=repr)


def run_key(nb, params, run_inputs):
    """The run key of notebook ``nb`` run with ``params`` ({name: value});
    ``run_inputs`` is ``run_inputs_digest()``.  A run with ``quick`` True
    reads its sizes from notebooks/quick.json, so that file is in its key."""
    quick = [QUICK.read_bytes() if QUICK.exists() else b""] if params.get("quick") is True else []
    return digest(run_inputs, json.dumps(code_cells(nb)), value_text(params), *quick)[:20]


def render_key(executed, info, no_pdf):
    """The render key of a report made from ``executed`` ([Path] of executed
    notebooks, in order) with title-page data ``info``."""
    return digest(FORMAT, *_files(TOOL), CLAIMS.read_bytes(), json.dumps(info, sort_keys=True),
                  no_pdf, *(p.read_bytes() for p in executed))


def render_inputs(info, no_pdf):
    """{ingredient: value} of the render key besides the executed notebooks
    (which the manifest lists file by file): ``tool`` (a digest of
    reportbuild/ and helpers/claims.py), ``info`` (the title-page data) and
    ``pdf``; the manifest records them (``outfolder.write_manifest``)."""
    return {"tool": digest(*_files(TOOL), CLAIMS.read_bytes()), "info": info, "pdf": not no_pdf}

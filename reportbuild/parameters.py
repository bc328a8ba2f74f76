"""Notebook parameters: read what each notebook's `parameters` cell declares.

A parameters cell holds plain annotated literals with a comment each::

    timing_d: int = 8000  # matrix size for part 1f
    tol: float = 1e-10    # stopping tolerance [0..1]

The comment is the help text.  An optional ``[lo..hi]`` at its end sets the
allowed range (either end may be left out: ``[1..]``).  Without one, int
parameters named like sizes or counts (d0, d1, timing_d, n_iter, N, repeats,
..._size, num_...) must be >= 1 and seeds >= 0.

The cell is found and read by papermill's ``inspect_notebook`` (the same
reader that injects the values), which takes one declaration per line; an
optional type is written ``Optional[float]``, not ``float | None``.
Overrides are checked against these declarations in ``values``.  The
render stage reads the same cell back from each executed notebook.
"""

import ast
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path


class ParamError(ValueError):
    """A parameter problem the student can fix from the message alone."""


RANGE = re.compile(r"\[\s*(-?[\d.e+-]*)\s*\.\.\s*(-?[\d.e+-]*)\s*\]\s*$")
SIZE_LIKE = re.compile(
    r"^(d\d*|n|m|k|\w+_d\d*|n_\w+|num_\w+|\w*(size|count|len|iters?|steps|repeats|reps|"
    r"trials|samples|points)|\w+_n)$", re.IGNORECASE)
KINDS = {"int", "float", "bool", "str", "list", "tuple", "dict"}


@dataclass
class Param:
    """One parameter declared in a notebook's parameters cell."""
    name: str
    kind: str            # int, float, bool, str, list, tuple, dict or any
    nullable: bool       # annotated `X | None` / Optional[X] (or default None)
    default: object
    annotation: str      # as written, e.g. "int"; "" when not annotated
    comment: str         # help text, without any range spec
    written: str = ""    # the default as written, e.g. "1e12"
    lo: float = None
    hi: float = None

    def range_text(self):
        """``'>= 1'``, ``'0..1'`` or ``''``."""
        lo, hi = (f"{v:g}" if v is not None else None for v in (self.lo, self.hi))
        if lo is not None and hi is not None:
            return f"{lo}..{hi}"
        return f">= {lo}" if lo is not None else (f"<= {hi}" if hi is not None else "")


def _kind(annotation, default):
    """(kind, nullable) from an annotation string, else from the default."""
    ann = annotation.replace(" ", "")
    nullable = default is None
    m = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", ann)
    if m:
        ann, nullable = m.group(1), True
    parts = [p for p in ann.split("|") if p]
    if "None" in parts:
        parts.remove("None")
        nullable = True
    base = re.split(r"\[", parts[0])[0].lower() if len(parts) == 1 else ""
    if base in KINDS:
        return base, nullable
    tname = type(default).__name__
    return (tname if tname in KINDS else "any"), nullable


def _declared_names(source, where):
    """The names the cell assigns, in order (a syntax error raises ParamError)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ParamError(f"{where}: the parameters cell is not valid Python ({e.msg}, line {e.lineno})") from None
    names = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            names.append(node.target.id)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            names.append(node.targets[0].id)
    return names


def _param(found, where):
    """A Param from one entry of papermill's ``inspect_notebook``
    ({name, inferred_type_name, default, help}, the default as written)."""
    name, written = found["name"], found["default"]
    try:
        default = ast.literal_eval(written)
    except (ValueError, SyntaxError):
        raise ParamError(
            f"{where}: parameter {name!r} must default to a plain literal, not `{written}`; "
            "compute derived values in the next cell so that overrides flow through") from None
    annotation = "" if found["inferred_type_name"] == "None" else found["inferred_type_name"]
    kind, nullable = _kind(annotation, default)
    p = Param(name, kind, nullable, default, annotation, found["help"], written)
    _set_range(p)
    return p


def _set_range(p):
    """Range from a ``[lo..hi]`` comment suffix, else from the naming rule."""
    m = RANGE.search(p.comment)
    if m:
        p.comment = p.comment[:m.start()].rstrip()
        conv = int if p.kind == "int" else float
        p.lo, p.hi = (conv(g) if g else None for g in m.groups())
    elif p.kind == "int" and isinstance(p.default, int):
        lo = 0 if re.search(r"(^|_)seed$", p.name) else (1 if SIZE_LIKE.match(p.name) else None)
        if lo is not None and p.default >= lo:   # a default outside means the rule does not fit
            p.lo = lo


def read_params(path):
    """The Params the cell tagged ``parameters`` of notebook file ``path``
    declares ([] without one), found by papermill's ``inspect_notebook``,
    the reader papermill itself uses to inject values; this module adds the
    types, ranges and messages."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ParamError(f"cannot read notebook {path}: {e}") from None
    cell = next((c for c in nb.get("cells", []) if c.get("cell_type") == "code"
                 and "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return []
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    names = _declared_names(source, path.name)
    logging.getLogger("papermill").setLevel(logging.ERROR)   # we report unreadable lines ourselves
    from papermill import inspect_notebook

    try:
        found = inspect_notebook(str(path))
    except ValueError as e:         # e.g. no kernelspec, so no language to read the cell in
        raise ParamError(f"cannot read the parameters of {path}: {e}") from None
    unread = [n for n in names if n not in found]
    if unread:
        raise ParamError(f"{path.name}: cannot read the declaration of {', '.join(unread)} in the parameters "
                         "cell; write each on one line as `name: type = value  # help [lo..hi]` "
                         "(an optional type as `Optional[float]`)")
    return [_param(found[n], path.name) for n in names]


def load_quick(directory):
    """The overrides in ``directory/quick.json`` ({} when there is none)."""
    path = Path(directory) / "quick.json"
    if not path.exists():
        return {}
    try:
        quick = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ParamError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(quick, dict):
        raise ParamError(f"{path} must hold a JSON object {{\"name\": value, ...}}")
    return quick

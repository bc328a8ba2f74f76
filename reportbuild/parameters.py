"""Notebook parameters: read what each notebook's `parameters` cell declares.

A parameters cell holds plain annotated literals with a comment each::

    timing_d: int = 8000  # matrix size for part 1f [1..]
    tol: float = 1e-14    # stopping tolerance (0..1)
    x_max: float = 1e12   # largest x tested (x_min..]
    device: str = "cpu"   # where to time {cpu, cuda}

The comment is the help text.  What may end it, the spec of the values
that mean something:

    range    OPEN LO .. HI CLOSE, OPEN one of [ ( and CLOSE one of ] ),
             [ and ] keeping the end, ( and ) leaving it out, as in
             mathematics: [1..] is >= 1, (0..] is > 0, [0..1) is 0 <= v < 1.
             LO and HI are numbers, or the name of another number
             parameter of the same notebook ((x_min..] is > x_min, checked
             once every value is known); either may be left out.  A range
             on a list parameter applies to each item.
    choices  {a, b, ...}: a str parameter takes one of these words.

Without a range, int parameters named like sizes or counts (d0, d1,
timing_d, n_iter, N, repeats, ..._size, num_...) must be >= 1 and seeds
>= 0.  A list parameter must be non-empty unless its default is empty, and
its items have the kind of the default's items (int when they all are).  A
str parameter named ``..._dir`` is a folder relative to the project folder
and must stay inside it (``Param.is_folder``).

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
import unicodedata
from dataclasses import dataclass
from pathlib import Path


class ParamError(ValueError):
    """A parameter problem the student can fix from the message alone."""


MAX_DIGITS = 4300       # the longest integer read (Python's own limit for int(str))
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
ODD_CATEGORIES = {"Cc": "the control character {}", "Cs": "a byte that is not UTF-8 ({})",
                  "Co": "the private-use character {}", "Cn": "the unassigned code point {}",
                  "Zl": "the line separator {}", "Zp": "the paragraph separator {}"}


def shown(value, limit=60):
    """``value`` for a one-line message: a str as typed when it is plain
    (printable, not empty, no space at either end), anything else as its
    repr (so a line break shows as \\n); cut to ``limit`` characters,
    saying how long it was."""
    if isinstance(value, str) and value and value.isprintable() and value == value.strip():
        text = value
    else:
        try:
            text = repr(value)
        except ValueError:          # an int past Python's int-string limit
            text = f"<an integer of {value.bit_length()} bits>"
    if len(text) > limit:
        text = f"{text[:limit - 3]}... ({len(text)} characters)"
    return text


def odd_character(text):
    """Why ``text`` is not one line of printable text: 'it holds a line
    break (U+000A)', 'it holds the control character U+0007', ...; ''
    when it is.  Spaces, letters of every script and joiners (such as
    U+200D) are fine."""
    for ch in text:
        code = f"U+{ord(ch):04X}"
        if ch in LINE_BREAKS:
            return f"it holds a line break ({code})"
        what = ODD_CATEGORIES.get(unicodedata.category(ch))
        if what:
            return "it holds " + what.format(code)
    return ""


BOUND = r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_]\w*"   # a number or a parameter's name
RANGE = re.compile(rf"([\[(])\s*({BOUND})?\s*\.\.\s*({BOUND})?\s*([\])])\s*$")
LOOKS_LIKE_RANGE = re.compile(r"[\[(][^\[\]()]*\.\.[^\[\]()]*[\])]?\s*$")
CHOICES = re.compile(r"\{([^{}]*)\}\s*$")
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
    lo: object = None    # lower bound: a number, another parameter's name, or None
    hi: object = None    # upper bound, likewise
    lo_open: bool = False   # True: the bound itself is left out, v > lo
    hi_open: bool = False
    choices: tuple = ()     # the words a str parameter may take; () for any

    @property
    def is_list(self):
        """True for list and tuple parameters."""
        return self.kind in ("list", "tuple")

    @property
    def is_folder(self):
        """True for a str parameter named ``..._dir``: a folder relative to
        the project folder, which must stay inside it."""
        return self.kind == "str" and self.name.endswith("_dir")

    @property
    def non_empty(self):
        """True for a list parameter that must hold an item (its default does)."""
        return self.is_list and isinstance(self.default, (list, tuple)) and len(self.default) > 0

    @property
    def item_kind(self):
        """'int' or 'float' for a list whose default holds only such numbers
        ('int' when every one is an int); None otherwise."""
        items = self.default if self.is_list and isinstance(self.default, (list, tuple)) else ()
        if not items or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            return None
        return "int" if all(isinstance(v, int) for v in items) else "float"

    def bound_text(self):
        """The range alone: ``'>= 1'``, ``'> x_min'``, ``'0..1'``, ``'> 0 and < 1'`` or ``''``."""
        lo, hi = (v if v is None or isinstance(v, str) else f"{v:g}" for v in (self.lo, self.hi))
        lo_op, hi_op = (">" if self.lo_open else ">="), ("<" if self.hi_open else "<=")
        if lo is not None and hi is not None:
            return f"{lo}..{hi}" if (lo_op, hi_op) == (">=", "<=") else f"{lo_op} {lo} and {hi_op} {hi}"
        return f"{lo_op} {lo}" if lo is not None else (f"{hi_op} {hi}" if hi is not None else "")

    def range_text(self):
        """What values mean something, as --help shows it: ``'>= 1'``,
        ``'> 0 and < 1'``, ``'one of cpu, cuda'``, ``'non-empty; each > 0'``,
        ``'a folder inside the project'``, or ``''``."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.is_folder:
            return "a folder inside the project"
        bounds = self.bound_text()
        if self.is_list:
            items = ("integers" if self.item_kind == "int" else "", f"each {bounds}" if bounds else "")
            return "; ".join(x for x in ("non-empty" if self.non_empty else "", ", ".join(i for i in items if i)) if x)
        return bounds


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
    _set_spec(p, where)
    return p


def _number(text):
    """A range end as written: an int where it is one, else a float."""
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _set_spec(p, where):
    """Range or choices from the comment's end, else the naming rule."""
    m = RANGE.search(p.comment)
    c = CHOICES.search(p.comment)
    if m:
        p.comment = p.comment[:m.start()].rstrip()
        opening, lo, hi, closing = m.groups()
        if p.kind not in ("int", "float") and not p.is_list:
            raise ParamError(f"{where}: {p.name} is a {p.kind} parameter, so it takes no range "
                             f"`{m.group(0).strip()}` (a range is for int, float and list parameters)")
        p.lo, p.hi = (None if g is None else g if g[0].isalpha() or g[0] == "_" else _number(g)
                      for g in (lo, hi))
        p.lo_open, p.hi_open = opening == "(", closing == ")"
        if isinstance(p.lo, (int, float)) and isinstance(p.hi, (int, float)) and p.lo > p.hi:
            raise ParamError(f"{where}: {p.name}'s range `{m.group(0).strip()}` is empty ({p.lo:g} > {p.hi:g})")
    elif c:
        p.comment = p.comment[:c.start()].rstrip()
        words = tuple(w.strip().strip("\"'") for w in c.group(1).split(","))
        if p.kind != "str" or not all(words):
            raise ParamError(f"{where}: {p.name}: choices `{{{c.group(1)}}}` need a str parameter and "
                             "words between commas, as in `{cpu, cuda}`")
        p.choices = words
    elif LOOKS_LIKE_RANGE.search(p.comment):
        raise ParamError(f"{where}: {p.name}: cannot read the range at the end of `{p.comment}`; write "
                         "[lo..hi] with ( or ) for an end left out, each end a number, another "
                         "parameter's name or nothing, as in (0..1] or (x_min..]")
    elif p.kind == "int" and isinstance(p.default, int):
        lo = 0 if re.search(r"(^|_)seed$", p.name) else (1 if SIZE_LIKE.match(p.name) else None)
        if lo is not None and p.default >= lo:   # a default outside means the rule does not fit
            p.lo = lo


def _check_references(params, where):
    """Every range end that names a parameter names a number parameter of
    the same notebook, not itself."""
    numbers = {p.name for p in params if p.kind in ("int", "float")}
    for p in params:
        for ref in (p.lo, p.hi):
            if isinstance(ref, str) and (ref not in numbers or ref == p.name):
                raise ParamError(f"{where}: the range of {p.name} names {ref!r}, which is not another "
                                 f"int or float parameter of this notebook ({', '.join(sorted(numbers)) or 'none'})")


def read_notebook(path):
    """The JSON of notebook file ``path`` as a dict, or ParamError saying
    why it cannot be read or is not a notebook."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ParamError(f"cannot read notebook {path}: its JSON nests too deeply") from None
    except (OSError, ValueError) as e:      # UnicodeDecodeError, JSONDecodeError, too long an integer
        raise ParamError(f"cannot read notebook {path}: {e}") from None
    if not (isinstance(nb, dict) and nb.get("nbformat") == 4 and isinstance(nb.get("metadata"), dict)
            and isinstance(nb.get("cells"), list)
            and all(isinstance(c, dict) and isinstance(c.get("metadata", {}), dict) for c in nb["cells"])):
        raise ParamError(f"{path} is not a Jupyter notebook "
                         "(expected a JSON object with 'cells', 'metadata', 'nbformat' 4)")
    return nb


def _list(value):
    """``value`` where it is a list, else [] (a notebook's tags, as written)."""
    return value if isinstance(value, list) else []


def read_params(path):
    """The Params the cell tagged ``parameters`` of notebook file ``path``
    declares ([] without one), found by papermill's ``inspect_notebook``,
    the reader papermill itself uses to inject values; this module adds the
    types, ranges, choices and messages."""
    path = Path(path)
    nb = read_notebook(path)
    cell = next((c for c in nb["cells"] if c.get("cell_type") == "code"
                 and "parameters" in _list(c.get("metadata", {}).get("tags", []))), None)
    if cell is None:
        return []
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) and all(isinstance(s, str) for s in source) else source
    if not isinstance(source, str):
        raise ParamError(f"{path} is not a Jupyter notebook: its parameters cell's source is not text")
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
    params = [_param(found[n], path.name) for n in names]
    _check_references(params, path.name)
    return params


def load_quick(directory):
    """The overrides in ``directory/quick.json`` ({} when there is none);
    ParamError when it cannot be read or is not a JSON object (its values
    are checked against the declarations by ``values.resolve``)."""
    path = Path(directory) / "quick.json"
    expected = 'expected a JSON object of parameter values, such as {"timing_d": 600}'
    if not path.exists():
        return {}
    if not path.is_file():
        raise ParamError(f"{path} is not a file: {expected}")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ParamError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ParamError(f"{path} is not UTF-8 text (byte 0x{data[e.start]:02x} at position {e.start}): "
                         f"{expected}") from None
    try:
        quick = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParamError(f"{path} is not valid JSON: {e}") from None
    except RecursionError:
        raise ParamError(f"{path}: its JSON nests too deeply: {expected}") from None
    except ValueError:              # the only other one: an integer past the int-string limit
        raise ParamError(f"{path} holds an integer of more than {MAX_DIGITS} digits: {expected}") from None
    if not isinstance(quick, dict):
        raise ParamError(f"{path} must hold a JSON object {{\"name\": value, ...}}, not {shown(quick)}")
    return quick

"""Parameter values: parse ``-p NAME VALUE`` strings, check them against the
declarations (``parameters.Param``: type, range, choices, list items,
folders), work out the values each notebook runs with (default <
quick.json with --quick < -p), and print them.
"""

import ast
import difflib
import math
import re
from pathlib import Path

from . import keys
from .parameters import MAX_DIGITS, ParamError, odd_character, shown

INT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*")        # as Python writes an int: 1000, -5, 1_000
LITERAL_ERRORS = (ValueError, SyntaxError, TypeError, MemoryError, RecursionError)   # ast.literal_eval's


def python_literal(value):
    """``value`` as a short Python literal: 1e12 rather than 1000000000000.0."""
    if isinstance(value, float):
        short = f"{value:g}".replace("e+", "e")
        return short if float(short) == value and len(short) < len(repr(value)) else repr(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(python_literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    return repr(value)


def as_written(p, value):
    """``value`` of parameter ``p`` as --help, --check and the report print
    it: the default as the notebook writes it, another value as a short
    Python literal."""
    return p.written if value == p.default and p.written else python_literal(value)


def written(value, limit=80):
    """``value`` as a Python literal for a message, cut to ``limit`` characters (``shown``)."""
    return shown(repr(value) if isinstance(value, str) else value, limit)


def _example(p, kind):
    """The declaration as the notebook writes it, for a message: ``d0: int = 300``."""
    return f"`{p.name}: {p.annotation or kind} = {shown(p.written or p.default)}`"


def parse_value(p, text):
    """Turn the command-line string ``text`` into a value for ``p``, or
    raise ParamError naming ``-p NAME``, the text (``shown``: one line) and
    what was expected.  ``check_value`` checks the value afterwards."""
    t = text.strip()
    given = f"-p {p.name} {shown(text)}"
    if p.nullable and t.lower() in ("none", "null"):
        return None
    if p.kind == "bool":
        table = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
        if t.lower() not in table:
            raise ParamError(f"{given}: expected a bool (true/false)")
        return table[t.lower()]
    if p.kind == "int":
        if not INT.fullmatch(t):
            raise ParamError(f"{given}: expected an integer, as in {_example(p, 'int')}")
        digits = len(t.lstrip("+-").replace("_", ""))
        if digits > MAX_DIGITS:
            raise ParamError(f"{given}: expected an integer of at most {MAX_DIGITS} digits, not {digits}")
        return int(t)
    if p.kind == "float":
        try:
            return float(t)     # 1e999 and nan are read, and refused by check_value
        except ValueError:
            raise ParamError(f"{given}: expected a number (float), as in {_example(p, 'float')}") from None
    if p.kind == "str":
        return text
    if p.is_list and t and t[0] not in "[({":
        return _comma_list(p, t, given)
    try:
        value = ast.literal_eval(t)
        return list(value) if p.kind == "list" and isinstance(value, tuple) else value    # (10, 100): a list too
    except LITERAL_ERRORS:
        if p.kind == "any":
            return text
        longest = max((len(run.replace("_", "")) for run in re.findall(r"[0-9][0-9_]*", t)), default=0)
        why = f" (with numbers of at most {MAX_DIGITS} digits)" if longest > MAX_DIGITS else ""
        raise ParamError(f"{given}: expected a Python {p.kind} literal{why}, as in {_example(p, p.kind)}") from None


ITEMS = {"int": ("an integer", "integers"), "float": ("a number", "numbers"), "str": ("a word", "words"),
         None: ("a Python literal", "Python literals")}


def _item_kind(p):
    """What the items of list parameter ``p`` are read as: 'int', 'float',
    'str' (its default holds only strings) or None (Python literals)."""
    items = p.default if isinstance(p.default, (list, tuple)) else ()
    if p.item_kind:
        return p.item_kind
    return "str" if items and all(isinstance(v, str) for v in items) else None


def _read_item(kind, text):
    """Item ``text`` (stripped) of a comma list, read as ``kind``
    (``_item_kind``); ValueError, saying why, when it is not one."""
    if not text:
        raise ValueError("is empty")
    if kind == "int":
        if not INT.fullmatch(text):
            raise ValueError("is not an integer")
        if len(text.lstrip("+-").replace("_", "")) > MAX_DIGITS:
            raise ValueError(f"is not an integer of at most {MAX_DIGITS} digits")
        return int(text)
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError("is not a number") from None
    if kind == "str":
        return text
    try:
        return ast.literal_eval(text)
    except LITERAL_ERRORS:
        return text                 # a bare word: the text itself


def _comma_list(p, t, given):
    """``10,100`` for list parameter ``p``: a list (a tuple for a tuple
    parameter) of the items between the commas, each read as the default's
    items are (``_item_kind``); a trailing comma is allowed.  ParamError
    naming the item that cannot be read and what was expected."""
    kind = _item_kind(p)
    items = t.split(",")
    if len(items) > 1 and not items[-1].strip():
        items.pop()
    values = []
    for i, item in enumerate(items, 1):
        try:
            values.append(_read_item(kind, item.strip()))
        except ValueError as e:
            example = ",".join(python_literal(v) for v in p.default[:2]) if p.non_empty else ""
            which = f"item {i}" if item.strip() else f"item {i} of {len(items)}"
            raise ParamError(f"{given}: {which}{f' ({shown(item.strip())})' if item.strip() else ''} {e}; expected "
                             f"{ITEMS[kind][1]} separated by commas"
                             + (f", as in -p {p.name} {example}" if example else "")) from None
    return tuple(values) if p.kind == "tuple" else values


def _fits_float(number):
    """Whether int ``number`` converts to a float (no OverflowError)."""
    try:
        float(number)
    except OverflowError:
        return False
    return True


def _within(p, v, lo, hi):
    """Whether number ``v`` lies in ``p``'s range with ends ``lo`` and ``hi``
    (numbers or None: that end is open-ended)."""
    return ((lo is None or (v > lo if p.lo_open else v >= lo))
            and (hi is None or (v < hi if p.hi_open else v <= hi)))


def _numeric_bounds(p):
    """``p``'s range ends that are numbers (an end naming a parameter: None)."""
    return tuple(None if isinstance(b, str) else b for b in (p.lo, p.hi))


def _check_folder(p, value, bad):
    """A folder value must name a folder inside the project (keys.ROOT),
    relative to it, or absolute but inside it."""
    root = keys.ROOT.resolve()
    if not value.strip():
        raise bad("is no folder: expected a folder relative to the project folder, such as scratch/results")
    try:
        where = (root / Path(value).expanduser()).resolve()
    except (OSError, RuntimeError, ValueError) as e:    # ~nobody, a symlink loop, a NUL
        raise bad(f"cannot be used as a folder ({e}): expected a folder relative to the project "
                  "folder, such as scratch/results") from None
    if where != root and root not in where.parents:
        raise bad(f"is outside the project folder {root}: expected a folder inside it, written "
                  "relative to it (such as scratch/results)")


def _check_items(p, value, bad):
    """A list value: non-empty where the default is, items of the default's
    kind, each in ``p``'s numeric range."""
    if p.non_empty and len(value) == 0:
        raise bad("is empty: expected at least one item (the default has some)")
    lo, hi = _numeric_bounds(p)
    numeric = p.item_kind or p.lo is not None or p.hi is not None
    for item in value if numeric else ():
        if isinstance(item, bool) or not isinstance(item, int if p.item_kind == "int" else (int, float)):
            raise bad(f"holds {item!r}: expected {'integers' if p.item_kind == 'int' else 'numbers'} only")
        if isinstance(item, float) and not math.isfinite(item):
            raise bad(f"holds {item!r}: expected finite numbers")
        if p.item_kind == "float" and isinstance(item, int) and not _fits_float(item):
            raise bad(f"holds {shown(item)}, too large for a float: expected finite numbers")
        if not _within(p, item, lo, hi):
            raise bad(f"holds {shown(item)}, out of range: each item must be {p.bound_text()}")


def check_value(p, value, source):
    """Return ``value`` converted for ``p``, or raise naming ``source``.
    Checks the type, the numeric range (an end naming another parameter is
    checked by ``resolve``), the choices, a list's items and a folder."""
    def bad(why):
        return ParamError(f"{source}: {p.name} = {written(value)} {why}")
    if value is None:
        if p.nullable or p.kind == "any":
            return None
        raise bad(f"is not allowed (expected {p.kind})")
    ok = {"int": isinstance(value, int) and not isinstance(value, bool),
          "float": isinstance(value, (int, float)) and not isinstance(value, bool),
          "bool": isinstance(value, bool), "str": isinstance(value, str),
          "list": isinstance(value, list), "tuple": isinstance(value, (list, tuple)),
          "dict": isinstance(value, dict)}.get(p.kind, True)
    if not ok:
        raise bad(f"has the wrong type: expected {p.kind}, got {type(value).__name__}")
    if p.kind == "float":
        if isinstance(value, int) and not _fits_float(value):
            raise bad("is too large: expected a finite number (float)")
        value = float(value)
        if not math.isfinite(value):
            raise bad("is not a finite number")
    if p.kind == "tuple":
        value = tuple(value)
    if p.kind in ("int", "float") and not _within(p, value, *_numeric_bounds(p)):
        raise bad(f"is out of range: allowed {p.range_text()}")
    if p.is_list:
        _check_items(p, value, bad)
    if p.kind == "str" and odd_character(value):
        raise bad(f"cannot be used: {odd_character(value)}; expected one line of printable text")
    if p.choices and value not in p.choices:
        raise bad(f"is not one of the choices: {', '.join(p.choices)}")
    if p.is_folder:
        _check_folder(p, value, bad)
    return value


def _check_references(nb, params, values, sources):
    """Problems with range ends that name another parameter, now that
    every value of notebook ``nb`` is known (sources: {name: where from})."""
    by_name = {p.name: p for p in params}
    problems = []
    for p in params:
        for ref, is_lo in ((p.lo, True), (p.hi, False)):
            if not isinstance(ref, str) or values[p.name] is None or values[ref] is None:
                continue
            items = values[p.name] if p.is_list else [values[p.name]]
            bounds = (values[ref], None) if is_lo else (None, values[ref])
            if not all(_within(p, v, *bounds) for v in items):
                op = (">" if p.lo_open else ">=") if is_lo else ("<" if p.hi_open else "<=")
                problems.append(
                    f"{nb}: {p.name} = {as_written(p, values[p.name])} ({sources[p.name]}) must "
                    f"{'have every item' if p.is_list else 'be'} {op} {ref} = "
                    f"{as_written(by_name[ref], values[ref])} ({sources[ref]})")
    return problems


def _notebooks_text(names):
    """'a.ipynb', 'a.ipynb and b.ipynb', 'a.ipynb, b.ipynb and c.ipynb'."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def resolve(declared, quick=None, overrides=(), selected=None):
    """Effective values per selected notebook.

    declared: {notebook name: [Param]} for EVERY notebook, so that a name
    is unknown only when no notebook declares it; quick: {name: value}
    (JSON-typed); overrides: [(name, text)] from -p, later ones winning;
    selected: the notebook names to compute values for (None: all), as
    --parts chose them.  A -p name that only left-out notebooks declare is
    an error; a quick.json name that no notebook declares is a warning.
    Defaults are checked too, and range ends naming another parameter once
    all of a notebook's values are known.
    Returns ({notebook: {name: value}} for the selected notebooks, in the
    order of ``declared``, [warnings]).  Raises ParamError listing every
    problem before anything runs.
    """
    if selected is not None and set(selected) - set(declared):
        raise ValueError(f"resolve: selected names notebooks that declared lacks: "
                         f"{', '.join(sorted(set(selected) - set(declared)))}")
    chosen = [nb for nb in declared if selected is None or nb in selected]
    by_name = {}
    for nb, params in declared.items():
        for p in params:
            by_name.setdefault(p.name, []).append(nb)
    errors, warnings = [], []
    for name, _ in overrides:
        if name not in by_name:
            close = difflib.get_close_matches(name, by_name, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(f"-p {shown(name)}: no notebook declares a parameter {shown(repr(name))}{hint}; "
                          f"known: {', '.join(sorted(by_name)) or 'none'}")
        elif not set(by_name[name]) & set(chosen):
            owners = by_name[name]
            errors.append(f"-p {name}: only {_notebooks_text(owners)} declare{'s' if len(owners) == 1 else ''} "
                          f"it, and --parts leaves {'it' if len(owners) == 1 else 'them'} out")
    for name in quick or {}:
        if name not in by_name:
            warnings.append(f"quick.json sets {shown(repr(name))}, which no notebook declares (ignored)")
    effective, unreadable = {}, set()     # unreadable: the -p (name, text) already reported
    for nb in chosen:
        values, sources, before = {}, {}, len(errors)
        for p in declared[nb]:
            values[p.name], sources[p.name] = p.default, "its default"
            try:
                check_value(p, p.default, f"{nb} (its default)")
                if quick and p.name in quick:
                    values[p.name] = check_value(p, quick[p.name], "quick.json")   # one line for all
                    sources[p.name] = "from quick.json"
                for name, text in overrides:
                    if name == p.name:
                        try:
                            value = parse_value(p, text)
                        except ParamError as e:     # once, not once per notebook declaring it
                            if (name, text) not in unreadable:
                                unreadable.add((name, text))
                                errors.append(str(e))
                            break
                        values[p.name] = check_value(p, value, f"-p {name}")
                        sources[p.name] = f"from -p {name}"
            except ParamError as e:
                errors.append(str(e))
        if len(errors) == before:           # each value fine alone: now the ends naming others
            errors += _check_references(nb, declared[nb], values, sources)
        effective[nb] = values
    if errors:
        raise ParamError("\n".join(dict.fromkeys(errors)))
    return effective, warnings

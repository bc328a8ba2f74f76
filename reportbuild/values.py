"""Parameter values: parse ``-p NAME VALUE`` strings, check types and ranges
against the declarations (``parameters.Param``), work out the values each
notebook runs with (default < quick.json with --quick < -p), and print them.
"""

import ast
import difflib
import math
import re

from .parameters import ParamError


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


def parse_value(p, text):
    """Turn the command-line string ``text`` into a value for ``p``."""
    t = text.strip()
    if p.nullable and t.lower() in ("none", "null"):
        return None
    if p.kind == "bool":
        table = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
        if t.lower() not in table:
            raise ParamError(f"-p {p.name} {text}: expected a bool (true/false)")
        return table[t.lower()]
    if p.kind == "int":
        if not re.fullmatch(r"[+-]?\d[\d_]*", t):
            raise ParamError(f"-p {p.name} {text}: expected an integer, as in `{p.name}: {p.annotation or 'int'} = {p.default!r}`")
        return int(t)
    if p.kind == "float":
        try:
            return float(t)
        except ValueError:
            raise ParamError(f"-p {p.name} {text}: expected a number (float)") from None
    if p.kind == "str":
        return text
    try:
        return ast.literal_eval(t)
    except (ValueError, SyntaxError):
        if p.kind == "any":
            return text
        raise ParamError(f"-p {p.name} {text}: expected a Python {p.kind} literal") from None


def check_value(p, value, source):
    """Return ``value`` converted for ``p``, or raise naming ``source``."""
    def bad(why):
        return ParamError(f"{source}: {p.name} = {value!r} {why}")
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
        value = float(value)
        if math.isnan(value):
            raise bad("is not a number")
    if p.kind == "tuple":
        value = tuple(value)
    if p.kind in ("int", "float") and ((p.lo is not None and value < p.lo) or (p.hi is not None and value > p.hi)):
        raise bad(f"is out of range: allowed {p.range_text()}")
    return value


def resolve(declared, quick=None, overrides=()):
    """Effective values per notebook.

    declared: {notebook name: [Param]}; quick: {name: value} (JSON-typed);
    overrides: [(name, text)] from -p, later ones winning.
    Returns ({notebook: {name: value}}, [warnings]).  Raises ParamError
    listing every problem before anything runs.
    """
    by_name = {}
    for nb, params in declared.items():
        for p in params:
            by_name.setdefault(p.name, []).append((nb, p))
    errors, warnings = [], []
    for name, _ in overrides:
        if name not in by_name:
            close = difflib.get_close_matches(name, by_name, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(f"-p {name}: no notebook declares a parameter {name!r}{hint}; "
                          f"known: {', '.join(sorted(by_name)) or 'none'}")
    for name in quick or {}:
        if name not in by_name:
            warnings.append(f"quick.json sets {name!r}, which no notebook declares (ignored)")
    effective = {}
    for nb, params in declared.items():
        values = {}
        for p in params:
            values[p.name] = p.default
            try:
                if quick and p.name in quick:
                    values[p.name] = check_value(p, quick[p.name], f"quick.json ({nb})")
                for name, text in overrides:
                    if name == p.name:
                        values[p.name] = check_value(p, parse_value(p, text), f"-p {name}")
            except ParamError as e:
                errors.append(str(e))
        effective[nb] = values
    if errors:
        raise ParamError("\n".join(dict.fromkeys(errors)))
    return effective, warnings

"""Peak memory and run time: what a notebook will need at its parameter
values, against what the machine has and an hour, checked before anything
runs.

A notebook may declare its estimated peak memory, in bytes, and its
estimated run time, in seconds, in its metadata, each as an arithmetic
expression in its parameter names::

    "report": {"run_alone": true, "peak_memory": "52 * timing_d**2 + 4e8",
               "run_seconds": "4e-10 * slow_repeats * timing_d**3 + 5"}

The expression may use numbers, the notebook's number parameters, + - * /
// **, min/max (of several numbers, or of one list parameter) and len/sum
(of one list parameter: its number of items, their total); nothing else is
evaluated.  Each formula is fitted to the notebook's own
computation measured at a few sizes: the peak resident set (its constant
covers the kernel, NumPy and PyTorch), or the run time on a 2-core machine
(its constant covers the kernel's start and the imports), so it is an
estimate, a little on the high side.
"""

import ast
import math
import operator
from pathlib import Path

import psutil

from .parameters import ParamError, read_notebook
from .values import python_literal

KEY = "peak_memory"             # in the notebook's metadata["report"]: bytes
TIME_KEY = "run_seconds"        # likewise: seconds
TIME_LIMIT_S = 3600.0           # a notebook estimated to run longer is refused (--ignore-time)
TIME_LIMIT_TEXT = "1 h"         # TIME_LIMIT_S in words
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow}
FUNCTIONS = {"min": min, "max": max, "len": len, "sum": sum}
OF_A_LIST = {"len", "sum"}      # these take one list parameter only
ALLOWED = "numbers, its parameter names, + - * / // **, min/max and len/sum of a list"


def expression(path, key=KEY):
    """The expression notebook ``path`` declares under metadata report.``key``
    (peak_memory by default, or run_seconds), or None."""
    report = read_notebook(path)["metadata"].get("report", {})
    text = report.get(key) if isinstance(report, dict) else None
    if text is not None and not isinstance(text, str):
        raise ParamError(f"{Path(path).name}: metadata report.{key} must be a string, an expression "
                         f"such as \"56 * timing_d**2 + 4e8\", not {text!r}")
    return text


def _evaluate(node, values, bad):
    """The value of expression node ``node`` (floats, so that no power of
    big integers runs for long); ``bad(why)`` makes the error to raise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise bad(f"{node.id!r} is not one of its parameters")
        v = values[node.id]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise bad(f"{node.id} = {v!r} is not a number")
        return float(v)
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_evaluate(node.left, values, bad), _evaluate(node.right, values, bad))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _evaluate(node.operand, values, bad)
        return -v if isinstance(node.op, ast.USub) else v
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            and node.args and not node.keywords):
        if len(node.args) == 1 and isinstance(node.args[0], ast.Name) \
                and isinstance(values.get(node.args[0].id), (list, tuple)):     # max(few_inputs)
            items = values[node.args[0].id]
            if not items and node.func.id not in OF_A_LIST:
                raise bad(f"{node.func.id}({node.args[0].id}) of an empty list")
            return float(FUNCTIONS[node.func.id]([_evaluate(ast.Constant(v), {}, bad) for v in items]))
        if node.func.id in OF_A_LIST:
            raise bad(f"`{ast.unparse(node)}`: {node.func.id} takes one list parameter")
        return FUNCTIONS[node.func.id](_evaluate(a, values, bad) for a in node.args)
    raise bad(f"`{ast.unparse(node)}` is not allowed (only {ALLOWED})")


def _names(tree):
    """The parameter names an expression uses, in the order it writes them, once each."""
    names = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS),
                   key=lambda n: n.col_offset)
    return list(dict.fromkeys(n.id for n in names))


def _estimate(path, values, key=KEY):
    """(bytes or seconds, names used) from the expression of notebook
    ``path`` under report.``key`` at ``values`` ({name: value}), or
    (None, []) when it declares none."""
    text = expression(path, key)
    if text is None:
        return None, []
    name = Path(path).name
    unit = "bytes" if key == KEY else "seconds"

    def bad(why):
        return ParamError(f"{name}: cannot evaluate metadata report.{key} `{text}`: {why}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        raise bad(f"not an expression ({e.msg})") from None
    try:
        result = _evaluate(tree.body, values, bad)
    except ParamError:
        raise
    except OverflowError:                           # sizes like 10**200: more than any machine has
        result = math.inf
    except (ArithmeticError, ValueError) as e:      # 1 / 0
        raise bad(str(e) or type(e).__name__) from None
    if math.isnan(result) or result < 0:
        raise bad(f"it gives {result}, not a number of {unit}")
    return result, _names(tree)


def estimate(path, values):
    """The estimated peak memory in bytes of notebook ``path`` run with
    ``values`` ({name: value}), or None when it declares no estimate.
    ParamError (naming the notebook) for an expression that cannot be
    evaluated."""
    return _estimate(path, values)[0]


def run_time(path, values):
    """The estimated run time in seconds of notebook ``path`` run with
    ``values`` ({name: value}), or None when it declares no estimate
    (metadata report.run_seconds).  ParamError as for ``estimate``."""
    return _estimate(path, values, TIME_KEY)[0]


def duration_text(seconds):
    """A run time in words: 'about 40 s', 'about 40 min', 'about 3 h',
    'about 12 days', 'about 300 years', or 'longer than any machine can run'."""
    if math.isinf(seconds):
        return "longer than any machine can run"
    for unit, size, up_to in (("s", 1, 90), ("min", 60, 90 * 60), ("h", 3600, 48 * 3600),
                              ("days", 86400, 730 * 86400), ("years", 365.25 * 86400, math.inf)):
        if seconds < up_to:
            amount = seconds / size
            return f"about {amount:.0f} {unit}" if amount < 1e6 else f"about {amount:.1g} {unit}"
    return "longer than any machine can run"    # unreachable: the last bound is inf


def available():
    """Bytes of memory available to new work without swapping (psutil's
    ``virtual_memory().available``: MemAvailable on Linux, free plus
    inactive pages on macOS), or None when it cannot be read."""
    try:
        free = psutil.virtual_memory().available
    except (OSError, RuntimeError, AttributeError, NotImplementedError):   # no /proc, an unsupported system
        return None
    return int(free) if isinstance(free, (int, float)) and free > 0 else None


def _refuse_over(jobs, key, limit, too_much, why, flag, advice, override):
    """The notebooks of ``jobs`` ([(notebook Path, {name: value})]) whose
    estimate under report.``key`` exceeds ``limit``: ParamError naming each,
    how much (``too_much(estimate)``), the values that drive it, ``why``
    that is too much and ``advice``; with ``override`` (``flag`` was
    given), those messages, saying that it runs anyway, for the caller to
    print as warnings."""
    problems = []
    for path, values in jobs:
        need, names = _estimate(path, values, key)
        if need is not None and need > limit:
            sizes = ", ".join(f"{n}={python_literal(values[n])}" for n in names)
            problems.append(f"{Path(path).name} {too_much(need)} at {sizes} (its estimate), {why}; " +
                            (f"running it anyway ({flag})" if override else f"{advice}, or pass {flag} to run anyway"))
    if problems and not override:
        raise ParamError("\n".join(problems))
    return problems


def _needs(need):
    return "needs " + ("more memory than any machine has" if math.isinf(need) else f"about {need / 1e9:.1f} GB")


def check_memory(jobs, override=False):
    """Check that each notebook of ``jobs`` ([(notebook Path, {name: value})])
    fits in the memory available now.  Raises ParamError naming every one
    whose estimate exceeds it, with both numbers in GB and the values that
    drive the estimate; with ``override`` (--ignore-memory) returns those
    messages instead (saying that it runs anyway), for the caller to print
    as warnings.  Returns [] when
    all fit or the available memory is unknown."""
    free = available()
    if free is None:
        return []
    return _refuse_over(jobs, KEY, free, _needs, f"but {free / 1e9:.1f} GB of memory is available",
                        "--ignore-memory", "use smaller sizes", override)


def check_run_time(jobs, override=False):
    """Check that each notebook of ``jobs`` ([(notebook Path, {name: value})])
    is estimated to run within TIME_LIMIT_S (an hour).  Raises ParamError
    naming every one whose estimate exceeds it, with the estimate in words
    and the values that drive it; with ``override`` (--ignore-time) returns
    those messages instead (saying that it runs anyway), for the caller to
    print as warnings.  Returns [] when all fit."""
    return _refuse_over(jobs, TIME_KEY, TIME_LIMIT_S, lambda need: f"would run for {duration_text(need)}",
                        f"more than the limit of {TIME_LIMIT_TEXT}", "--ignore-time", "use smaller values", override)

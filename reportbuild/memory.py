"""Peak memory: what a notebook will need at its parameter values, against
what the machine has, checked before anything runs.

A notebook may declare its estimated peak memory, in bytes, in its
metadata, as an arithmetic expression in its parameter names::

    "report": {"run_alone": true, "peak_memory": "52 * timing_d**2 + 4e8"}

The expression may use numbers, the notebook's number parameters, + - * /
// ** and min/max (of several numbers, or of one list parameter); nothing
else is evaluated.  Each formula is fitted to the peak resident set of the
notebook's own computation measured at a few sizes (its constant covers the
kernel, NumPy and PyTorch), so it is an estimate, a little on the high side.
"""

import ast
import math
import operator
from pathlib import Path

from .parameters import ParamError, read_notebook
from .values import python_literal

KEY = "peak_memory"             # in the notebook's metadata["report"]
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
             ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow}
FUNCTIONS = {"min": min, "max": max}
ALLOWED = "numbers, its parameter names, + - * / // ** and min/max"


def expression(path):
    """The peak_memory expression notebook ``path`` declares, or None."""
    report = read_notebook(path)["metadata"].get("report", {})
    text = report.get(KEY) if isinstance(report, dict) else None
    if text is not None and not isinstance(text, str):
        raise ParamError(f"{Path(path).name}: metadata report.{KEY} must be a string, an expression "
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
            if not items:
                raise bad(f"{node.func.id}({node.args[0].id}) of an empty list")
            return float(FUNCTIONS[node.func.id](_evaluate(ast.Constant(v), {}, bad) for v in items))
        return FUNCTIONS[node.func.id](_evaluate(a, values, bad) for a in node.args)
    raise bad(f"`{ast.unparse(node)}` is not allowed (only {ALLOWED})")


def _names(tree):
    """The parameter names an expression uses, in order, once each."""
    return list(dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                              and n.id not in FUNCTIONS))


def _estimate(path, values):
    """(bytes, names used) from the expression of notebook ``path`` at
    ``values`` ({name: value}), or (None, []) when it declares none."""
    text = expression(path)
    if text is None:
        return None, []
    name = Path(path).name

    def bad(why):
        return ParamError(f"{name}: cannot evaluate metadata report.{KEY} `{text}`: {why}")
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
        raise bad(f"it gives {result}, not a number of bytes")
    return result, _names(tree)


def estimate(path, values):
    """The estimated peak memory in bytes of notebook ``path`` run with
    ``values`` ({name: value}), or None when it declares no estimate.
    ParamError (naming the notebook) for an expression that cannot be
    evaluated."""
    return _estimate(path, values)[0]


def available():
    """Bytes of memory available to new work (/proc/meminfo MemAvailable),
    or None when unknown (no /proc, as on macOS)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


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
    problems = []
    for path, values in jobs:
        need, names = _estimate(path, values)
        if need is not None and need > free:
            sizes = ", ".join(f"{n}={python_literal(values[n])}" for n in names)
            amount = "more memory than any machine has" if math.isinf(need) else f"about {need / 1e9:.1f} GB"
            problems.append(f"{Path(path).name} needs {amount} at {sizes} (its estimate), "
                            f"but {free / 1e9:.1f} GB of memory is available; " +
                            ("running it anyway (--ignore-memory)" if override else
                             "use smaller sizes, or pass --ignore-memory to run anyway"))
    if problems and not override:
        raise ParamError("\n".join(problems))
    return problems

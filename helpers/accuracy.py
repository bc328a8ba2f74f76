"""How far apart two results are, and a small agreement table (a list of
dicts, rendered as a Markdown string; no pandas); the Heron program in
complex arithmetic, the oracle of Problem 2, and its tables.

Used by the notebooks to judge every derivative against something computed
another way: PyTorch, a central difference or a complex step (gradcheck.py),
a closed form.
"""

import math
import re
from decimal import ROUND_FLOOR, Decimal

import numpy as np

from ._arrays import is_torch
from .bounds import rounded
from .gradcheck import complex_step

# Unit roundoff u = eps/2: a correctly rounded operation errs by at most u.
UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}


def _as_float64(a):
    """NumPy float64 copy of a scalar, array or torch tensor."""
    if is_torch(a):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def max_rel_error(a, ref):
    """Normwise relative error  max_i |a_i - ref_i| / max_i |ref_i|.

    a, ref: same shape (scalars allowed); NumPy arrays or torch tensors of any
    float dtype.  Both are widened to float64 first, so a float32 result can be
    judged against a float64 reference.  The norm-wise form is used because an
    entry-wise ratio explodes on gradient entries that happen to be near 0.
    Returns a float (0.0 when the two agree exactly).  Cost: O(size).
    """
    a, ref = _as_float64(a), _as_float64(ref)
    if a.shape != ref.shape:
        raise ValueError(f"shapes differ: result {a.shape} vs reference {ref.shape}")
    scale = np.max(np.abs(ref))
    if not scale > 0:
        raise ValueError("reference is all zeros (or NaN): relative error undefined")
    return float(np.max(np.abs(a - ref)) / scale)


def rel_error(a, ref):
    """Entry-wise relative error |a - ref| / |ref| in float64 (a and ref broadcast:
    ref of shape (m,) against a history of shape (n, m) gives (n, m)).

    For quantities whose reference never vanishes (sqrt(x), 1/(2 sqrt(x))).
    Cost: O(size).
    """
    a, ref = _as_float64(a), _as_float64(ref)
    if np.any(ref == 0):
        raise ValueError("reference has zero entries: use max_rel_error instead")
    return np.abs(a - ref) / np.abs(ref)


def correct_digits(err):
    """Number of correct significant decimal digits, -log10(err); inf if err == 0."""
    if err < 0 or math.isnan(err):
        raise ValueError(f"an error must be >= 0, got {err!r}")
    return math.inf if err == 0 else -math.log10(err)


def agreement_row(label, a, ref, **extra):
    """One table row: {'comparison': label, **extra, 'max rel. error', 'digits'}.

    a, ref as in ``max_rel_error``; extra columns (e.g. dtype='float32') are
    placed between the label and the numbers.  The error is kept rounded up
    to the 3 significant digits a table shows, and the digits are counted
    from it, so a sentence that restates the row (``helpers.bounds``)
    agrees with the printed numbers, not only with the unrounded ones.
    """
    err = float(rounded(max_rel_error(a, ref), 3, "up"))
    return {"comparison": label, **extra, "max rel. error": err,
            "digits": correct_digits(err)}


def floor_digits(digits, decimals=1):
    """A count of correct digits as text, rounded down to ``decimals`` places
    ('6.1' for 6.19): a digits count is a lower bound, so the table rounds it
    the way the text's "at least" does (both on the number's shortest repr,
    as ``helpers.bounds`` rounds).  inf (an exact match) gives 'all'."""
    if math.isinf(digits):
        return "all"
    q = Decimal(repr(float(digits))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_FLOOR)
    return f"{q:f}"


def _cell(v, floatfmt, digits=False):
    """Format one table cell: floats in ``floatfmt``, digits of inf as 'all';
    in a digits column a fixed-point format ('.1f') rounds down (``floor_digits``)."""
    if isinstance(v, (float, np.floating)):
        fixed = re.fullmatch(r"\.(\d+)f", floatfmt)
        if digits and fixed:
            return floor_digits(v, int(fixed.group(1)))
        return "all" if math.isinf(v) else format(float(v), floatfmt)
    return str(v).replace("|", "\\|")      # a bare | would split the cell


def markdown_table(rows, floatfmt=".2e", digitsfmt=".1f"):
    """Render a list of dicts (same keys, in order) as a Markdown pipe table.

    Floats use ``floatfmt``; a column named 'digits' uses ``digitsfmt``,
    rounding down when it is fixed-point ('.1f': 6.19 shows as 6.1, as the
    text's "at least 6.1" states it), and shows an exact match (inf digits)
    as 'all'; '|' in text is escaped.
    Columns are padded to a common width.
    Returns a str; display it with ``IPython.display.Markdown``.
    Cost: O(rows * columns).
    """
    if not rows:
        raise ValueError("no rows to tabulate")
    cols = list(rows[0])
    for r in rows:
        if list(r) != cols:
            raise ValueError(f"every row needs the columns {cols}, got {list(r)}")
    table = [[_cell(c, floatfmt) for c in cols]]
    table += [[_cell(r[c], digitsfmt, digits=True) if c == "digits" else _cell(r[c], floatfmt)
               for c in cols] for r in rows]
    # Padded columns read well as plain text, and pandoc sizes wide tables'
    # columns in proportion to the dashes under each header.
    widths = [max(3, *(len(line[j]) for line in table)) for j in range(len(cols))]
    table.insert(1, ["-" * w for w in widths])
    return "\n".join("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |"
                     for line in table)


def heron_complex(z, n_iter, tol=None):
    """The Heron program, rewritten in complex arithmetic for ``complex_step``.

    Independent of ``helpers.heron``; z: a complex scalar.  Runs at most n_iter
    steps y <- (y + z/y)/2 from y = 1; with ``tol`` it stops as helpers.heron
    does, once |y_k - y_{k-1}| <= tol |y_k| (tested on real parts, so the
    tiny imaginary part never changes the number of steps).
    Returns (y: complex, steps: int).  Cost: O(steps).
    """
    y = 1.0 + 0.0j
    for k in range(1, n_iter + 1):
        y, y_prev = 0.5 * (y + z / y), y
        if tol is not None and abs(y.real - y_prev.real) <= tol * abs(y.real):
            return y, k
    return y, n_iter


def heron_small_n_rows(derivative, x0, n_max):
    """Rows N = 0..n_max for a Heron derivative ``derivative(x0, N) -> (y_N,
    dy_N/dx)`` (forward or reverse mode) at the point x0: the derivative,
    the complex step of the same N-step program (``heron_complex``), their
    absolute difference and the relative error against 1/(2 sqrt(x0)).
    Cost: O(n_max^2) Heron steps."""
    rows = []
    for n in range(n_max + 1):
        d = derivative(x0, n)[1]
        cs = complex_step(lambda z: heron_complex(z, n)[0], x0)
        rows.append({"N": n, "derivative": d, "complex step": cs, "abs. diff.": abs(d - cs),
                     "rel. error vs exact": float(rel_error(d, 0.5 / math.sqrt(x0)))})
    return rows


def heron_stopping_rows(derivative, xs, n_iter, tols):
    """Rows for every tol in ``tols`` and x in ``xs``: the steps the stopping
    rule let the program run, and the relative difference of
    ``derivative(x, n_iter, tol=tol)[1]`` to the complex step of the same
    program and to 1/(2 sqrt(x)).  Cost: O(len(tols) len(xs) n_iter)."""
    rows = []
    for tol in tols:
        for x in xs:
            d = derivative(x, n_iter, tol=tol)[1]
            cs = complex_step(lambda z: heron_complex(z, n_iter, tol)[0], x)
            rows.append({"tol": tol, "x": x, "steps": heron_complex(complex(x), n_iter, tol)[1],
                         "rel. diff. to complex step": float(rel_error(d, cs)),
                         "rel. error vs exact": float(rel_error(d, 0.5 / math.sqrt(x)))})
    return rows

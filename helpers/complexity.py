"""Part 1e: exact operation counts and memory of the two gradient modes.

Shapes: x: (d0,), A: (d1, d0), B: (d2, d1).  Every step is counted as the
code in forward_mode.py / reverse_mode.py performs it, in three columns:

    madds        multiply-adds inside matrix products: a dot product of
                 length n counts n (so A @ x is exactly d1*d0);
    elementwise  lone multiplies or adds on arrays (row scalings, sums),
                 one per scalar result (a sum of n numbers counts n - 1);
    sigmoids     evaluations of sigma together with its slope sigma',
                 one per entry (one exp, one division, a few multiplies).

Flops = 2 madds + elementwise + c * sigmoids with c about 10; only the
madds grow faster than linearly in the sizes.  Memory is counted in
numbers (multiply by 8 for bytes in float64) beyond A, B and x.

The second half checks the counts against the clock (sweep, sweep_slopes)
and the memory against tracemalloc (measured_memory).
"""

import numpy as np

from .forward_mode import f_and_grad_forward
from .model import make_problem
from .reverse_mode import f_and_grad_reverse, f_and_grad_reverse_fused
from .timing import blas_threads, loglog_slope, time_calls, traced_peak_bytes


def _check_sizes(d0, d1, d2):
    """Raise TypeError/ValueError unless d0, d1, d2 are integers >= 1."""
    for name, d in (("d0", d0), ("d1", d1), ("d2", d2)):
        if isinstance(d, bool) or not isinstance(d, int):
            raise TypeError(f"{name} must be an int, got {d!r}")
        if d < 1:
            raise ValueError(f"{name} must be >= 1, got {d}")


def _row(step, formula, madds=0, elementwise=0, sigmoids=0):
    return {"step": step, "formula": formula, "madds": madds,
            "elementwise": elementwise, "sigmoids": sigmoids}


def evaluation_steps(d0, d1, d2):
    """Rows for evaluating f itself; both modes start with these."""
    _check_sizes(d0, d1, d2)
    return [_row("y1 = A x", "d1 d0", madds=d1 * d0),
            _row("y2 = sigma(y1), s2 = sigma'(y1)", "d1 sigmoids", sigmoids=d1),
            _row("y3 = B y2", "d2 d1", madds=d2 * d1),
            _row("y4 = sigma(y3), s4 = sigma'(y3)", "d2 sigmoids", sigmoids=d2),
            _row("f = sum(y4)", "d2 - 1 adds", elementwise=d2 - 1)]


def forward_steps(d0, d1, d2):
    """Rows (dicts: step, formula, madds, elementwise, sigmoids) of
    f_and_grad_forward: the evaluation, then the tangent sweep.
    The counts do not depend on chunk_size (it splits the same work)."""
    return evaluation_steps(d0, d1, d2) + [
        _row("T1 = A", "a view, no work"),
        _row("T2 = diag(s2) T1", "d1 d0 multiplies", elementwise=d1 * d0),
        _row("T3 = B T2", "d2 d1 d0", madds=d2 * d1 * d0),
        _row("grad = s4^T T3", "d2 d0", madds=d2 * d0)]


def reverse_steps(d0, d1, d2):
    """Rows of f_and_grad_reverse: the evaluation, then the adjoint sweep.
    f_and_grad_reverse_fused does the same work plus one d1-vector add per
    block of B (accumulating ybar2)."""
    return evaluation_steps(d0, d1, d2) + [
        _row("ybar4 = 1^T", "no work"),
        _row("ybar3 = ybar4 * s4", "d2 multiplies", elementwise=d2),
        _row("ybar2 = ybar3 B", "d2 d1", madds=d2 * d1),
        _row("ybar1 = ybar2 * s2", "d1 multiplies", elementwise=d1),
        _row("xbar = ybar1 A", "d1 d0", madds=d1 * d0)]


def totals(rows):
    """Column sums of step rows: {'madds', 'elementwise', 'sigmoids'}."""
    return {k: sum(r[k] for r in rows) for k in ("madds", "elementwise", "sigmoids")}


def extra_memory(d0, d1, d2, *, chunk_size=None, block_rows=64):
    """Numbers each mode holds at its peak beyond A, B, x (and the sigmoid's
    short-lived O(d) temporaries).  Returns {'forward', 'reverse', 'fused'}.

    forward: T2 (d1, c) and T3 (d2, c) with c = min(chunk_size, d0), plus
        y1, y2, s2, y3, y4, s4 and grad; T1 is a view of A.
    reverse: the same six vectors, the adjoints ybar4..ybar1 and xbar.
    fused: y1, y2, s2, ybar2, ybar1, xbar and one block of y3, y4, s4.
    """
    _check_sizes(d0, d1, d2)
    c = d0 if chunk_size is None else min(chunk_size, d0)
    vectors = 3 * d1 + 3 * d2 + d0
    return {"forward": (d1 + d2) * c + vectors,
            "reverse": vectors + 2 * d1 + 2 * d2,
            "fused": 5 * d1 + d0 + 3 * min(block_rows, d2)}


def full_jacobian_madds(d0, d1, d2):
    """Leading multiply-adds for the whole (d2, d0) Jacobian of the
    vector-valued F(x) = sigma(B sigma(A x)) (no final sum).

    forward: the same tangent sweep, d0 directions at once; diag(s4) T3 is
        already the Jacobian, so the cost stays d2 d1 d0.
    reverse: one adjoint sweep per output, d2 rows pushed through B and A
        as dense (d2, d2) and (d2, d1) matrices: d2 d2 d1 + d2 d1 d0.
    In general forward mode costs (inputs) x (one tangent sweep) and reverse
    mode (outputs) x (one adjoint sweep); the smaller count wins.
    """
    _check_sizes(d0, d1, d2)
    evaluation = d1 * d0 + d2 * d1
    return {"forward": evaluation + d2 * d1 * d0,
            "reverse": evaluation + d2 * d2 * d1 + d2 * d1 * d0}


def count_table(d0, d1, d2):
    """Both modes' step rows at one size, each tagged with its mode, and a
    'total' row per mode; ready for a Markdown table."""
    out = []
    for mode, rows in (("forward", forward_steps(d0, d1, d2)),
                       ("reverse", reverse_steps(d0, d1, d2))):
        out += [{"mode": mode, **r} for r in rows]
        out.append({"mode": mode, "step": "total", "formula": "", **totals(rows)})
    return out


def sweep_plan(max_d, points=6):
    """Shapes (d0, d1, d2) to time: 'square' from max_d/5 to max_d, and 'd0',
    'd1', 'd2', each varying that size from base/8 to 2 base with the other
    two at base = max_d/2.  Geometric spacing, ``points`` sizes per sweep."""
    if max_d < 16 or points < 2:
        raise ValueError(f"need max_d >= 16 and points >= 2, got {max_d}, {points}")
    geom = lambda lo, hi: sorted({round(float(v)) for v in np.geomspace(lo, hi, points)})
    base = max_d // 2
    plan = {"square": [(n, n, n) for n in geom(max_d / 5, max_d)]}
    for k in range(3):
        plan[f"d{k}"] = [tuple(n if j == k else base for j in range(3))
                         for n in geom(base / 8, 2 * base)]
    return plan


def sweep(shapes, *, repeats=3, seed=0, threads=1, min_sample_s=0.005):
    """Median seconds of f_and_grad_forward and f_and_grad_reverse (NumPy,
    float64) at each (d0, d1, d2) in ``shapes``, with NumPy's BLAS held to
    ``threads`` threads (None: as it is).  One thread times the work itself:
    no parallel speed-up that changes with size, no waiting for a second
    core that another job holds.  Calls shorter than min_sample_s are looped
    inside one sample.  Returns rows {'d0', 'd1', 'd2', 'forward_s',
    'reverse_s', 'forward_madds', 'reverse_madds'}."""
    rows = []
    for d0, d1, d2 in shapes:
        A, B, x = make_problem(d0, d1, d2, seed=seed)
        with blas_threads(threads):
            st = time_calls({"forward": lambda: f_and_grad_forward(x, A, B),
                             "reverse": lambda: f_and_grad_reverse(x, A, B)},
                            repeats=repeats, warmup=1, min_sample_s=min_sample_s)
        rows.append({"d0": d0, "d1": d1, "d2": d2,
                     **{f"{m}_s": st[m]["median_s"] for m in st},
                     "forward_madds": totals(forward_steps(d0, d1, d2))["madds"],
                     "reverse_madds": totals(reverse_steps(d0, d1, d2))["madds"]})
    return rows


def sweep_slopes(rows, vary):
    """{mode: (fitted, predicted)}: log-log slope of the measured times
    against the varied size ('d0', 'd1', 'd2'; 'square' uses d0), and the
    slope of the exact multiply-add counts at the same sizes."""
    n = [r["d0" if vary == "square" else vary] for r in rows]
    return {m: (loglog_slope(n, [r[f"{m}_s"] for r in rows]),
                loglog_slope(n, [r[f"{m}_madds"] for r in rows]))
            for m in ("forward", "reverse")}


def measured_memory(d0, d1, d2, *, chunk_size, seed=0):
    """Peak bytes each mode allocates (tracemalloc, after one warm call)
    beside the prediction of extra_memory.  Returns rows {'mode',
    'predicted_bytes', 'measured_bytes'}; float64, NumPy."""
    A, B, x = make_problem(d0, d1, d2, seed=seed)
    full, chunked = (extra_memory(d0, d1, d2, chunk_size=c) for c in (None, chunk_size))
    calls = {"forward": (full["forward"], lambda: f_and_grad_forward(x, A, B)),
             f"forward, chunk_size={chunk_size}": (chunked["forward"], lambda:
                 f_and_grad_forward(x, A, B, chunk_size=chunk_size)),
             "reverse": (full["reverse"], lambda: f_and_grad_reverse(x, A, B)),
             "reverse fused": (full["fused"], lambda: f_and_grad_reverse_fused(x, A, B))}
    rows = []
    for mode, (numbers, fn) in calls.items():
        fn()
        rows.append({"mode": mode, "predicted_bytes": 8 * numbers,
                     "measured_bytes": traced_peak_bytes(fn)})
    return rows

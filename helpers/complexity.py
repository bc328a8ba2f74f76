"""Part 1e: exact operation counts and memory of the two gradient modes.

Shapes: x: (d0,), A: (d1, d0), B: (d2, d1).  Every step is counted as the
code in forward_mode.py / reverse_mode.py performs it, in three columns:

    madds        multiply-adds inside matrix products: a dot product of
                 length n counts n (so A @ x is exactly d1*d0);
    elementwise  lone multiplies or adds on arrays (row scalings, sums),
                 one per scalar result (a sum of n numbers counts n - 1);
    sigmoids     evaluations of sigma together with its slope sigma',
                 one per entry (one exp, one division, a few multiplies).

Flops = 2 madds + elementwise + c * sigmoids with c about 10.  The madds
and forward mode's row scaling (d1 d0 multiplies, no more than the d1 d0 d2
madds of the product after it) grow faster than linearly in the sizes, so
the madds set the order.  Memory is counted in numbers (multiply by 8 for
bytes in float64) beyond A, B and x.

scaling.py checks these counts against the clock and the memory against
tracemalloc.
"""

from ._checks import check_count
from .model import check_sizes


def _row(step, formula, madds=0, elementwise=0, sigmoids=0):
    return {"step": step, "formula": formula, "madds": madds,
            "elementwise": elementwise, "sigmoids": sigmoids}


def evaluation_steps(d0, d1, d2):
    """Rows for evaluating f itself; both modes start with these."""
    d0, d1, d2 = check_sizes(d0, d1, d2)
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


def madds_gap(d0, d1, d2):
    """Forward mode's multiply-adds minus reverse mode's, from the step rows:
    d1 d2 (d0 - 1) + d0 (d2 - d1).  Negative exactly where
    ``forward_needs_fewer``; zero where d0 = 1 and d1 = d2, or d2 = 1 and d0 = d1."""
    return totals(forward_steps(d0, d1, d2))["madds"] - totals(reverse_steps(d0, d1, d2))["madds"]


def forward_needs_fewer(d0, d1, d2):
    """Whether forward mode needs fewer multiply-adds than reverse mode:
    exactly when d0 = 1 and d2 < d1, or d2 = 1 and d0 < d1.  (For d0, d2 >= 2,
    d1 d2 (d0 - 1) >= d1 d0 > d0 (d1 - d2); at d0 = 1 the gap is d2 - d1, at
    d2 = 1 it is d0 - d1.)"""
    return (d0 == 1 and d2 < d1) or (d2 == 1 and d0 < d1)


def extra_memory(d0, d1, d2, *, chunk_size=None, block_rows=64):
    """Numbers each mode holds at its peak beyond A, B, x (and the sigmoid's
    short-lived O(d) temporaries).  Returns {'forward', 'reverse', 'fused'}.

    forward: T2 (d1, c) and T3 (d2, c) with c = min(chunk_size, d0), plus
        y1, y2, s2, y3, y4, s4 and grad; T1 is a view of A.
    reverse: the same six vectors, the adjoints ybar4..ybar1 and xbar.
    fused: y1, y2, s2, ybar2, ybar1, xbar and one block of y3, y4, s4.
    """
    d0, d1, d2 = check_sizes(d0, d1, d2)
    c = d0 if chunk_size is None else min(check_count("chunk_size", chunk_size), d0)
    block_rows = check_count("block_rows", block_rows)
    vectors = 3 * d1 + 3 * d2 + d0
    return {"forward": (d1 + d2) * c + vectors,
            "reverse": vectors + 2 * d1 + 2 * d2,
            "fused": 5 * d1 + d0 + 3 * min(block_rows, d2)}

"""Part 1e, measured: the operation counts of complexity.py against the
clock (log-log sweeps and their slopes) and the memory against tracemalloc.
"""

import numpy as np

from .complexity import extra_memory, forward_steps, reverse_steps, totals
from .forward_mode import f_and_grad_forward
from .machine import blas_threads
from .model import make_problem
from .reverse_mode import f_and_grad_reverse, f_and_grad_reverse_fused
from .timing import loglog_slope, time_calls, traced_peak_bytes


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

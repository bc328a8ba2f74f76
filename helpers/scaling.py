"""Part 1e, measured: the operation counts of complexity.py against the
clock (log-log sweeps and their slopes) and the memory against tracemalloc.
"""

import numpy as np

from ._checks import check_count
from .complexity import extra_memory
from .machine import blas_threads
from .methods import METHOD, METHODS, Inputs
from .model import make_problem
from .timing import loglog_slope, time_calls, traced_peak_bytes

SWEPT = ("forward", "reverse")      # the methods the sweeps time: keys of methods.METHOD


def sweep_plan(max_d, points=6):
    """Shapes (d, d, d) to time, d from max_d/5 to max_d: ``points`` sizes
    spaced geometrically (fewer where two round to the same integer)."""
    max_d, points = check_count("max_d", max_d, minimum=16), check_count("points", points, minimum=2)
    return [(n, n, n) for n in sorted({round(float(v)) for v in np.geomspace(max_d / 5, max_d, points)})]


def sweep(shapes, *, repeats=3, seed=0, threads=1, min_sample_s=0.005):
    """Median seconds of each method of SWEPT (NumPy, float64) at each
    (d0, d1, d2) in ``shapes``, with NumPy's BLAS held to
    ``threads`` threads (None: as it is).  One thread times the work itself:
    no parallel speed-up that changes with size, no waiting for a second
    core that another job holds.  Calls shorter than min_sample_s are looped
    inside one sample.  Returns rows {'d0', 'd1', 'd2', 'forward_s',
    'reverse_s', 'forward_madds', 'reverse_madds'} ('<key>_s' for each key
    of SWEPT)."""
    rows = []
    for d0, d1, d2 in shapes:
        A, B, x = make_problem(d0, d1, d2, seed=seed)
        p = Inputs(x, A, B)
        with blas_threads(threads):
            st = time_calls({m: (lambda m=m: METHOD[m].call(p)) for m in SWEPT},
                            repeats=repeats, warmup=1, min_sample_s=min_sample_s)
        rows.append({"d0": d0, "d1": d1, "d2": d2,
                     **{f"{m}_s": st[m]["median_s"] for m in SWEPT},
                     **{f"{m}_madds": METHOD[m].madds(d0, d1, d2) for m in SWEPT}})
    return rows


def sweep_slopes(rows, vary):
    """{mode: (fitted, predicted)}: log-log slope of the measured times
    against the varied size ('d0', 'd1', 'd2'; 'square' uses d0), and the
    slope of the exact multiply-add counts at the same sizes."""
    n = [r["d0" if vary == "square" else vary] for r in rows]
    return {m: (loglog_slope(n, [r[f"{m}_s"] for r in rows]),
                loglog_slope(n, [r[f"{m}_madds"] for r in rows]))
            for m in SWEPT}


def measured_memory(d0, d1, d2, *, chunk_size, seed=0):
    """Peak bytes each method with a ``memory`` count allocates (tracemalloc,
    after one warm call) beside the prediction of extra_memory.  Returns
    rows {'key', 'mode' (the label shown, with chunk_size where chunked),
    'predicted_bytes', 'measured_bytes'}; float64, NumPy."""
    A, B, x = make_problem(d0, d1, d2, seed=seed)
    p = Inputs(x, A, B, chunk_size=check_count("chunk_size", chunk_size))
    rows = []
    for m in (m for m in METHODS if m.memory):
        numbers = extra_memory(d0, d1, d2, chunk_size=chunk_size if m.chunked else None)[m.memory]
        m.call(p)
        rows.append({"key": m.key,
                     "mode": f"{m.label}, chunk_size={chunk_size}" if m.chunked else m.label,
                     "predicted_bytes": 8 * numbers, "measured_bytes": traced_peak_bytes(lambda: m.call(p))})
    return rows

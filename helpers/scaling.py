"""Part 1e, measured: the operation counts of complexity.py against the
clock (log-log sweeps, their slopes, per round too) and the memory against
tracemalloc.  Times come in interleaved rounds with their samples, so
that helpers.bounds.compare can word each comparison from the samples.
"""

import numpy as np

from ._checks import check_count
from .complexity import extra_memory
from .machine import blas_threads
from .methods import METHOD, METHODS, Inputs
from .model import make_problem
from .timing import (
    MIN_SAMPLE_S,
    loglog_slope,
    progress_bar,
    time_calls,
    traced_peak_bytes,
)

SWEPT = ("forward", "reverse")      # the methods the sweeps time: keys of methods.METHOD


def sweep_plan(max_d, points=6):
    """Shapes (d, d, d) to time, d from max_d/5 to max_d: ``points`` sizes
    spaced geometrically (fewer where two round to the same integer)."""
    max_d, points = check_count("max_d", max_d, minimum=16), check_count("points", points, minimum=2)
    return [(n, n, n) for n in sorted({round(float(v)) for v in np.geomspace(max_d / 5, max_d, points)})]


def size_words(shape):
    """A shape (d0, d1, d2) in words for a progress bar: 'd = 2000' where
    the three are equal, else 'd0 = 1, d1 = 2000, d2 = 2000'."""
    d0, d1, d2 = shape
    return f"d = {d0}" if d0 == d1 == d2 else f"d0 = {d0}, d1 = {d1}, d2 = {d2}"


def sweep(shapes, *, repeats=3, seed=0, threads=1, min_sample_s=MIN_SAMPLE_S, progress=True):
    """Seconds per call of each method of SWEPT (NumPy, float64) at each
    (d0, d1, d2) in ``shapes``, with NumPy's BLAS held to ``threads``
    threads (None: as it is).  One thread times the work itself: no
    parallel speed-up that changes with size, no waiting for a second core
    that another job holds.  At each shape the methods are timed in
    ``repeats`` interleaved rounds (time_calls), so the k-th samples of the
    two form a pair; a call shorter than min_sample_s is looped inside one
    sample.  Returns rows {'d0', 'd1', 'd2', 'threads' (the BLAS threads in
    force, None where they could not be set), and for each key m of SWEPT
    'm_s' (median), 'm_min_s', 'm_max_s', 'm_samples' (one per round),
    'm_number' (calls per sample), 'm_madds' (exact count)}.
    progress: a ``progress_bar`` of the sizes, described by the one timed now."""
    rows = []
    with progress_bar(len(shapes), "size", progress, size_words(shapes[0]) if shapes else None) as bar:
        for d0, d1, d2 in shapes:
            bar.set_description(size_words((d0, d1, d2)))
            A, B, x = make_problem(d0, d1, d2, seed=seed)
            p = Inputs(x, A, B)
            with blas_threads(threads) as used:
                st = time_calls({m: (lambda m=m, p=p: METHOD[m].call(p)) for m in SWEPT},
                                repeats=repeats, warmup=1, min_sample_s=min_sample_s, progress=False)
            row = {"d0": d0, "d1": d1, "d2": d2, "threads": used}
            for m in SWEPT:
                row.update({f"{m}_s": st[m]["median_s"], f"{m}_min_s": st[m]["min_s"],
                            f"{m}_max_s": st[m]["max_s"], f"{m}_samples": st[m]["samples"],
                            f"{m}_number": st[m]["number"], f"{m}_madds": METHOD[m].madds(d0, d1, d2)})
            rows.append(row)
            bar.update(1)
    return rows


def sweep_slopes(rows, vary):
    """{mode: (fitted, predicted)}: log-log slope of the median times
    against the varied size ('d0', 'd1', 'd2'; 'square' uses d0), and the
    slope of the exact multiply-add counts at the same sizes."""
    n = [r["d0" if vary == "square" else vary] for r in rows]
    return {m: (loglog_slope(n, [r[f"{m}_s"] for r in rows]),
                loglog_slope(n, [r[f"{m}_madds"] for r in rows]))
            for m in SWEPT}


def round_slopes(rows, vary):
    """{mode: array}: the log-log slope fitted to each round's samples
    alone (the k-th sample at every size), one slope per round: how far
    the fitted slope moves with the noise of the rounds."""
    n = [r["d0" if vary == "square" else vary] for r in rows]
    rounds = min(len(r[f"{m}_samples"]) for r in rows for m in SWEPT)
    return {m: np.array([loglog_slope(n, [r[f"{m}_samples"][k] for r in rows]) for k in range(rounds)])
            for m in SWEPT}


def sweep_rates(rows):
    """{mode: array}: each row's multiply-adds per second (exact count over
    median time).  Since time = madds / rate, the log-log slope of the
    median times is the slope of the counts less the slope of these rates."""
    return {m: np.array([r[f"{m}_madds"] / r[f"{m}_s"] for r in rows]) for m in SWEPT}


PRODUCTS = {"BV": "B T2, forward mode's product", "vB": "ybar3 B, reverse mode's product"}


def product_timing(d1, d2, *, repeats=3, seed=0, threads=1, min_sample_s=MIN_SAMPLE_S, progress=True):
    """time_calls stats of the two products in which forward and reverse
    mode differ at d0 = 1: 'BV', B (d2, d1) times a one-column matrix
    (forward mode's B T2), and 'vB', a d2-vector times B (reverse mode's
    ybar3 B), in interleaved rounds, BLAS held to ``threads`` threads;
    progress: time_calls' bar of the rounds."""
    A, B, _ = make_problem(1, d1, d2, seed=seed)
    V, v = A.copy(), np.ones(d2)            # T2 has A's shape (d1, 1) at d0 = 1
    with blas_threads(threads):
        return time_calls({"BV": lambda: B @ V, "vB": lambda: v @ B}, repeats=repeats, warmup=1,
                          min_sample_s=min_sample_s, progress=progress, labels=PRODUCTS)


def word_groups(points, words, name):
    """'the same within the spread at $d_0$ = 1, 2; slower at $d_0$ = 4, 8':
    the points grouped by their word, groups in order of first appearance."""
    if len(points) != len(words) or not points:
        raise ValueError(f"word_groups: {len(points)} points and {len(words)} words")
    groups = {}
    for p, w in zip(points, words):
        groups.setdefault(str(w), []).append(str(p))
    return "; ".join(f"{w} at {name} = {', '.join(ps)}" for w, ps in groups.items())


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
                     "mode": f"{m.label}, chunk size {chunk_size}" if m.chunked else m.label,
                     "predicted_bytes": 8 * numbers, "measured_bytes": traced_peak_bytes(lambda m=m: m.call(p))})
    return rows

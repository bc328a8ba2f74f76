"""Parts 1e and 1f: operation counts, memory, sweeps, the stopwatch, the
machine, the timing study and the bench command.

Timings on a shared two-core machine are noise, so nothing here asserts on a
time.  The tests check what is deterministic: closed-form counts (derived
below from the steps of the two modes), counts recorded while the real code
runs, tracemalloc bytes, the structure of returned rows, agreement of the
gradients, and files written.  Every size is tiny (d <= 200).
"""

import ast
import csv
import json
import math
import os
import re
import time
import tracemalloc
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch

from helpers import methods
from helpers.bench import main as bench_main
from helpers.complexity import (
    evaluation_steps,
    extra_memory,
    forward_steps,
    reverse_steps,
    totals,
)
from helpers.forward_mode import f_and_grad_forward
from helpers.machine import background_load, blas_threads, cpu_seconds, machine_info
from helpers.methods import METHODS
from helpers.model import make_problem, stages
from helpers.quick import QUICK_JSON, quick_sizes
from helpers.reverse_mode import f_and_grad_reverse, f_and_grad_reverse_fused
from helpers.scaling import (
    measured_memory,
    product_timing,
    round_slopes,
    sweep,
    sweep_plan,
    sweep_slopes,
    word_groups,
)
from helpers.timing import (
    compare_timings,
    loglog_slope,
    save_results,
    seconds,
    seconds_range,
    time_calls,
    traced_peak_bytes,
)
from helpers.timing_plots import plot_timings
from helpers.timing_study import (
    floor_comparison,
    mode_comparison,
    summary_rows,
    targets,
    timing_study,
)

# (d0, d1, d2): the 1x1x1 net, each size 1 alone, non-square, all distinct.
SIZES = [(1, 1, 1), (1, 4, 2), (7, 1, 3), (5, 3, 1), (5, 3, 8), (50, 40, 30), (2, 9, 13)]
ids = lambda s: "x".join(map(str, s))


# ---------------------------------------------------------------- closed forms
# Evaluation: y1 = A x is a (d1, d0) matrix times a vector, d1 dot products of
# length d0; y3 = B y2 likewise d2 d1.  Forward mode then forms T3 = B T2, a
# (d2, d1) by (d1, d0) GEMM, d2 d1 d0, and grad = s4^T T3, d2 d0.  Reverse
# mode adds two vector-matrix products: ybar3 B (d2 d1) and ybar1 A (d1 d0).

def forward_madds(d0, d1, d2):
    return d1 * d0 + d2 * d1 + d2 * d1 * d0 + d2 * d0


def reverse_madds(d0, d1, d2):
    evaluation = d1 * d0 + d2 * d1
    return evaluation + d2 * d1 + d1 * d0          # = 2 d1 (d0 + d2)


class Counting(np.ndarray):
    """float64 array that records, in a shared tally, the multiply-adds of
    every matmul (result entries x contracted length) and the entries that
    go through exp (one per sigmoid evaluation)."""

    tally: ClassVar[dict] = {"madds": 0, "exp": 0}

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [np.asarray(a) if isinstance(a, Counting) else a for a in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, Counting) else o
                                  for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        if ufunc is np.matmul:
            Counting.tally["madds"] += np.size(result) * np.shape(plain[0])[-1]
        elif ufunc is np.exp:
            Counting.tally["exp"] += np.size(result)
        return result.view(Counting) if isinstance(result, np.ndarray) else result


def counted(fn, d0, d1, d2, **kw):
    """Run fn(x, A, B) on Counting arrays; returns (tally, gradient)."""
    A, B, x = (a.view(Counting) for a in make_problem(d0, d1, d2, seed=1))
    Counting.tally = {"madds": 0, "exp": 0}
    _, grad = fn(x, A, B, **kw)
    return dict(Counting.tally), np.asarray(grad)


# ------------------------------------------------------------------ complexity

@pytest.mark.parametrize("shape", SIZES, ids=ids)
def test_madds_match_the_closed_forms(shape):
    assert totals(forward_steps(*shape))["madds"] == forward_madds(*shape)
    assert totals(reverse_steps(*shape))["madds"] == reverse_madds(*shape) == 2 * shape[1] * (shape[0] + shape[2])


def test_every_column_at_distinct_sizes():
    """Counted by hand at (d0, d1, d2) = (2, 3, 5): distinct sizes catch a
    formula with two sizes swapped."""
    assert totals(evaluation_steps(2, 3, 5)) == {"madds": 6 + 15, "elementwise": 4, "sigmoids": 8}
    assert totals(forward_steps(2, 3, 5)) == {"madds": 6 + 15 + 30 + 10, "elementwise": 4 + 6, "sigmoids": 8}
    assert totals(reverse_steps(2, 3, 5)) == {"madds": 42, "elementwise": 4 + 5 + 3, "sigmoids": 8}
    assert totals(forward_steps(5, 3, 2))["madds"] == 15 + 6 + 30 + 10
    assert totals(forward_steps(2, 5, 3))["madds"] == 10 + 15 + 30 + 6


@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 1, 3), (5, 3, 8), (12, 9, 4)], ids=ids)
def test_counts_match_the_code_as_it_runs(shape):
    """The tables count what forward_mode.py / reverse_mode.py actually do:
    every matmul and every exp is tallied while they run."""
    fwd = totals(forward_steps(*shape))
    rev = totals(reverse_steps(*shape))
    for fn, kw, expect in [(f_and_grad_forward, {}, fwd),
                           (f_and_grad_forward, {"chunk_size": 3}, fwd),
                           (f_and_grad_reverse, {}, rev),
                           (f_and_grad_reverse_fused, {"block_rows": 2}, rev)]:
        tally, grad = counted(fn, *shape, **kw)
        assert tally == {"madds": expect["madds"], "exp": expect["sigmoids"]}, fn.__name__
        assert grad.shape == (shape[0],)


def test_extra_memory_at_distinct_sizes():
    """By hand at (2, 3, 5): the six saved vectors and the result, 3*3 + 3*5 + 2
    = 26 numbers, plus T2 and T3 ((3 + 5) c), the four adjoints
    (2*3 + 2*5) or, fused, one block of y3, y4, s4."""
    assert extra_memory(2, 3, 5) == {"forward": 26 + 16, "reverse": 26 + 16, "fused": 15 + 2 + 15}
    assert extra_memory(2, 3, 5, chunk_size=1)["forward"] == 26 + 8
    assert extra_memory(2, 3, 5, chunk_size=10**6) == extra_memory(2, 3, 5)
    assert extra_memory(2, 3, 5, block_rows=2)["fused"] == 15 + 2 + 6


# ------------------------------------------------------- memory, measured
# tracemalloc sees NumPy's buffers, so measured bytes follow the model up to
# ~2 KB of Python objects and, while T2 = s2[:, None] * A[:, cols] is formed,
# NumPy's ufunc iteration buffers (about 2 x T2 for small operands, capped
# near 128 KiB, so negligible at d = 8000).  With d2 >= 2 d1 the peak is at
# T3 = B T2 as the model says, and a 1.2 upper bound is tight enough to catch
# a third (d1, c) matrix; at (120, 90, 60) the buffers set the chunked peak
# (about 1.7 x predicted), so there only the full-vs-chunked gap is checked.
MEM_SHAPE, MEM_CHUNK = (120, 60, 150), 16


def _ratios(rows):
    return {r["key"]: r["measured_bytes"] / r["predicted_bytes"] for r in rows}


def test_measured_memory_matches_extra_memory():
    rows = measured_memory(*MEM_SHAPE, chunk_size=MEM_CHUNK)
    by = {r["key"]: r for r in rows}
    chunked = "forward_chunked"
    assert list(by) == ["forward", chunked, "reverse", "reverse_fused"]
    assert [r["mode"] for r in rows] == ["forward", f"forward chunked, chunk size {MEM_CHUNK}",
                                         "reverse", "reverse fused"]           # the labels shown
    full, part = extra_memory(*MEM_SHAPE), extra_memory(*MEM_SHAPE, chunk_size=MEM_CHUNK)
    assert by["forward"]["predicted_bytes"] == 8 * full["forward"]
    assert by[chunked]["predicted_bytes"] == 8 * part["forward"]
    assert by["reverse"]["predicted_bytes"] == 8 * full["reverse"]
    assert by["reverse_fused"]["predicted_bytes"] == 8 * full["fused"]
    ratio = _ratios(rows)
    for mode in ("forward", chunked):
        assert 0.9 <= ratio[mode] <= 1.2, (mode, ratio[mode])
    # Reverse holds O(d) numbers: a few KB, whose Python overhead is relatively large.
    for mode in ("reverse", "reverse_fused"):
        assert 0.9 <= ratio[mode] <= 2.0, (mode, ratio[mode])
        assert by[mode]["measured_bytes"] < 0.5 * by[chunked]["measured_bytes"]
    assert by[chunked]["measured_bytes"] < 0.3 * by["forward"]["measured_bytes"]


def test_chunked_forward_memory_at_the_brief_shape():
    rows = {r["key"]: r for r in measured_memory(120, 90, 60, chunk_size=16)}
    full, chunked = rows["forward"], rows["forward_chunked"]
    assert 0.9 <= full["measured_bytes"] / full["predicted_bytes"] <= 1.2
    assert chunked["measured_bytes"] >= 0.9 * chunked["predicted_bytes"]
    # predicted 0.16 of full; holding the full T2 and T3 would make it >= 1
    assert chunked["measured_bytes"] < 0.35 * full["measured_bytes"]


def _forward_variant(*, copy_T1=False, keep_blocks=False, ignore_chunks=False):
    """Wrong-memory variants of f_and_grad_forward (same gradient)."""
    def fn(x, A, B, *, chunk_size=None):
        d0 = x.shape[0]
        c = d0 if chunk_size is None or ignore_chunks else chunk_size
        ev = stages(x, A, B)
        grad, kept = np.empty_like(x), []
        for j in range(0, d0, c):
            T1 = A[:, j:j + c].copy() if copy_T1 else A[:, j:j + c]
            T2 = ev.s2[:, None] * T1
            T3 = B @ T2
            grad[j:j + c] = ev.s4 @ T3
            if keep_blocks:
                kept.append((T2, T3))
            del T1, T2, T3
        return ev.f, grad
    return fn


@pytest.mark.parametrize("variant, caught", [
    ({"copy_T1": True}, ("forward", "chunked")),      # three matrices instead of two
    ({"keep_blocks": True}, ("chunked",)),            # earlier blocks never freed
    ({"ignore_chunks": True}, ("chunked",)),          # full T2, T3 despite chunk_size
], ids=["copy_T1", "keep_blocks", "ignore_chunks"])
def test_memory_check_catches_wrong_forward(monkeypatch, variant, caught):
    """The bounds above fail on a forward mode that holds too much."""
    wrong = _forward_variant(**variant)
    A, B, x = make_problem(7, 5, 3, seed=2)
    np.testing.assert_allclose(wrong(x, A, B, chunk_size=2)[1], f_and_grad_reverse(x, A, B)[1])
    monkeypatch.setattr(methods, "f_and_grad_forward", wrong)
    ratio = _ratios(measured_memory(*MEM_SHAPE, chunk_size=MEM_CHUNK))
    keys = {"forward": "forward", "chunked": "forward_chunked"}
    for key in caught:
        assert ratio[keys[key]] > 1.2, (key, ratio)


# ------------------------------------------------------------------ sweeps

def test_sweep_plan_shapes():
    for max_d, points in [(16, 2), (40, 6), (200, 5), (17, 3)]:
        plan = sweep_plan(max_d, points)
        square = [s[0] for s in plan]
        assert all(s == (n, n, n) and isinstance(n, int) for s, n in zip(plan, square))
        assert square == sorted(set(square)) and 2 <= len(square) <= points
        assert square[0] == round(max_d / 5) and square[-1] == max_d


def test_sweep_rows():
    shapes = [(4, 3, 2), (9, 6, 5)]
    rows = sweep(shapes, repeats=2, min_sample_s=0.0)
    assert [(r["d0"], r["d1"], r["d2"]) for r in rows] == shapes
    for r, shape in zip(rows, shapes):
        assert r["threads"] in (1, None)                          # held to one where it can be
        assert set(r) == {"d0", "d1", "d2", "threads"} | {f"{m}_{k}" for m in ("forward", "reverse") for k in
                                               ("s", "min_s", "max_s", "samples", "number", "madds")}
        for m in ("forward", "reverse"):
            s = r[f"{m}_samples"]
            assert len(s) == 2 and r[f"{m}_number"] == 1          # one sample per round, kept
            assert (r[f"{m}_min_s"], r[f"{m}_max_s"]) == (min(s), max(s))
            assert r[f"{m}_s"] == pytest.approx(float(np.median(s)))
        assert r["forward_s"] > 0 and r["reverse_s"] > 0
        assert math.isfinite(r["forward_s"]) and math.isfinite(r["reverse_s"])
        assert r["forward_madds"] == forward_madds(*shape)
        assert r["reverse_madds"] == reverse_madds(*shape)


def test_sweep_loops_small_calls_to_min_sample_s():
    """At tiny sizes a sample is many calls: none is shorter than min_sample_s."""
    (row,) = sweep([(3, 4, 5)], repeats=2, min_sample_s=0.002)
    for m in ("forward", "reverse"):          # a call takes microseconds: each sample loops it
        assert row[f"{m}_number"] > 1 and len(row[f"{m}_samples"]) == 2


def test_round_slopes_fit_each_round_alone():
    rows = [{"d0": n, "forward_samples": [n**3, 2 * n**3, n**2.5], "reverse_samples": [n**2, n, 5 * n**2]}
            for n in (10, 20, 40)]
    slopes = round_slopes(rows, "square")
    np.testing.assert_allclose(slopes["forward"], [3, 3, 2.5])
    np.testing.assert_allclose(slopes["reverse"], [2, 1, 2])


def test_product_timing_pairs_the_two_products():
    st = product_timing(6, 5, repeats=3, min_sample_s=0.0)
    assert set(st) == {"BV", "vB"} and all(len(s["samples"]) == 3 for s in st.values())
    assert compare_timings(st["vB"], st["BV"]).word in ("slower", "faster", "the same within the spread")


def test_product_timing_names_the_products_on_its_bar(capsys):
    product_timing(6, 5, repeats=2, min_sample_s=0.0)
    out, err = capsys.readouterr()
    descs = {bar_status(piece)[0] for piece in re.split("[\r\n]", err) if bar_status(piece)}
    assert out == "" and {"B T2, forward mode's product", "ybar3 B, reverse mode's product"} <= descs


def test_word_groups():
    assert word_groups([1, 2, 4, 8], ["faster", "slower", "faster", "slower"], "$d_0$") == \
        "faster at $d_0$ = 1, 4; slower at $d_0$ = 2, 8"
    assert word_groups([3], ["the same within the spread"], "n") == "the same within the spread at n = 3"
    with pytest.raises(ValueError, match="2 points and 1 words"):
        word_groups([1, 2], ["slower"], "n")


def _synthetic_rows(vary, sizes, other=10, c=1e-9):
    rows = []
    for n in sizes:
        d = [n, n, n] if vary == "square" else [other] * 3
        if vary != "square":
            d[int(vary[1])] = n
        rows.append({"d0": d[0], "d1": d[1], "d2": d[2],
                     "forward_s": c * n**3, "reverse_s": 3 * c * n**2,
                     "forward_madds": forward_madds(*d), "reverse_madds": reverse_madds(*d)})
    return rows


@pytest.mark.parametrize("vary", ["square", "d0", "d1", "d2"])
def test_sweep_slopes_on_synthetic_rows(vary):
    sizes = [8, 16, 32, 64, 128]
    rows = _synthetic_rows(vary, sizes)
    slopes = sweep_slopes(rows, vary)
    assert set(slopes) == {"forward", "reverse"}
    assert slopes["forward"][0] == pytest.approx(3, abs=1e-9)
    assert slopes["reverse"][0] == pytest.approx(2, abs=1e-9)
    for mode, madds in (("forward", forward_madds), ("reverse", reverse_madds)):
        counts = [madds(r["d0"], r["d1"], r["d2"]) for r in rows]
        expect = np.polyfit(np.log(sizes), np.log(counts), 1)[0]
        assert slopes[mode][1] == pytest.approx(expect, rel=1e-12)
    if vary == "square":      # 4 n^2 exactly; n^3 + 3 n^2 between 2 and 3
        assert slopes["reverse"][1] == pytest.approx(2, abs=1e-9)
        assert 2.5 < slopes["forward"][1] < 3
    else:                     # each size enters forward's GEMM term linearly
        assert 0.5 < slopes["forward"][1] <= 1 + 1e-9


def test_loglog_slope_exact_on_power_laws():
    n = np.array([2.0, 4, 8, 16, 100])
    assert loglog_slope(n, 5 * n**-1.5) == pytest.approx(-1.5, abs=1e-12)
    assert loglog_slope(list(n), list(0.25 * n**3)) == pytest.approx(3, abs=1e-12)
    assert loglog_slope(n, 7 + 0 * n) == pytest.approx(0, abs=1e-12)


# ------------------------------------------------------------------ stopwatch

def test_time_calls_structure_and_round_robin():
    log, results = [], {}
    fns = {"a": lambda: log.append("a") or len(log), "b": lambda: log.append("b") or -len(log)}
    stats = time_calls(fns, repeats=3, warmup=1, results=results)
    assert log == ["a", "b"] + ["a", "b"] * 3       # warm-ups, then rounds in turn
    assert set(stats) == {"a", "b"}
    for st in stats.values():
        assert {"median_s", "min_s", "max_s", "spread", "samples", "repeats", "warmup",
                "number", "peak_extra_bytes", "background_load"} <= set(st)
        assert len(st["samples"]) == st["repeats"] == 3
        assert st["warmup"] == 1 and st["number"] == 1
        assert st["min_s"] <= st["median_s"] <= st["max_s"]
        assert st["min_s"] == min(st["samples"]) and st["max_s"] == max(st["samples"])
        assert st["median_s"] == pytest.approx(float(np.median(st["samples"])))
        assert st["spread"] == pytest.approx((st["max_s"] - st["min_s"]) / st["median_s"])
    assert results == {"a": 7, "b": -8}              # the last return values


def test_time_calls_rounds_per_function():
    """A dict of repeats: each fn takes part in the first rounds only, so
    samples with the same index come from the same round."""
    log = []
    fns = {k: (lambda k=k: log.append(k)) for k in ("fast", "slow", "once")}
    stats = time_calls(fns, repeats={"fast": 3, "slow": 2, "once": 1},
                       warmup={"fast": 1, "slow": 0, "once": 0})
    assert log == ["fast"] + ["fast", "slow", "once"] + ["fast", "slow"] + ["fast"]
    assert [stats[k]["repeats"] for k in fns] == [3, 2, 1]
    assert [len(stats[k]["samples"]) for k in fns] == [3, 2, 1]
    assert [stats[k]["warmup"] for k in fns] == [1, 0, 0]
    with pytest.raises(ValueError, match=r"repeats: no count for \['once'\]"):
        time_calls(fns, repeats={"fast": 1, "slow": 1})
    with pytest.raises(ValueError, match=r"warmup\['slow'\] must be >= 0, got -1"):
        time_calls(fns, warmup={"fast": 1, "slow": -1, "once": 0})


# tqdm's default format: '{desc}: {percentage}%|{bar}| {n}/{total} [{elapsed}<{remaining}, {rate}]',
# the rate '1.26round/s', '?round/s' or '5.1s/round'.
BAR = re.compile(r"(?:(?P<desc>.*): )?\s*\d+%\|[^|]*\| (?P<n>\d+)/(?P<total>\d+) "
                 r"\[[^\]]*?, (?:[\d.?]+(?P<unit>[a-z]+)/s|[\d.]+s/(?P<unit2>[a-z]+))\]\s*")


def bar_status(text):
    """(desc, n, total, unit) of the last tqdm bar in ``text`` (stderr as
    written: bars redrawn after '\\r'), or None where none is."""
    for piece in reversed(re.split("[\r\n]", text)):
        m = BAR.fullmatch(piece)
        if m:
            return m["desc"], int(m["n"]), int(m["total"]), m["unit"] or m["unit2"]
    return None


def test_time_calls_shows_what_runs_and_the_rounds_finished_on_stderr(capsys):
    """Before each call the bar names the fn that runs (its label) and
    counts the rounds finished; nothing goes to stdout."""
    seen = []
    def fn(name):
        def call():
            out, err = capsys.readouterr()
            seen.append((name, out, bar_status(err)))
        return call
    time_calls({"a": fn("a"), "b": fn("b")}, repeats={"a": 3, "b": 2}, warmup=1, labels={"a": "forward mode"})
    out, err = capsys.readouterr()
    assert seen == [("a", "", ("forward mode, warm-up", 0, 3, "round")), ("b", "", ("b, warm-up", 0, 3, "round")),
                    ("a", "", ("forward mode", 0, 3, "round")), ("b", "", ("b", 0, 3, "round")),
                    ("a", "", ("forward mode", 1, 3, "round")), ("b", "", ("b", 1, 3, "round")),
                    ("a", "", ("forward mode", 2, 3, "round"))]
    assert out == "" and bar_status(err) == ("forward mode", 3, 3, "round")       # all done


def test_time_calls_and_sweeps_without_progress_write_nothing(capsys):
    time_calls({"a": lambda: None}, repeats=2, progress=False)
    sweep([(3, 4, 5)], repeats=1, min_sample_s=0.0, progress=False)
    product_timing(6, 5, repeats=1, min_sample_s=0.0, progress=False)
    assert capsys.readouterr() == ("", "")


def test_sweep_shows_the_size_that_runs_and_the_sizes_finished(capsys, monkeypatch):
    """One bar of sizes, none inside it: time_calls runs without its own."""
    from helpers import scaling
    real, seen = scaling.time_calls, []
    def spy(fns, **kw):
        out, err = capsys.readouterr()
        seen.append((out, bar_status(err), kw["progress"]))
        return real(fns, **kw)
    monkeypatch.setattr(scaling, "time_calls", spy)
    sweep([(3, 3, 3), (1, 4, 5)], repeats=1, min_sample_s=0.0)
    out, err = capsys.readouterr()
    assert seen == [("", ("d = 3", 0, 2, "size"), False), ("", ("d0 = 1, d1 = 4, d2 = 5", 1, 2, "size"), False)]
    assert out == "" and bar_status(err) == ("d0 = 1, d1 = 4, d2 = 5", 2, 2, "size")


def test_compare_timings_uses_the_common_rounds():
    a = {"samples": [2.0, 2.2, 9.0]}           # a third round that b did not take part in
    b = {"samples": [1.0, 1.0]}
    c = compare_timings(a, b)
    assert c.word == "slower" and str(c.spread) == "from 2.0 to 2.2"
    assert str(c).endswith("over 2 rounds)")
    assert compare_timings(b, a).word == "faster"
    assert compare_timings({"samples": [1.0, 1.2]}, {"samples": [1.1, 1.1]}).word == "the same within the spread"


def test_seconds_in_words():
    assert seconds(14.62) == "14.6 s" and seconds(0.0861) == "86.1 ms" and seconds(3.1e-6) == "3.10 µs"
    assert seconds_range([0.0142, 0.0153, 0.0149]) == "from 14.2 to 15.3 ms"
    assert seconds_range([0.01421, 0.01539]) == "from 14.2 to 15.4 ms"       # widened outward
    assert seconds_range([2.0, 2.0]) == "2.00 s"


def test_time_calls_without_warmup():
    calls = []
    stats = time_calls({"f": lambda: calls.append(1)}, repeats=2, warmup=0, min_sample_s=1.0)
    assert len(calls) == 2 and stats["f"]["number"] == 1


def test_time_calls_loops_a_fast_function():
    calls, results = [0], {}

    def tick():
        calls[0] += 1
        return calls[0]
    stats = time_calls({"tick": tick}, repeats=2, warmup=1, min_sample_s=0.002, results=results)
    number = stats["tick"]["number"]
    assert number > 1
    assert calls[0] == 1 + 2 * number
    assert results["tick"] == calls[0]
    assert len(stats["tick"]["samples"]) == 2


def clear_refs_writable():
    """Whether this process may reset its peak resident set (Linux's
    /proc/self/clear_refs), tried directly."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def test_time_calls_meters_peak_memory():
    n = 8 * 10**6       # 64 MB, every page written; above glibc's largest mmap threshold (32 MB),
                        # so each call maps fresh pages instead of reusing freed heap
    stats = time_calls({"big": lambda: np.ones(n), "none": lambda: None}, repeats=2)
    big, none = stats["big"]["peak_extra_bytes"], stats["none"]["peak_extra_bytes"]
    if not clear_refs_writable():       # asked here, not of the meter: a meter that gives up must fail
        assert big is None and none is None     # "not measurable", never a made-up number
        pytest.skip("/proc/self/clear_refs is not writable here: the peak cannot be measured")
    assert big is not None and none is not None, "the peak was measurable here"
    assert 0.9 * 8 * n <= big <= 1.5 * 8 * n
    assert none < 0.1 * 8 * n


def test_traced_peak_bytes():
    assert not tracemalloc.is_tracing()
    peak = traced_peak_bytes(lambda: np.empty(10**6))
    assert 8e6 <= peak < 8e6 + 1e5
    assert not tracemalloc.is_tracing()              # switched off again
    assert traced_peak_bytes(lambda: None) < 1e4
    keep = np.ones(10**6)                            # live before: not counted
    assert traced_peak_bytes(lambda: keep.sum()) < 1e5
    tracemalloc.start()
    try:
        held = np.ones(10**6)                        # traced, live before the call
        peak = traced_peak_bytes(lambda: np.empty(2 * 10**6))
        assert 16e6 <= peak < 16e6 + 1e5             # only what fn() added
        assert traced_peak_bytes(held.sum) < 1e5
        assert tracemalloc.is_tracing()              # left on if it was on
    finally:
        tracemalloc.stop()


def test_save_results_writes_and_appends(tmp_path, monkeypatch):
    from helpers import timing
    monkeypatch.setattr(timing, "PROJECT", tmp_path)            # a project of its own
    result = {"params": {"d": 3}, "rows": [
        {"method": "a", "median_s": 0.5, "samples": [0.4, 0.5], "meta": {"x": 1}, "n": None},
        {"method": "b", "median_s": 1.5, "samples": [1.5], "meta": {}, "n": 2}]}
    paths = save_results(result, tmp_path / "new" / "dir", "run")
    assert [p.name for p in paths] == ["run.json", "run.csv", "run_history.csv"]
    assert all(p.exists() and p.parent == (tmp_path / "new" / "dir").resolve() for p in paths)
    saved = json.loads(paths[0].read_text())
    assert saved["params"] == {"d": 3} and saved["rows"][0]["samples"] == [0.4, 0.5]
    assert "saved" in saved
    with open(paths[1], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [{"method": "a", "median_s": "0.5", "n": ""},
                    {"method": "b", "median_s": "1.5", "n": "2"}]   # no lists or dicts

    result["rows"][0]["median_s"] = 0.25
    save_results(result, tmp_path / "new" / "dir", "run")
    with open(paths[1], newline="") as fh:
        assert [r["median_s"] for r in csv.DictReader(fh)] == ["0.25", "1.5"]  # overwritten
    with open(paths[2], newline="") as fh:
        reader = csv.DictReader(fh)
        history = list(reader)
    assert reader.fieldnames == ["saved", "method", "median_s", "n"]
    assert [r["median_s"] for r in history] == ["0.5", "1.5", "0.25", "1.5"]   # appended
    assert all(time.strptime(r["saved"], "%Y-%m-%dT%H:%M:%S") for r in history)
    assert paths[2].read_text().count("saved,") == 1                         # one header

    # A column added (key) and one gone (n) since: the history keeps its own columns.
    result["rows"] = [{"method": "a", "key": "k_a", "median_s": 0.125}]
    save_results(result, tmp_path / "new" / "dir", "run")
    with open(paths[2], newline="") as fh:
        reader = csv.DictReader(fh)
        history = list(reader)
    assert reader.fieldnames == ["saved", "method", "median_s", "n"]
    assert [(r["method"], r["median_s"], r["n"], None in r) for r in history[-2:]] == [
        ("b", "1.5", "2", False), ("a", "0.125", "", False)]
    with open(paths[1], newline="") as fh:
        assert list(csv.DictReader(fh)) == [{"method": "a", "key": "k_a", "median_s": "0.125"}]


def test_save_results_relative_directory_is_in_the_project_wherever_it_runs(tmp_path, monkeypatch):
    from helpers import timing
    assert (timing.PROJECT / "helpers" / "timing.py").is_file()    # the checkout, not the working dir
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(timing, "PROJECT", project)
    monkeypatch.chdir(elsewhere)                  # as `papermill notebooks/1f_timing.ipynb out.ipynb` from anywhere
    result = {"rows": [{"method": "a", "median_s": 0.5}]}
    paths = save_results(result, "build/results", "run")
    assert [p.parent for p in paths] == [(project / "build" / "results").resolve()] * 3
    assert all(p.exists() for p in paths) and list(elsewhere.iterdir()) == []
    absolute = save_results(result, project / "abs", "run")       # an absolute folder stays as it is
    assert absolute[0].parent == (project / "abs").resolve()


@pytest.mark.parametrize("folder, why", [
    ("../elsewhere", "outside the project folder"), ("/tmp/x", "outside the project folder"),
    ("build/results", "inside the report's output folder"), ("build", "inside the report's output folder"),
    ("old/results", "inside the report's output folder")])
def test_save_results_refuses_what_the_build_refuses(tmp_path, monkeypatch, folder, why):
    """A hand run saves neither outside the project nor into a report's
    output folder (marked by the tool, or by an older tool's report.key)."""
    from helpers import timing
    project = tmp_path / "project"
    (project / "build").mkdir(parents=True)
    (project / "build" / ".report-folder").write_text("")
    (project / "old").mkdir()
    (project / "old" / "report.key").write_text("0" * 64)
    monkeypatch.setattr(timing, "PROJECT", project)
    with pytest.raises(ValueError, match=why):
        save_results({"rows": [{"a": 1}]}, folder, "run")
    assert not (project / "build" / "results").exists() and not (tmp_path / "elsewhere").exists()
    # where a build points it: its working folder in an output folder, inside the project or not
    for out in (project / "build", tmp_path / "out"):
        (out / ".report-folder").parent.mkdir(parents=True, exist_ok=True)
        (out / ".report-folder").write_text("")
        saved = save_results({"rows": [{"a": 1}]}, out / ".run-abc" / "1f.results", "run")
        assert saved[0].parent == (out / ".run-abc" / "1f.results").resolve()


# ------------------------------------------------------------------ machine

def test_machine_info_keys():
    info = machine_info()
    assert {"cpu", "logical_cores", "numpy", "torch", "torch_threads"} <= set(info)
    assert isinstance(info["cpu"], str) and info["cpu"]
    assert info["logical_cores"] >= 1 and info["torch_threads"] >= 1
    assert np.__version__ in info["numpy"] and torch.__version__ in info["torch"]
    assert info["device"] == "cpu"
    assert info["numpy_blas"] in ("OpenBLAS", "MKL", None) and info["torch_blas"] in ("MKL", None)


def numpy_has_openblas():
    """Whether NumPy was built with OpenBLAS (its build record) and Linux's
    /proc/self/maps can show where it is loaded."""
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return "openblas" in str(blas.get("name", "")).lower() and os.path.exists("/proc/self/maps")


def test_blas_threads_sets_and_restores():
    with blas_threads(None) as n:
        assert n is None
    threads = lambda: machine_info()["numpy_blas_threads"]
    outer = threads()
    if not numpy_has_openblas():        # asked of NumPy's build, not of the code under test
        assert outer is None
        with blas_threads(1) as n:
            assert n is None            # cannot be set, and says so
        pytest.skip("NumPy does not use OpenBLAS here; its thread count cannot be set")
    assert outer is not None, "NumPy uses OpenBLAS, yet its thread count was not found"
    with blas_threads(2) as two:                 # 1 on a one-core machine
        with blas_threads(1) as n:
            assert n == 1 and threads() == 1
        assert threads() == two                  # restored on exit
        with pytest.raises(RuntimeError), blas_threads(1):
            raise RuntimeError("boom")
        assert threads() == two                  # restored on error
    assert threads() == outer


def test_background_load():
    start = cpu_seconds()
    assert len(start) == 2 and start[1] >= 0
    assert background_load(start, time.perf_counter()) is None
    assert background_load(start, time.perf_counter() - 0.2, min_wall_s=0.5) is None
    load = background_load(cpu_seconds(), time.perf_counter() - 1.0)
    if os.path.exists("/proc/stat"):
        assert math.isfinite(start[0]) and 0.0 <= load <= 1.0
    else:                               # the machine's CPU time is unknown: no load is claimed
        assert math.isnan(start[0]) and load is None


# ------------------------------------------------------------------ study

STUDY_D = 48


@pytest.fixture(scope="module")
def study():
    return timing_study(d=STUDY_D, repeats=2, slow_repeats=1, warmup_d=16, chunk_size=8)


SLOW = {"gemm", "forward", "forward_chunked", "jacfwd"}                     # Theta(d^3) work
CONTEXT = {"forward_chunked", "jacfwd"}             # extras: timed once, at the probe size
GB_READS = {"f": 2, "matvec": 1, "vecmat": 1, "torch_matvec": 1, "reverse": 4, "reverse_fused": 3,
            "torch_autograd": 4}
GFLOPS = {"gemm", "forward", "forward_chunked"}                            # 2 d^3 flops
LABELS = {"f": "f alone", "matvec": r"matrix-vector product $A\mathbf{x}$",
          "vecmat": r"vector-matrix product $\mathbf{x}^T A$",
          "torch_matvec": r"torch matrix-vector product $A\mathbf{x}$",
          "gemm": "matrix-matrix product $BA$ (GEMM)", "forward": "forward",
          "forward_chunked": "forward chunked", "reverse": "reverse", "reverse_fused": "reverse fused",
          "torch_autograd": "PyTorch autograd", "jacfwd": "torch.func.jacfwd"}   # as the report shows them


def test_study_rows_cover_every_method(study):
    rows = {r["key"]: r for r in study["rows"]}
    assert list(rows) == [m.key for m in METHODS if m.key not in SLOW] + [
        m.key for m in METHODS if m.key in SLOW - CONTEXT] + [m.key for m in METHODS if m.key in CONTEXT]
    for name, r in rows.items():
        assert r["method"] == LABELS[name]
        assert r["context"] == (name in CONTEXT)
        d = STUDY_D // 2 if name in CONTEXT else STUDY_D          # the size it was timed at
        assert r["d"] == d
        assert r["min_s"] <= r["median_s"] <= r["max_s"] and r["min_s"] > 0
        assert r["repeats"] == len(r["samples"]) == (1 if name in SLOW else 2)
        # warm-ups at d: always for the fast ones; for a slow one where its small call predicts it cheap
        assert r["warmup"] in ((0, 1) if name in SLOW else (1,))
        looped = f" ({r['number']} calls each)" if r["number"] > 1 else ""
        warm = "1 warm-up" if r["warmup"] else "1 warm-up at d = 16"
        assert r["calls"] == f"{r['repeats']} timed{looped} + {warm}"
        assert r["number"] >= 1 and (r["number"] == 1 or r["warmup"] == 1)   # loops need a warm-up at d
        reads, t = GB_READS.get(name), r["median_s"]
        assert r["GB_per_s"] == (reads and pytest.approx(reads * 8 * d**2 / t / 1e9)), name
        assert r["GFLOP_per_s"] == (pytest.approx(2 * d**3 / t / 1e9) if name in GFLOPS else None)
        # the read floor: its reads x the faster median of A x and x A at d
        t_mv = min(rows["matvec"]["median_s"], rows["vecmat"]["median_s"])
        floor = reads * t_mv if reads and name not in CONTEXT else None
        assert r["floor_s"] == floor, name
        assert r["vs_floor"] == (floor and pytest.approx(t / floor)), name
    assert {r["role"] for r in study["rows"]} == set(methods.ROLES)
    assert study["params"] == {"d": STUDY_D, "repeats": 2, "slow_repeats": 1, "warmup_d": 16,
                               "chunk_size": 8, "seed": 0, "device": "cpu",
                               "dtype": "float64", "probe_d": STUDY_D // 2, "min_sample_s": 0.02}
    assert set(study["probes"]) == {"gemm", "matvec"}
    assert study["probes"]["gemm"]["repeats"] == 1 and study["probes"]["matvec"]["repeats"] == 2
    assert {"cpu", "numpy", "torch"} <= set(study["machine"]) and study["wall_s"] > 0


@pytest.mark.parametrize("limit, warm_slow", [(0.0, 0), (math.inf, 1)])
def test_study_warms_slow_methods_at_d_only_where_cheap(monkeypatch, limit, warm_slow):
    """At d, and the context methods likewise at the probe size."""
    from helpers import timing_study as ts
    monkeypatch.setattr(ts, "WARM_AT_D_S", limit)
    rows = {r["key"]: r for r in ts.timing_study(d=20, repeats=2, slow_repeats=1, warmup_d=8,
                                                chunk_size=4)["rows"]}
    assert CONTEXT <= set(rows)
    for key, r in rows.items():
        assert r["warmup"] == (warm_slow if key in SLOW else 1), key
        assert r["calls"].endswith("1 warm-up at d = 8") == (key in SLOW and not warm_slow)


def test_study_plan_puts_every_method_in_the_same_rounds():
    from helpers.timing_study import _plan
    ms = [m for m in METHODS if not m.chunked]
    small = {m.key: 1e-3 for m in ms}
    rounds, warm = _plan(ms, repeats=7, slow_repeats=3, small_s=small, scale=10.0)      # 10 ms at d: cheap
    assert rounds == {m.key: 1 if m.context else 3 if m.slow else 7 for m in ms}
    assert set(warm.values()) == {1}
    rounds, warm = _plan(ms, repeats=7, slow_repeats=3, small_s=small, scale=1e4)       # 10 s at d
    assert warm == {m.key: 0 if m.slow else 1 for m in ms}


def test_a_new_method_is_one_record(monkeypatch):
    """Adding a record is all it takes: the study times it, checks its
    gradient, and the tables and the bar chart show it."""
    twin = methods.Method("reverse_twin", "reverse twin", "ours",
                          lambda p: f_and_grad_reverse(p.x, p.A, p.B), reads=4)
    monkeypatch.setattr(methods, "METHODS", [*METHODS, twin])
    study = timing_study(d=16, repeats=1, slow_repeats=1, warmup_d=8)
    assert ("reverse_twin", "reverse twin") in [(r["key"], r["method"]) for r in study["rows"]]
    assert study["agreement"]["reverse_twin"] == 0
    assert "reverse twin" in [r["method"] for r in summary_rows(study)]
    fig = plot_timings(study["rows"])
    assert "reverse twin" in [t.get_text() for t in fig.axes[0].get_yticklabels()]


def test_the_context_methods_are_timed_once_at_the_probe_size_only(monkeypatch, capsys):
    """A context method is called at the start-up size and at probe_d, never
    at d; its one sample is compared with the GEMM at probe_d; the bars say
    which method runs at which size."""
    sizes = []
    spy = methods.Method("spy", "spy", "framework", lambda p: sizes.append(len(p.x)), slow=True,
                         context=True, gradient=False, words="the spy")
    monkeypatch.setattr(methods, "METHODS", [*METHODS, spy])
    study = timing_study(d=40, repeats=2, slow_repeats=2, warmup_d=8, probe_d=20, min_sample_s=0.0)
    assert sizes[0] == 8 and set(sizes[1:]) == {20} and len(sizes) in (2, 3)     # start-up, [warm-up,] one sample
    by = {r["key"]: r for r in study["rows"]}
    row = by["spy"]
    assert (row["d"], row["repeats"], len(row["samples"]), row["vs_f"], row["vs_autograd"]) == (20, 1, 1, None, None)
    assert row["vs_gemm"] == pytest.approx(row["median_s"] / study["probes"]["gemm"]["median_s"])
    assert study["probes"]["gemm"]["repeats"] == 2 and by["gemm"]["d"] == 40 and "spy" not in study["agreement"]
    assert [r["key"] for r in study["rows"]][-2:] == ["jacfwd", "spy"]          # the context ones last
    out, err = capsys.readouterr()
    descs = {bar_status(piece)[0] for piece in re.split("[\r\n]", err) if bar_status(piece)}
    assert out == "" and {"the spy at d = 20", "GEMM at d = 20", "GEMM at d = 40", "forward mode at d = 40",
                          "reverse mode at d = 40", "torch.func.jacfwd at d = 20"} <= descs
    assert not any(w.startswith(("the spy at d = 40", "torch.func.jacfwd at d = 40")) for w in descs)


def test_study_gradients_agree(study):
    agreement = study["agreement"]
    assert set(agreement) == {"reverse_fused", "torch_autograd", "forward", "forward_chunked", "jacfwd"}
    for name, v in agreement.items():
        assert 0 <= v < 1e-12, name


def test_study_ratios(study):
    rows = {r["key"]: r for r in study["rows"]}
    assert rows["torch_autograd"]["vs_autograd"] == 1
    assert rows["gemm"]["vs_gemm"] == 1
    assert rows["f"]["vs_f"] == 1
    for r in study["rows"]:
        if r["context"]:            # to the GEMM at its own size; no other ratio across sizes
            assert (r["vs_f"], r["vs_autograd"]) == (None, None)
            assert r["vs_gemm"] == pytest.approx(r["median_s"] / study["probes"]["gemm"]["median_s"])
            continue
        for key, ref in (("vs_f", "f"), ("vs_autograd", "torch_autograd"), ("vs_gemm", "gemm")):
            assert r[key] == pytest.approx(r["median_s"] / rows[ref]["median_s"])


def test_study_targets(study):
    """The rule PASS/MISS is tested on a synthetic study below; here the real
    study's checks are all present and the deterministic one passes."""
    by = {r["check"]: r for r in targets(study)}
    assert {r["limit"] for r in by.values()} == {0.9, 0.8, 1e-14, 1.15, 1.05, 1.1, 2.01, None}
    assert by["reverse fused vs reverse, max rel. diff."]["status"] == "PASS"
    assert by["reverse / PyTorch autograd"]["measured"] == \
        {r["key"]: r for r in study["rows"]}["reverse"]["vs_autograd"]


def test_summary_rows(study):
    summary = summary_rows(study)
    assert [r["method"] for r in summary] == [LABELS[r["key"]] + (f" (d = {STUDY_D // 2})" if r["key"] in CONTEXT
                                                                  else "") for r in study["rows"]]
    assert all(isinstance(v, str) for r in summary for v in r.values())
    by = {r["key"]: s for r, s in zip(study["rows"], summary)}
    assert by["gemm"]["vs GEMM"] == "1" and by["torch_autograd"]["vs autograd"] == "1"
    assert by["gemm"]["rate"].endswith("GFLOP/s")
    assert by["reverse"]["rate"].endswith("GB/s")
    assert by["jacfwd"]["rate"] == "-"
    assert (by["jacfwd"]["vs f"], by["jacfwd"]["vs autograd"], by["jacfwd"]["range"]) == ("-", "-", "-")
    chunked = next(r for r in study["rows"] if r["key"] == "forward_chunked")     # its rate at its size
    assert by["forward_chunked"]["rate"] == f"{2 * (STUDY_D // 2)**3 / chunked['median_s'] / 1e9:.0f} GFLOP/s"


def test_the_bar_chart_leaves_out_the_rows_at_another_size(study):
    fig = plot_timings(study["rows"])
    shown = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert sorted(shown) == sorted(LABELS[r["key"]] for r in study["rows"] if r["key"] not in CONTEXT)


def test_study_without_chunks():
    study = timing_study(d=24, repeats=1, slow_repeats=1, warmup_d=8, chunk_size=0)
    keys = [r["key"] for r in study["rows"]]
    assert "forward_chunked" not in keys
    assert set(keys) == {m.key for m in METHODS} - {"forward_chunked"}
    assert "forward_chunked" not in study["agreement"]
    assert all(v < 1e-12 for v in study["agreement"].values())
    rows = targets(study)
    assert not any("chunked" in r["check"] for r in rows)
    assert [r["check"] for r in rows if r["limit"] == 1.1] == [          # the chunked check's limit is gone
        "reverse / its read floor (4 reads x the faster matrix-vector product)"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_study_rejects_cuda_without_gpu(device):
    with pytest.raises(ValueError, match=repr(device)):
        timing_study(d=8, repeats=1, warmup_d=4, device=device)


def test_study_rejects_other_torch_devices():
    with pytest.raises(ValueError, match="'meta'"):
        timing_study(d=8, repeats=1, warmup_d=4, device="meta")


def test_study_rejects_unknown_device():
    with pytest.raises(ValueError, match="tpu"):
        timing_study(d=8, repeats=1, warmup_d=4, device="tpu")


def _fake_study(peak_bytes, d=10, chunk_size=0):
    """A study dict with chosen times (seconds), as timing_study returns it."""
    times = {"f": 1.0, "matvec": 0.5, "vecmat": 0.6, "reverse": 2.0, "reverse_fused": 1.5,
             "torch_autograd": 4.0, "gemm": 10.0, "forward": 20.0, "jacfwd": 30.0}
    if chunk_size:
        times["forward_chunked"] = 10.5
    floor = lambda k: GB_READS[k] * 0.5 if k in GB_READS else None     # reads x the faster of A x, x A
    rows = [{"method": LABELS[k], "key": k, "role": "ours", "median_s": t, "min_s": t, "max_s": t, "repeats": 1,
             "samples": [t], "number": 1, "warmup": 1, "calls": "1 + 1", "d": d // 2 if k in CONTEXT else d,
             "context": k in CONTEXT, "vs_f": t, "vs_autograd": t / 4.0, "vs_gemm": t / 10.0, "GB_per_s": None,
             "GFLOP_per_s": None, "peak_extra_bytes": peak_bytes, "floor_s": floor(k),
             "vs_floor": floor(k) and t / floor(k)} for k, t in times.items()]
    probes = {"gemm": {"median_s": 10.0 / 8, "min_s": 10.0 / 8}, "matvec": {"median_s": 0.5 / 4, "min_s": 0.5 / 4}}
    return {"rows": rows, "params": {"d": d, "chunk_size": chunk_size, "probe_d": d // 2},
            "machine": {"cpu": "test"},
            "probes": probes, "agreement": {"reverse_fused": 1e-15}, "wall_s": 1.0,
            "background_load": None}


def test_mode_comparison_on_a_synthetic_study():
    """1f's answer numbers: the two ratios of medians, and the prediction
    from the probes' rates at probe_d alone (a gradient's own time never
    enters it)."""
    d = 10
    study = _fake_study(0, d=d)
    by = {r["key"]: r for r in study["rows"]}
    by["forward"].update(min_s=19.0, max_s=23.0, repeats=3)
    cmp = mode_comparison(study)
    assert cmp["forward_vs_reverse"] == 10.0            # 20 s / 2 s: forward is the slow one
    assert cmp["reverse_vs_autograd"] == 0.5            # 2 s / 4 s: reverse beats autograd
    assert (cmp["forward_min_s"], cmp["forward_max_s"], cmp["forward_n"]) == (19.0, 23.0, 3)
    fwd, rev = d**3 + 3 * d**2, 4 * d**2                # the exact counts of part 1e
    assert cmp["madds_ratio"] == fwd / rev and cmp["probe_d"] == d // 2
    gemm, matvec = 5**3 / 1.25, 5**2 / 0.125            # probes at d // 2 = 5
    assert cmp["gemm_madds_per_s"] == gemm and cmp["matvec_madds_per_s"] == matvec
    assert cmp["predicted_forward_s"] == pytest.approx(fwd / gemm)
    assert cmp["predicted_reverse_s"] == pytest.approx(rev / matvec)
    assert cmp["predicted_time_ratio"] == pytest.approx(fwd / rev * matvec / gemm)
    for name in ("forward", "reverse", "torch_autograd"):       # the gradients' times don't move it
        by[name]["median_s"] *= 3
    assert mode_comparison(study)["predicted_time_ratio"] == pytest.approx(cmp["predicted_time_ratio"])


def test_targets_on_a_synthetic_study():
    d, c = 10, 4
    by = {r["check"]: r for r in targets(_fake_study(8 * d * d, d=d, chunk_size=c))}
    chunked, jacfwd = "forward chunked / GEMM, both at d = 5", "torch.func.jacfwd / GEMM, both at d = 5 (no limit)"
    assert by["reverse / PyTorch autograd"]["measured"] == 0.5
    assert by["reverse / PyTorch autograd"]["status"] == "PASS"
    assert by["reverse fused / PyTorch autograd"]["status"] == "PASS"      # 0.375 <= 0.8
    assert by["forward / GEMM"]["measured"] == 2.0
    assert by["forward / GEMM"]["status"] == "MISS"
    assert by[chunked]["measured"] == 1.05
    assert by[chunked]["status"] == "PASS"                                  # <= 1.1
    assert by[chunked]["fastest calls"] == 10.5 / 1.25                      # its fastest call / the GEMM's at d = 5
    assert by[jacfwd]["fastest calls"] == 30.0 / 1.25 and by[jacfwd]["status"] == "info"
    assert by["forward / GEMM"]["fastest calls"] == 20.0 / 10.0             # the GEMM at d
    mem = by["forward peak extra memory, d x d matrices"]
    assert mem["measured"] == 1.0 and mem["status"] == "PASS"
    chunk_mem = by[f"forward chunked peak extra memory / (2 d c numbers), c = {c}, d = 5"]
    assert chunk_mem["measured"] == d * d / (2 * 5 * c) and chunk_mem["status"] == "MISS"
    assert by["reverse fused / reverse (no limit; 3 passes / 4 = 0.75)"]["measured"] == 0.75
    assert by["reverse fused / reverse (no limit; 3 passes / 4 = 0.75)"]["status"] == "info"
    assert by["reverse fused vs reverse, max rel. diff."]["status"] == "PASS"
    floor = lambda label, reads: f"{label} / its read floor ({reads} reads x the faster matrix-vector product)"
    fused, rev = by[floor("reverse fused", 3)], by[floor("reverse", 4)]
    assert (fused["measured"], fused["fastest calls"], fused["limit"], fused["status"]) == (1.0, 1.0, 1.15, "PASS")
    assert (rev["measured"], rev["limit"], rev["status"]) == (1.0, 1.1, "PASS")        # 2.0 / (4 x 0.5)
    ag = by[floor("PyTorch autograd", 4) + " (no limit)"]
    assert (ag["measured"], ag["status"]) == (2.0, "info")


def test_read_floor_targets_miss_above_their_limits():
    """Fused at 1.16 x its floor and reverse at 1.11 x: both MISS; the
    fastest calls use the faster of the two products' fastest calls."""
    study = _fake_study(0)
    by = {r["key"]: r for r in study["rows"]}
    for key, ratio in (("reverse_fused", 1.16), ("reverse", 1.11)):
        by[key]["vs_floor"] = ratio
        by[key]["min_s"] = ratio * GB_READS[key] * 0.4
    by["vecmat"]["min_s"] = 0.4                     # faster than A x's 0.5 in its fastest call
    rows = {r["check"]: r for r in targets(study)}
    for label, reads, ratio in (("reverse fused", 3, 1.16), ("reverse", 4, 1.11)):
        row = rows[f"{label} / its read floor ({reads} reads x the faster matrix-vector product)"]
        assert (row["measured"], row["status"]) == (ratio, "MISS")
        assert row["fastest calls"] == pytest.approx(ratio)


def test_floor_comparison_pairs_each_round_with_the_faster_product():
    """Round k's floor is reads x round k's sample of the product with the
    faster median (A x here, though x A was faster in round 2); the stated
    ratio is the row's ratio of medians; a method without a floor is refused."""
    study = _fake_study(0)
    by = {r["key"]: r for r in study["rows"]}
    by["matvec"]["samples"], by["vecmat"]["samples"] = [0.5, 0.55, 0.5], [0.6, 0.45, 0.9]
    by["reverse_fused"]["samples"] = [1.6, 1.7, 1.8]        # against 1.5, 1.65, 1.5
    by["reverse_fused"]["vs_floor"] = 1.7 / 1.5
    phrase = floor_comparison(study, "reverse_fused")
    assert phrase == "slower (1.13 times as long; from 1.03 to 1.20 over 3 rounds)"
    by["reverse_fused"]["samples"] = [1.4, 1.7, 1.2]         # below the floor in rounds 1 and 3
    assert floor_comparison(study, "reverse_fused").word == "the same within the spread"
    with pytest.raises(ValueError, match="'gemm' has no read floor"):
        floor_comparison(study, "gemm")


def test_targets_zero_peak_memory_is_a_pass():
    by = {r["check"]: r for r in targets(_fake_study(0))}
    mem = by["forward peak extra memory, d x d matrices"]
    assert mem["measured"] == 0.0 and mem["status"] == "PASS"


# ------------------------------------------------------------------ bench

def test_bench_prints_targets(monkeypatch, capsys):
    from helpers import bench

    monkeypatch.setattr(bench, "timing_study", lambda *a, **k: _fake_study(8 * 40 * 40, d=40))
    bench_main(["--d", "40", "--repeats", "1"])
    out = capsys.readouterr().out
    status = {ln.split("  ")[0]: ln.split()[-1] for ln in out.splitlines() if ln.split()}
    assert status["reverse / PyTorch autograd"] == "PASS"          # 0.5 <= 0.9
    assert status["forward / GEMM"] == "MISS"                      # 2.0 > 1.05
    assert status["reverse fused / reverse (no limit; 3 passes / 4 = 0.75)"] == "info"
    assert "torch.func.jacfwd" in out and "wall time 1.0 s" in out and "saved" not in out


def test_bench_saves_results(tmp_path, capsys, monkeypatch):
    from helpers import timing
    monkeypatch.setattr(timing, "PROJECT", tmp_path)            # saves go inside the project
    bench_main(["--d", "24", "--repeats", "1", "--chunk-size", "0", "--results", str(tmp_path)])
    assert "saved" in capsys.readouterr().out
    stem = tmp_path / "bench_cpu_d24"
    saved = json.loads(stem.with_suffix(".json").read_text())
    assert saved["params"]["d"] == 24 and saved["params"]["chunk_size"] == 0
    with open(stem.with_suffix(".csv"), newline="") as fh:
        saved_rows = list(csv.DictReader(fh))
    assert {r["key"] for r in saved_rows} == {m.key for m in METHODS} - {"forward_chunked"}
    assert {r["method"] for r in saved_rows} == {m.label for m in METHODS} - {"forward chunked"}
    assert (tmp_path / "bench_cpu_d24_history.csv").exists()


# --------------------------------------------- the notebooks' words, planted
# The sentences of parts 1e and 1f word measured comparisons from samples.
# Their code cells run here on planted timings (no clock): an inversion of
# the expected order must change the words and raise nothing.

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_code_cells(stem, params, monkeypatch):
    """Run the code cells of notebooks/<stem>.ipynb in order (the parameters
    cell replaced by ``params``) in one namespace; returns {name: text} of
    the records the cells made.  Figures are closed, displays go nowhere."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import IPython.display
    from helpers import claims

    records = {}

    def publish(data, metadata, *how):  # what a kernel would keep: the recorded values
        if claims.VALUE_MIME in metadata:
            value = metadata[claims.VALUE_MIME]
            assert value["name"] not in records, f"{value['name']} recorded twice"
            records[value["name"]] = value["text"]
    monkeypatch.setattr(claims, "_publish", publish)
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: None)
    cells = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())["cells"]
    ns = {}
    for cell in cells:
        src = "".join(cell["source"])
        if cell["cell_type"] != "code":
            continue
        if "parameters" in cell["metadata"].get("tags", []):
            src = "\n".join(f"{k} = {v!r}" for k, v in params.items())
        exec(compile(src, f"{stem}:{cell['id']}", "exec"), ns)
        plt.close("all")
    return records


def _planted_sweep(forward_faster_at):
    """sweep() on planted samples: forward mode takes 1.5 times reverse mode's
    time in every round, except at d0 in ``forward_faster_at``, where it takes 0.6."""
    def fake(shapes, *, repeats=3, seed=0, threads=1, min_sample_s=0.02):
        rows = []
        for d0, d1, d2 in shapes:
            rev = [1e-3 * (1 + 0.01 * k) for k in range(repeats)]
            q = 0.6 if d0 in forward_faster_at else 1.5 * (d0 if d0 == d1 == d2 else 1)
            fwd = [q * t for t in rev]
            row = {"d0": d0, "d1": d1, "d2": d2}
            for m, s in (("forward", fwd), ("reverse", rev)):
                row.update({f"{m}_s": float(np.median(s)), f"{m}_min_s": min(s), f"{m}_max_s": max(s),
                            f"{m}_samples": s, f"{m}_number": 1,
                            f"{m}_madds": (forward_madds if m == "forward" else reverse_madds)(d0, d1, d2)})
            rows.append(row)
        return rows
    return fake


@pytest.mark.parametrize("faster_at, vB_slower, verdict", [
    ((), True, "No $d_0$ shows forward mode faster, which agrees with the counts."),
    ((1,), True, "can account for it"),
    ((1,), False, "no measurement here explains it"),
    ((4,), True, "no measurement here explains it"),
    ((1, 4), True, "which can account for it there"),
])
def test_1e_words_follow_a_planted_inversion(monkeypatch, faster_at, vB_slower, verdict):
    from helpers import scaling
    monkeypatch.setattr(scaling, "sweep", _planted_sweep(faster_at))
    bv = [1e-3, 1.1e-3, 1.05e-3]
    vb = [t * (1.3 if vB_slower else 0.7) for t in bv]
    monkeypatch.setattr(scaling, "product_timing", lambda *a, **k: {"BV": {"samples": bv}, "vB": {"samples": vb}})
    params = {"d0": 5, "d1": 4, "d2": 3, "sweep_max_d": 40, "sweep_points": 3, "sweep_repeats": 3,
              "sweep_threads": 1, "few_inputs": [1, 4, 16], "seed": 0, "quick": False}
    rec = run_code_cells("1e_complexity", params, monkeypatch)
    clock = rec["few_clock"]
    if faster_at:
        assert f"faster at $d_0$ = {faster_at[0]}" in clock
    assert "slower at $d_0$ = " in clock
    assert verdict in rec["few_verdict"]
    assert rec["vB_vs_BV"].startswith("slower" if vB_slower else "faster")


def test_1e_with_quick_states_the_sizes_it_ran(monkeypatch):
    """quick = True: the sweeps run at quick.json's sizes, and the sentences
    name those sizes and rounds."""
    from helpers import scaling
    shapes = []
    planted = _planted_sweep(())
    monkeypatch.setattr(scaling, "sweep", lambda s, **k: shapes.append(list(s)) or planted(s, **k))
    bv = [1e-3, 1.1e-3, 1.05e-3]
    monkeypatch.setattr(scaling, "product_timing", lambda *a, **k: {"BV": {"samples": bv}, "vB": {"samples": bv}})
    params = {"d0": 5, "d1": 4, "d2": 3, "sweep_max_d": 2000, "sweep_points": 6, "sweep_repeats": 7,
              "sweep_threads": 1, "few_inputs": [1, 4, 16], "seed": 0, "quick": True}
    rec = run_code_cells("1e_complexity", params, monkeypatch)
    quick = json.loads(QUICK_JSON.read_text())
    n, points = quick["sweep_max_d"], quick["sweep_points"]
    assert len(shapes[0]) == points and shapes[0][-1] == (n, n, n) and shapes[1][0] == (1, n, n)
    assert (rec["sweep_d_hi"], rec["few_d"]) == (str(n), str(n))
    assert rec["sweep_rounds"] == f"{quick['sweep_repeats']} rounds"


def _planted_1f(monkeypatch, quick=False, gemm_there=(1e-3, 1.1e-3, 0.9e-3), **times):
    """Run 1f's code cells on a planted study: fixed times per method
    (``times`` override them; None drops a method), autograd's samples
    spread 10 % either way, jacfwd timed once at probe_d beside the GEMM's
    samples ``gemm_there``; ``quick``: the notebook's parameter; returns
    the records."""
    from helpers import timing
    from helpers import timing_study as ts
    fast = {"f": 1.0, "matvec": 0.5, "vecmat": 0.6, "torch_matvec": 0.8, "reverse": 2.0, "reverse_fused": 1.8,
            "torch_autograd": 2.0}
    slow = {"gemm": 0.9, "forward": 1.0, "jacfwd": 3.0}                   # forward: half reverse's time
    rows = []
    for key, t in {**fast, **slow, **times}.items():
        if t is None:
            continue
        n = 1 if key == "jacfwd" else 3
        s = [t * (1 + 0.1 * (-1) ** k * (key == "torch_autograd")) for k in range(n)]
        context = key in CONTEXT
        rows.append({"method": LABELS[key], "key": key, "role": methods.METHOD[key].role, "median_s": float(np.median(s)),
                     "min_s": min(s), "max_s": max(s), "spread": 0.0, "samples": s, "repeats": n, "warmup": 1,
                     "number": 1, "calls": f"{n} timed + 1 warm-up", "peak_extra_bytes": 0, "background_load": None,
                     "d": 5 if context else 10, "context": context, "GB_per_s": None, "GFLOP_per_s": None,
                     "vs_f": None if context else t, "vs_autograd": None if context else t / 2, "vs_gemm": t / 0.9,
                     "vs_floor": GB_READS[key] and t / (GB_READS[key] * 0.5) if key in GB_READS else None})
    study = {"rows": rows, "params": {"d": 10, "chunk_size": 0, "probe_d": 5, "min_sample_s": 0.02},
             "machine": {"cpu": "planted", "cores_usable": 2, "numpy": "-", "torch": "-"},
             "probes": {"gemm": {"median_s": float(np.median(gemm_there)), "samples": list(gemm_there)},
                        "matvec": {"median_s": 1e-4}},
             "agreement": {k: 1e-16 for k in ("forward", "reverse_fused", "torch_autograd", "jacfwd")},
             "wall_s": 1.0, "background_load": None}
    monkeypatch.setattr(ts, "timing_study", lambda *a, **k: study)
    monkeypatch.setattr(timing, "save_results", lambda *a, **k: [])        # nothing written
    params = {"timing_d": 10, "repeats": 3, "slow_repeats": len(gemm_there), "timing_chunk_size": 0,
              "device": "cpu", "seed": 0, "quick": quick, "results_dir": "scratch/results"}
    return run_code_cells("1f_timing", params, monkeypatch)


def test_1f_words_follow_a_planted_inversion(monkeypatch):
    """Forward mode planted faster than reverse mode in every round, reverse
    mode overlapping autograd: the answer's words say so, nothing raises."""
    rec = _planted_1f(monkeypatch)
    assert rec["fwd_vs_rev"] == "faster (0.500 times as long; 0.500 over 3 rounds)"
    assert rec["rev_vs_ag"].startswith("the same within the spread")
    assert rec["ag_cause"] == ("Timed in the same rounds, torch's own product $A\\mathbf{x}$ against NumPy's was "
                               "slower (1.60 times as long; 1.60 over 3 rounds).")
    assert rec["fused_vs_rev"].startswith("faster") and "above 3/4" in rec["fused_quarter"]
    # against the read floors: 4 x 0.5 s and 3 x 0.5 s, A x (0.5 s) being faster than x A (0.6 s)
    assert rec["rev_floor"] == "the same within the spread (1.00 times as long; 1.00 over 3 rounds)"
    assert rec["fused_floor"] == "slower (1.20 times as long; 1.20 over 3 rounds)"
    assert rec["vs_counts"] == "below it in every round"          # 0.5 against 1300 / 400 madds
    assert (rec["fwd_s"], rec["rev_s"], rec["ag_s"]) == ("1.00 s", "2.00 s", "2.20 s")   # medians
    assert (rec["numpy_threads"], rec["fast_rounds"], rec["slow_rounds"]) == (
        "an unknown number of threads", "3 timed rounds", "the first 3 rounds")
    assert rec["chunked_note"] == "not timed in this run"
    assert rec["jacfwd_vs_gemm"] == "slower (3000 times as long; from 2720 to 3340 over its 1 sample against 3)"
    assert rec["extras_timed"] == ("The extra that adds context beyond the task, `torch.func.jacfwd` (below), "
                                   "is timed in one sample, at the smaller size $d$ = 5")
    assert rec["extras_note"].startswith("The extras, named with their size, were timed in one sample each at $d$ = 5; ")


def test_1f_words_for_extras_timed_once_beside_one_gemm_sample(monkeypatch):
    """slow_repeats = 1: jacfwd's one sample and the GEMM's one, taken in the
    same round, are worded as one round, never as a spread."""
    rec = _planted_1f(monkeypatch, gemm_there=(2e-3,), forward_chunked=0.5)
    assert rec["jacfwd_vs_gemm"] == "slower (1500 times as long; 1500 over 1 round)"
    assert rec["slow_rounds"] == "the first round"
    extras = rec["extras_timed"]
    assert extras.startswith("The extras that add context beyond the task, ") and "forward chunked" in extras
    assert extras.endswith((" and `torch.func.jacfwd` (below), are timed in one sample each, at the smaller size $d$ = 5",
                            "`torch.func.jacfwd` and forward chunked (below), are timed in one sample each, at the smaller size $d$ = 5"))


def test_quick_sizes_read_quick_json(tmp_path):
    quick = json.loads(QUICK_JSON.read_text())
    assert QUICK_JSON == Path(__file__).resolve().parents[1] / "notebooks" / "quick.json"
    assert quick_sizes("timing_d", "repeats") == (quick["timing_d"], quick["repeats"])
    f = tmp_path / "q.json"
    f.write_text('{"a": 1, "b": [2, 3]}')
    assert quick_sizes("b", "a", path=f) == ([2, 3], 1)
    with pytest.raises(ValueError, match=r"q.json gives no value for c, d; expected a JSON object"):
        quick_sizes("a", "c", "d", path=f)
    f.write_text("[1]")
    with pytest.raises(ValueError, match="gives no value for a"):
        quick_sizes("a", path=f)
    f.write_text("{")
    with pytest.raises(ValueError, match="cannot read the quick sizes from .*q.json"):
        quick_sizes("a", path=f)
    with pytest.raises(ValueError, match="cannot read the quick sizes from .*none.json"):
        quick_sizes("a", path=tmp_path / "none.json")


@pytest.mark.parametrize("stem", ["1e_complexity", "1f_timing"])
def test_quick_switches_every_size_quick_json_gives_the_notebook(stem):
    """quick = True in the parameters cell: the cell after it sets each value
    of quick.json that the notebook declares, and nothing else; False
    changes nothing."""
    from reportbuild.parameters import read_params
    defaults = {p.name: p.default for p in read_params(NOTEBOOKS / f"{stem}.ipynb")}
    quick = {k: v for k, v in json.loads(QUICK_JSON.read_text()).items() if k in defaults}
    assert defaults["quick"] is False and quick and all(defaults[k] != v for k, v in quick.items())
    cells = [c for c in json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    after = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])) + 1
    switch = ast.parse("".join(cells[after]["source"])).body[0]           # the cell's first statement
    assert isinstance(switch, ast.If) and ast.unparse(switch.test) == "quick"
    for on in (True, False):
        ns = {**defaults, "quick": on, "quick_sizes": quick_sizes}
        exec(compile(ast.Module([switch], []), stem, "exec"), ns)     # noqa: S102 -- the notebook's own statement
        changed = {k: ns[k] for k in defaults if ns[k] != defaults[k] and k != "quick"}
        assert changed == (quick if on else {})


def test_1f_with_quick_states_the_sizes_it_ran(monkeypatch):
    rec = _planted_1f(monkeypatch, quick=True)
    quick = json.loads(QUICK_JSON.read_text())
    assert rec["timing_d"] == str(quick["timing_d"]) and rec["fast_rounds"] == f"{quick['repeats']} timed rounds"


@pytest.mark.parametrize("times, cause", [
    ({"torch_autograd": 3.0}, ("slower (1.60 times as long; 1.60 over 3 rounds): four of torch's took 1.20 s "
                               "more than four of NumPy's (medians), and autograd 1.30 s more than our reverse mode.")),
    ({"torch_autograd": 3.0, "torch_matvec": 0.5}, ("the same within the spread (1.00 times as long; 1.00 over 3 "
                                                    "rounds), so the product's own speed does not explain")),
    ({"torch_autograd": 1.0, "torch_matvec": 0.4}, ("faster (0.800 times as long; 0.800 over 3 rounds): four of "
                                                    "torch's took 400 ms less")),
    ({"torch_matvec": None}, "Our methods ran in torch here too"),
])
def test_1f_autograd_cause_follows_the_products(monkeypatch, times, cause):
    """The sentence on why autograd's time differs from reverse mode's names
    the matrix-vector products only where they differ the same way."""
    assert cause in _planted_1f(monkeypatch, **times)["ag_cause"]

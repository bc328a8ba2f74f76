"""Problem 2: Heron's square root and the derivative of the N-step program.

The oracle is the same program run on complex numbers
(``helpers.accuracy.heron_complex``, which shares no code with
helpers/heron.py): the complex step imag(prog(x + i h)) / h differentiates
exactly the N steps that ran, so it checks dy_N/dx, not the limit 1/(2 sqrt x).
"""

import math
from pathlib import Path

import numpy as np
import pytest

from helpers import (
    complex_step,
    heron_complex,
    heron_sqrt,
    heron_sqrt_forward,
    heron_sqrt_reverse,
)

DERIVATIVES = [heron_sqrt_forward, heron_sqrt_reverse]
ALL = [heron_sqrt, heron_sqrt_forward, heron_sqrt_reverse]


def name(fun):
    return fun.__name__


def oracle(x, n_steps):
    """(y_N, dy_N/dx) of the n_steps program, by the complex step."""
    program = lambda z: heron_complex(z, n_steps)[0]
    return program(complex(x)).real, complex_step(program, x)


def steps_taken(x, tol, cap):
    """Steps the adaptive program runs: it stops after the first k with
    |y_k - y_{k-1}| <= tol |y_k|, or after cap steps."""
    return heron_complex(complex(x), cap, tol)[1]


def derivative(fun, x, n_iter, **kw):
    return fun(x, n_iter, **kw)[1]


# --------------------------------------------------------------------------
# Values and derivatives
# --------------------------------------------------------------------------


def test_value_matches_math_sqrt():
    for x in np.logspace(-6, 6, 49):
        x = float(x)
        assert abs(heron_sqrt(x, 200) - math.sqrt(x)) <= 5e-16 * math.sqrt(x), x


@pytest.mark.parametrize("fun", DERIVATIVES, ids=name)
def test_derivative_matches_complex_step(fun):
    for x in (0.01, 0.5, 2.0, 10.0, 1e4):
        assert fun(x, 0) == (1.0, 0.0)            # y_0 = 1 whatever x is
        for n_steps in (1, 2, 3, 5):
            y_ref, dy_ref = oracle(x, n_steps)
            y, dy = fun(x, n_steps)
            assert abs(y - y_ref) <= 1e-15 * abs(y_ref), (x, n_steps)
            assert abs(dy - dy_ref) <= 1e-13 * abs(dy_ref), (x, n_steps)


@pytest.mark.parametrize("fun", DERIVATIVES, ids=name)
def test_small_n_derivative_is_not_the_limit(fun):
    """The derivative of 2 steps at x = 2 is 13/36, not 1/(2 sqrt 2)."""
    dy = derivative(fun, 2.0, 2)
    assert abs(dy - 13 / 36) <= 1e-15
    assert abs(dy - 0.5 / math.sqrt(2.0)) > 1e-3


@pytest.mark.parametrize("fun", DERIVATIVES, ids=name)
def test_converged_derivative_is_half_over_sqrt(fun):
    x = np.logspace(-6, 6, 25)
    dy = derivative(fun, x, 1000)
    np.testing.assert_allclose(dy, 0.5 / np.sqrt(x), rtol=1e-14, atol=0)
    for xs in (1e-6, 3.0, 1e6):
        assert abs(derivative(fun, xs, 1000) - 0.5 / math.sqrt(xs)) <= 1e-14 * 0.5 / math.sqrt(xs)


@pytest.mark.parametrize("n_steps", [0, 1, 2, 3, 4, 7, 10, 20, 50, 100])
def test_forward_equals_reverse(n_steps):
    x = np.logspace(-6, 6, 37)
    y_f, dy_f = heron_sqrt_forward(x, n_steps)
    y_r, dy_r = heron_sqrt_reverse(x, n_steps)
    np.testing.assert_array_equal(y_f, y_r)
    np.testing.assert_allclose(dy_r, dy_f, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(y_f, heron_sqrt(x, n_steps))


# --------------------------------------------------------------------------
# Shapes and types
# --------------------------------------------------------------------------


@pytest.mark.parametrize("tol", [None, 1e-3, 1e-12])
@pytest.mark.parametrize("shape", [(5,), (2, 3)])
@pytest.mark.parametrize("fun", ALL, ids=name)
def test_vectorized_equals_elementwise(fun, shape, tol):
    x = np.array([1e-4, 0.3, 1.0, 2.0, 50.0, 7e5][: math.prod(shape)]).reshape(shape)
    out = fun(x, 60, tol=tol)
    outs = out if isinstance(out, tuple) else (out,)
    for arr in outs:
        assert isinstance(arr, np.ndarray) and arr.shape == shape and arr.dtype == np.float64
    for idx in np.ndindex(shape):
        single = fun(float(x[idx]), 60, tol=tol)
        singles = single if isinstance(single, tuple) else (single,)
        for arr, s in zip(outs, singles):
            assert arr[idx] == s, (idx, arr[idx], s)


@pytest.mark.parametrize("fun", ALL, ids=name)
def test_python_number_in_float_out(fun):
    """Also with tol when a scalar stops after its first step (x = 1
    converges at once; n_iter = 1 caps it)."""
    cases = [(x, 20, tol) for x in (2.0, 7, 0.25) for tol in (None, 1e-3)]
    for x, n_iter, tol in cases + [(1.0, 5, 1e-12), (2.0, 1, 1e-12), (4.0, 1, 1e-12)]:
        out = fun(x, n_iter, tol=tol)
        for value in (out if isinstance(out, tuple) else (out,)):
            assert type(value) is float, (x, n_iter, tol, type(value))


# --------------------------------------------------------------------------
# Adaptive stopping
# --------------------------------------------------------------------------

XS_ADAPTIVE = [1e-4, 0.01, 0.5, 1.0, 2.0, 10.0, 1e4, 1e6]


@pytest.mark.parametrize("tol", [1e-3, 1e-12])
@pytest.mark.parametrize("fun", DERIVATIVES, ids=name)
def test_adaptive_equals_fixed_program_with_steps_run(fun, tol):
    cap = 10_000
    for x in XS_ADAPTIVE:
        k = steps_taken(x, tol, cap)
        assert k < cap
        y, dy = fun(x, cap, tol=tol)
        y_k, dy_k = fun(x, k)
        assert y == y_k, x
        assert abs(dy - dy_k) <= 1e-15 * abs(dy_k), x
        y_ref, dy_ref = oracle(x, k)
        assert abs(y - y_ref) <= 1e-15 * abs(y_ref), x
        assert abs(dy - dy_ref) <= 1e-13 * abs(dy_ref), x
        # One step more or fewer is a different program (so an off-by-one shows).
        if tol == 1e-3 and k > 1:
            assert oracle(x, k - 1)[0] != y
            assert abs(oracle(x, k + 1)[1] - dy) > 1e-13 * abs(dy)


@pytest.mark.parametrize("tol", [1e-3, 1e-12])
@pytest.mark.parametrize("fun", DERIVATIVES, ids=name)
def test_adaptive_elements_stop_independently(fun, tol):
    x = np.array(XS_ADAPTIVE)
    steps = [steps_taken(v, tol, 10_000) for v in XS_ADAPTIVE]
    assert len(set(steps)) > 3           # the elements really stop at different steps
    y, dy = fun(x, 10_000, tol=tol)
    for i, (v, k) in enumerate(zip(XS_ADAPTIVE, steps)):
        y_s, dy_s = fun(v, 10_000, tol=tol)
        assert y[i] == y_s and dy[i] == dy_s
        y_ref, dy_ref = oracle(v, k)
        assert abs(y[i] - y_ref) <= 1e-15 * abs(y_ref)
        assert abs(dy[i] - dy_ref) <= 1e-13 * abs(dy_ref)


def test_tol_zero_runs_to_the_cap_or_to_a_fixed_point():
    y, dy = heron_sqrt_forward(2.0, 500, tol=0.0)
    assert abs(y - math.sqrt(2.0)) <= 4e-16 * math.sqrt(2.0)
    assert abs(dy - 0.5 / math.sqrt(2.0)) <= 1e-14


# --------------------------------------------------------------------------
# Large N
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fun", DERIVATIVES, ids=name)
def test_a_hundred_thousand_steps(fun):
    """Long past convergence the iteration stays on its fixed point (part 2c
    runs a million steps in every build)."""
    y, dy = fun(3.0, 10**5)
    assert abs(y - math.sqrt(3.0)) <= 4e-16 * math.sqrt(3.0)
    assert abs(dy - 0.5 / math.sqrt(3.0)) <= 1e-14 * 0.5 / math.sqrt(3.0)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


# The three functions share one argument check: every bad value is tried on
# heron_sqrt, then one of each kind on every function.

@pytest.mark.parametrize("x, error, message", [
    *((x, ValueError, "x must be positive and finite") for x in (
        0.0, -1.0, float("nan"), float("inf"), np.array([]), np.array([1.0, -2.0]), np.array([[1.0, np.nan]]))),
    (True, TypeError, "x must be a positive number or array of them, got a bool"),
], ids=["zero", "negative", "nan", "inf", "empty", "array-negative", "array-nan", "bool"])
def test_bad_x_raises(x, error, message):
    with pytest.raises(error, match=message):
        heron_sqrt(x, 10)


@pytest.mark.parametrize("tol, error, message", [
    (-1e-3, ValueError, "tol must be None or a finite number >= 0"),
    (float("nan"), ValueError, "tol must be None or a finite number >= 0"),
    (float("inf"), ValueError, "tol must be None or a finite number >= 0"),
    ("1e-3", TypeError, "tol must be None or a number"),
    (True, TypeError, "tol must be None or a number"),
    ([1e-3], TypeError, "tol must be None or a number"),
])
def test_bad_tol_raises(tol, error, message):
    with pytest.raises(error, match=message):
        heron_sqrt(2.0, 10, tol=tol)


@pytest.mark.parametrize("fun", ALL, ids=name)
def test_every_function_checks_its_arguments(fun):
    """n_iter goes through check_count (tested in test_checks.py)."""
    for args, kw, error, message in [((-1.0, 10), {}, ValueError, "x must be positive"),
                                     ((2.0, -1), {}, ValueError, "n_iter must be >= 0, got -1"),
                                     ((2.0, 2.5), {}, TypeError, "n_iter must be an integer, got 2.5"),
                                     ((2.0, 10), {"tol": "1e-3"}, TypeError, "tol must be None or a number")]:
        with pytest.raises(error, match=message):
            fun(*args, **kw)
    out = fun(2.0, np.int64(50), tol=np.float32(1e-6))      # NumPy scalars are accepted
    value = out[0] if isinstance(out, tuple) else out
    assert abs(value - math.sqrt(2.0)) < 1e-10


# The tables of parts 2b and 2c (helpers.accuracy), against closed forms and helpers.heron.

@pytest.mark.parametrize("fun", DERIVATIVES, ids=name)
def test_small_n_rows_tabulate_the_complex_step(fun):
    from helpers.accuracy import heron_small_n_rows

    rows = heron_small_n_rows(fun, 2.0, 5)
    assert [r["N"] for r in rows] == list(range(6))
    # dy_N/dx at x = 2 by hand: 0 (y_0 = 1), 1/2 (y_1 = (1 + x)/2), 13/36.
    assert [r["complex step"] for r in rows[:3]] == pytest.approx([0.0, 0.5, 13 / 36], rel=1e-15, abs=0)
    for r in rows:
        assert r["abs. diff."] == abs(r["derivative"] - r["complex step"]) < 1e-14
        assert r["rel. error vs exact"] == pytest.approx(
            abs(r["derivative"] * 2 * math.sqrt(2.0) - 1), rel=1e-9, abs=1e-16)
    assert rows[0]["rel. error vs exact"] == 1.0 and rows[-1]["rel. error vs exact"] < 1e-15


def test_small_n_rows_catch_a_wrong_derivative():
    from helpers.accuracy import heron_small_n_rows

    wrong = lambda x, n: (None, heron_sqrt_forward(x, n)[1] * (1 + 1e-9))
    assert max(r["abs. diff."] for r in heron_small_n_rows(wrong, 2.0, 5)) > 1e-11


@pytest.mark.parametrize("fun", DERIVATIVES, ids=name)
def test_stopping_rows_follow_the_steps_that_ran(fun):
    from helpers.accuracy import heron_stopping_rows

    rows = heron_stopping_rows(fun, [1e-8, 2.0, 1e10], 100, (1e-14, 1e-2))
    assert [(r["tol"], r["x"]) for r in rows] == [(t, x) for t in (1e-14, 1e-2) for x in (1e-8, 2.0, 1e10)]
    for r in rows:
        y_k, dy_k = fun(r["x"], r["steps"])                 # the program of that many steps
        y, dy = fun(r["x"], 100, tol=r["tol"])
        assert y == y_k and abs(dy - dy_k) <= 1e-15 * abs(dy_k), r
        assert r["rel. diff. to complex step"] < 1e-14
    assert all(r["rel. error vs exact"] > 1e-10 for r in rows if r["tol"] == 1e-2)


def test_stopping_rows_catch_a_derivative_that_ignores_the_rule():
    from helpers.accuracy import heron_stopping_rows

    ignores = lambda x, n, tol: heron_sqrt_forward(x, n)    # runs all n steps
    rows = heron_stopping_rows(ignores, [2.0], 100, (1e-2,))
    assert rows[0]["rel. diff. to complex step"] > 1e-6


# --------------------------------------------------------------------------
# Part 2a's figure at the ends of its x range
# --------------------------------------------------------------------------


def test_error_plot_against_x_spans_the_float_range_without_warnings():
    """From 5e-324 to 1.7e308 (part 2a's declared range) matplotlib's own
    log-axis margin and tick locator overflow; the plot keeps inside the
    float range, shows every point and warns about nothing."""
    import io
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers import plot_error_vs_x

    for x in (np.array([5e-324, 1.7e308]), np.logspace(-12, 12, 97), np.array([1.0, 2.0])):
        err = np.abs(np.sqrt(x) - 1) / np.sqrt(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig = plot_error_vs_x(x, [err], ["$N = 0$"])
            fig.savefig(io.BytesIO(), format="png")
        lo, hi = fig.axes[0].get_xlim()
        assert 0 < lo <= x.min() and x.max() <= hi < math.inf, (x, lo, hi)
        plt.close(fig)


# --------------------------------------------------------------------------
# The sentences of parts 2a-2c over their parameter ranges
# --------------------------------------------------------------------------
# The notebooks' code cells check every sentence they record (helpers.claims):
# a claim the data contradict raises.  Run here, in one process, at more
# points of the declared ranges than the report's runs reach (the ends run in
# test_ranges.py): the small-N point x0 from the smallest allowed to huge,
# too few steps to converge, x = 1 where y_0 is already the root.

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def records_of(stem, strict=False, **overrides):
    """Run notebooks/<stem>.ipynb's code cells in order, its parameters set to
    their defaults and then ``overrides``; return {name: text} of its records.
    A RuntimeWarning (NumPy's divide by zero, overflow, ...) is an error, as is
    every warning with ``strict``, when the figures are also drawn as Jupyter's
    inline backend draws them (a PNG, tight bounding box)."""
    import io
    import json
    import warnings

    import IPython.display
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers import claims

    found = {}
    real_publish, real_display = claims._publish, IPython.display.display
    claims._publish = lambda data, metadata, *how: (
        found.setdefault(metadata[claims.VALUE_MIME]["name"], metadata[claims.VALUE_MIME]["text"])
        if claims.VALUE_MIME in metadata else None)
    IPython.display.display = lambda *a, **k: None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Warning if strict else RuntimeWarning)
            ns = {}
            for cell in json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())["cells"]:
                if cell["cell_type"] != "code":
                    continue
                src = "\n".join(line for line in "".join(cell["source"]).splitlines() if not line.startswith("%"))
                exec(compile(src, f"{stem}:{cell['id']}", "exec"), ns)     # noqa: S102 (the notebook's own code)
                if "parameters" in cell["metadata"].get("tags", []):
                    ns.update(overrides)
                for number in plt.get_fignums() if strict else []:
                    plt.figure(number).savefig(io.BytesIO(), format="png", bbox_inches="tight")
                plt.close("all")
    finally:
        claims._publish, IPython.display.display = real_publish, real_display
    return found


@pytest.mark.parametrize("stem", ["2b_heron_forward", "2c_heron_reverse"])
@pytest.mark.parametrize("x0, n_iter", [(1e-280, 100), (1e-8, 100), (1.0, 100), (2.0, 3), (1e10, 100),
                                        (1e300, 1100)])
def test_sentences_of_2b_and_2c_hold_across_x0_and_n(stem, x0, n_iter):
    extra = {"n_history": 8} if stem.startswith("2b") else {}
    found = records_of(stem, x0=x0, n_iter=n_iter, n_random=6, x_check=[1e-8, 1.0, 1e10], **extra)
    assert found["x0"] == (f"{x0:g}".replace("e+", "e").replace("e-0", "e-"))
    off = int(found["n_off"])                       # differs for N <= off, from N = 0 (t_0 = 0) on
    assert off == (0 if x0 == 1.0 else 4 if x0 == 2.0 else 5)     # at x0 = 1, y_0 is the root
    big = 0.5 / math.sqrt(x0) > 1                   # the derivative exceeds 1 (it is 0 at N = 0)
    assert found["cs_kind"] == (" (absolute; relative where the derivative exceeds 1)" if big else " (absolute)")
    if stem.startswith("2b"):                       # the N after the table's last differing one, up to n_iter
        span = f"for $N$ from {off + 1} to {n_iter}" if n_iter > off + 1 else f"at $N$ = {off + 1}"
        assert found["off_rest"] == ("" if off == 5 else f", and matches it exactly {span}")
    if n_iter == 3:
        assert found["conv"].startswith("differs")  # 3 steps do not converge for x from 1e-12 to 1e12


@pytest.mark.parametrize("stem", ["2b_heron_forward", "2c_heron_reverse"])
def test_2b_and_2c_run_at_their_defaults_without_a_warning(stem):
    """What Jupyter would show on stderr (and the report hides): every warning
    is an error here, the figures drawn as the inline backend draws them."""
    assert records_of(stem, strict=True)["x0"] == "2"


@pytest.mark.parametrize("overrides", [
    {"n_values": [3, 60], "n_grid": 25, "n_history": 20},
    {"n_values": [0, 5], "n_grid": 9, "x_min": 0.5, "x_max": 2.0, "n_history": 3, "x_history": [1.0, 4.0]},
    {"n_values": [60], "n_grid": 5, "x_min": 1e-300, "x_max": 1e300, "n_history": 5, "x_history": [1e-300]},
])
def test_sentences_of_2a_hold_across_its_ranges(overrides):
    found = records_of("2a_heron", **overrides)
    assert found["n_few"] == f"{min(overrides['n_values']):,}"
    assert found["few_where"].startswith(("only at the grid points", "at no point", "at "))

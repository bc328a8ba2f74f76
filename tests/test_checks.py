"""Input checks: each one tested thoroughly once, on its own, then one bad
call per public entry point to show that the entry point uses it.

* ``check_count`` (helpers/_checks.py): every size and count;
* ``check_inputs`` (helpers/model.py): Problem 1's arrays x, A, B.
"""

import re

import numpy as np
import pytest

from helpers import (
    f, f_and_grad_forward, f_and_grad_reverse, f_and_grad_reverse_fused, f_and_grad_torch,
    heron_sqrt, heron_sqrt_forward, heron_sqrt_reverse, jacobians, make_problem,
)
from helpers._checks import check_count
from helpers.complexity import evaluation_steps, extra_memory, forward_steps, reverse_steps
from helpers.heron_plots import heron_history
from helpers.model import check_inputs
from helpers.saturation import mp_gradient, saturation_table
from helpers.scaling import measured_memory, sweep, sweep_plan
from helpers.timing import time_calls
from helpers.timing_study import timing_study
from test_problem1 import as_torch

# --------------------------------------------------------------- check_count


@pytest.mark.parametrize("value", [1, 7, 10**20, np.int8(3), np.int32(3), np.int64(3), np.uint64(3)],
                         ids=repr)
def test_check_count_accepts_python_and_numpy_integers(value):
    got = check_count("n", value)
    assert got == value and type(got) is int


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 2.0, 2.5, np.float64(2.0), "3", None, [3]],
                         ids=repr)
def test_check_count_rejects_anything_else(value):
    with pytest.raises(TypeError, match=re.escape(f"n must be an integer, got {value!r}")):
        check_count("n", value)


def test_check_count_minimum():
    assert check_count("n_iter", 0, minimum=0) == 0
    assert check_count("max_d", 16, minimum=16) == 16
    for value, minimum, message in [(0, 1, "n must be >= 1, got 0"), (-3, 1, "n must be >= 1, got -3"),
                                    (-1, 0, "n must be >= 0, got -1"),
                                    (np.int64(15), 16, "n must be >= 16, got 15")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            check_count("n", value, minimum=minimum)


# One bad call per entry point that takes a size or a count: (call, error, message).
A, B, X = make_problem(4, 3, 2)
BAD_COUNTS = {
    "make_problem": (lambda: make_problem(3, 4, 2.5), TypeError, "d2 must be an integer, got 2.5"),
    "evaluation_steps": (lambda: evaluation_steps(0, 1, 1), ValueError, "d0 must be >= 1, got 0"),
    "forward_steps": (lambda: forward_steps(3, True, 5), TypeError, "d1 must be an integer, got True"),
    "reverse_steps": (lambda: reverse_steps(3, 4, "5"), TypeError, "d2 must be an integer, got '5'"),
    "extra_memory": (lambda: extra_memory(-1, 4, 5), ValueError, "d0 must be >= 1, got -1"),
    "extra_memory chunk_size": (lambda: extra_memory(3, 4, 5, chunk_size=0), ValueError,
                                "chunk_size must be >= 1, got 0"),
    "extra_memory block_rows": (lambda: extra_memory(3, 4, 5, block_rows=2.0), TypeError,
                                "block_rows must be an integer, got 2.0"),
    "f_and_grad_forward": (lambda: f_and_grad_forward(X, A, B, chunk_size=2.5), TypeError,
                           "chunk_size must be an integer, got 2.5"),
    "f_and_grad_reverse_fused": (lambda: f_and_grad_reverse_fused(X, A, B, block_rows=0), ValueError,
                                 "block_rows must be >= 1, got 0"),
    "heron_sqrt": (lambda: heron_sqrt(2.0, -1), ValueError, "n_iter must be >= 0, got -1"),
    "heron_sqrt_forward": (lambda: heron_sqrt_forward(2.0, True), TypeError, "n_iter must be an integer"),
    "heron_sqrt_reverse": (lambda: heron_sqrt_reverse(2.0, 3.0), TypeError, "n_iter must be an integer"),
    "heron_history": (lambda: heron_history(2.0, -1), ValueError, "n_iter must be >= 0, got -1"),
    "sweep_plan": (lambda: sweep_plan(15), ValueError, "max_d must be >= 16, got 15"),
    "sweep_plan points": (lambda: sweep_plan(40, 1), ValueError, "points must be >= 2, got 1"),
    "sweep": (lambda: sweep([(2, 0, 2)]), ValueError, "d1 must be >= 1, got 0"),
    "measured_memory": (lambda: measured_memory(3, 4, 5, chunk_size=0), ValueError,
                        "chunk_size must be >= 1, got 0"),
    "time_calls": (lambda: time_calls({}, repeats=0), ValueError, "repeats must be >= 1, got 0"),
    "time_calls warmup": (lambda: time_calls({}, warmup=-1), ValueError, "warmup must be >= 0, got -1"),
    "timing_study": (lambda: timing_study(8.5), TypeError, "d must be an integer, got 8.5"),
    "timing_study chunk_size": (lambda: timing_study(8, chunk_size=-1), ValueError,
                                "chunk_size must be >= 0, got -1"),
    "mp_gradient": (lambda: mp_gradient(X, A, B, dps=0), ValueError, "dps must be >= 1, got 0"),
    "saturation_table": (lambda: saturation_table({}, [1], d0=0), ValueError, "d0 must be >= 1, got 0"),
}


@pytest.mark.parametrize("entry", BAD_COUNTS)
def test_every_entry_point_checks_its_counts(entry):
    call, error, message = BAD_COUNTS[entry]
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_numpy_integers_work_wherever_a_count_is_taken():
    n = np.int64
    assert [a.shape for a in make_problem(n(4), n(3), n(2))] == [a.shape for a in (A, B, X)]
    assert forward_steps(n(3), n(4), n(5)) == forward_steps(3, 4, 5)
    assert extra_memory(3, 4, 5, chunk_size=n(2), block_rows=n(2)) == extra_memory(3, 4, 5, chunk_size=2,
                                                                                     block_rows=2)
    np.testing.assert_array_equal(f_and_grad_forward(X, A, B, chunk_size=n(2))[1],
                                  f_and_grad_forward(X, A, B, chunk_size=2)[1])
    np.testing.assert_array_equal(f_and_grad_reverse_fused(X, A, B, block_rows=np.int32(2))[1],
                                  f_and_grad_reverse_fused(X, A, B, block_rows=2)[1])
    assert heron_sqrt_reverse(2.0, n(6)) == heron_sqrt_reverse(2.0, 6)
    assert sweep_plan(n(40), n(3)) == sweep_plan(40, 3)
    assert time_calls({"f": lambda: None}, repeats=n(1), warmup=n(0))["f"]["repeats"] == 1


# --------------------------------------------------------------- check_inputs

@pytest.mark.parametrize("shapes", [
    # (x shape, A shape, B shape)
    ((3,), (4, 5), (2, 4)),        # A has 5 columns, x has 3 entries
    ((5,), (4, 5), (2, 3)),        # B has 3 columns, A has 4 rows
    ((5,), (0, 5), (2, 0)),        # d1 = 0
    ((3, 1), (4, 3), (2, 4)),      # x is a column
    ((3,), (12,), (2, 4)),         # A flat
    ((3,), (4, 3), (2, 4, 1)),     # B 3-D
    ((), (4, 3), (2, 4)),          # x 0-D
], ids=str)
def test_bad_shapes_raise_naming_them(shapes):
    x, A, B = (np.ones(s) for s in shapes)
    with pytest.raises(ValueError, match=re.escape(f"got x: {shapes[0]}, A: {shapes[1]}, B: {shapes[2]}")):
        check_inputs(x, A, B)


def test_nonfinite_x_raises():
    for bad in (np.nan, np.inf, -np.inf):
        x = X.copy()
        x[2] = bad
        with pytest.raises(ValueError, match=r"x must be finite.*1 NaN/inf entries out of 4"):
            check_inputs(x, A, B)
    x, At, Bt = as_torch(X, A, B)
    x[0], x[1] = float("nan"), float("inf")
    with pytest.raises(ValueError, match=r"x must be finite.*2 NaN/inf entries"):
        check_inputs(x, At, Bt)


def test_bad_types_and_dtypes_raise():
    with pytest.raises(TypeError, match=r"'x': 'float32'.*'A': 'float64'"):
        check_inputs(X.astype(np.float32), A, B)
    for dtype in (np.int64, np.float16, np.complex128):
        with pytest.raises(TypeError, match=np.dtype(dtype).name):
            check_inputs(*(np.ones(a.shape, dtype=dtype) for a in (X, A, B)))
    with pytest.raises(TypeError, match="x must be a NumPy array or torch tensor, got list"):
        check_inputs(X.tolist(), A, B)
    with pytest.raises(TypeError, match="B must be a NumPy array or torch tensor, got list"):
        check_inputs(X, A, B.tolist())
    with pytest.raises(TypeError, match=r"must all be NumPy arrays or all torch tensors.*'A': True"):
        check_inputs(X, *as_torch(A), B)


@pytest.mark.parametrize("fun", [f, jacobians, f_and_grad_torch, f_and_grad_forward, f_and_grad_reverse,
                                 f_and_grad_reverse_fused], ids=lambda fn: fn.__name__)
def test_every_entry_point_checks_its_arrays(fun):
    with pytest.raises(ValueError, match=re.escape("got x: (3,), A: (4, 3), B: (2, 5)")):
        fun(np.ones(3), np.ones((4, 3)), np.ones((2, 5)))
    x = X.copy()
    x[0] = np.nan
    with pytest.raises(ValueError, match="x must be finite"):
        fun(x, A, B)

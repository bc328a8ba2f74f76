"""Problem 1: f(x) = sum(sigmoid(B sigmoid(A x))) and its gradients.

The oracles are independent of the float64 code under test:
* PyTorch autograd on a float64 graph built here with 1/(1+exp(-z));
* complex-step directional derivatives of a NumPy closed form of f
  (helpers.gradcheck, the notebooks' kit; its ability to fail is tested
  at the end);
* the chain-rule product of the stage Jacobians, with sigma' = s (1 - s);
* mpmath at 50 digits where the sigmoids saturate: ``mp_gradient`` of
  helpers.saturation (the reference part 1d reports against), written in
  mpmath alone and checked against reverse mode in test_report_units.py.
"""

import math

import mpmath as mp
import numpy as np
import pytest
import torch

from helpers import (
    f,
    f_and_grad_forward,
    f_and_grad_reverse,
    f_and_grad_reverse_fused,
    f_and_grad_torch,
    jacobians,
    make_problem,
    sigmoid,
    sigmoid_and_slope,
)
from helpers.gradcheck import assert_gradient, gradient_error
from helpers.machine import blas_threads
from helpers.saturation import mp_gradient as mp_reference

GRAD_FUNS = [f_and_grad_forward, f_and_grad_reverse, f_and_grad_reverse_fused]
ALL_FUNS = GRAD_FUNS + [f_and_grad_torch]
# Every public entry point that validates (x, A, B).
VALIDATING = ALL_FUNS + [f, jacobians]


def name(fun):
    return fun.__name__


def rel_err(got, ref):
    """max |got - ref| / max |ref|, in float64."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


def sigma_np(z):
    """The textbook logistic function; accepts complex z (complex step)."""
    return 1.0 / (1.0 + np.exp(-z))


def f_closed(x, A, B):
    """f written out in NumPy, independent of helpers; accepts complex x."""
    return np.sum(sigma_np(B @ sigma_np(A @ x)))


def torch_reference(x, A, B, *, use_torch_sigmoid=False):
    """(f, grad) from torch.autograd on float64 copies of the inputs.

    The default graph uses 1/(1+exp(-z)), not torch.sigmoid as
    helpers.f_and_grad_torch does; torch.sigmoid is needed only where
    exp(-z) overflows (saturated inputs), whose backward would give inf/inf.
    """
    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    At = torch.tensor(np.asarray(A, dtype=np.float64))
    Bt = torch.tensor(np.asarray(B, dtype=np.float64))
    act = torch.sigmoid if use_torch_sigmoid else (lambda z: 1.0 / (1.0 + torch.exp(-z)))
    value = act(Bt @ act(At @ xt)).sum()
    value.backward()
    return value.item(), xt.grad.numpy()


def as_torch(*arrays):
    """Torch copies of NumPy ``arrays``: a test that changes one leaves the
    array it came from (often one shared by the module's tests) as it was."""
    return tuple(torch.from_numpy(np.array(a)) for a in arrays)


# --------------------------------------------------------------------------
# Gradients against PyTorch and the complex step, float64
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fun", ALL_FUNS, ids=name)
def test_gradient_matches_torch_float64(problem, fun):
    A, B, x = problem
    ref_value, ref_grad = torch_reference(x, A, B)
    value, grad = fun(x, A, B)
    assert isinstance(grad, np.ndarray) and grad.shape == x.shape and grad.dtype == np.float64
    assert np.ndim(value) == 0
    assert rel_err(grad, ref_grad) <= 1e-12
    assert abs(float(value) - ref_value) <= 1e-13 * abs(ref_value)


def test_f_matches_closed_form_and_torch(problem):
    A, B, x = problem
    value = f(x, A, B)
    assert np.ndim(value) == 0 and np.asarray(value).dtype == np.float64
    assert abs(value - f_closed(x, A, B)) <= 1e-13 * abs(f_closed(x, A, B))
    assert abs(value - torch_reference(x, A, B)[0]) <= 1e-13 * abs(value)


@pytest.mark.parametrize("fun", ALL_FUNS, ids=name)
def test_gradient_matches_complex_step(problem, fun):
    A, B, x = problem
    _, grad = fun(x, A, B)
    err = gradient_error(lambda z: f_closed(z, A, B), x, grad, n_dirs=4, seed=1)
    assert err <= 1e-13


def test_gradient_matches_central_differences(problem):
    A, B, x = problem
    _, grad = f_and_grad_reverse(x, A, B)
    assert_gradient(lambda z: f_closed(z, A, B), x, grad, rtol=1e-7, method="central")


def test_gradient_is_not_trivial(problem):
    """Guards the comparisons above: the gradients compared are not ~0."""
    A, B, x = problem
    _, grad = torch_reference(x, A, B)
    assert np.max(np.abs(grad)) > 1e-3


# --------------------------------------------------------------------------
# Part (a): the stage Jacobians
# --------------------------------------------------------------------------


def test_jacobians_shapes_values_and_product(problem):
    A, B, x = problem
    (d1, d0), d2 = A.shape, B.shape[0]
    J1, J2, J3, J4, J5 = jacobians(x, A, B)
    assert [J.shape for J in (J1, J2, J3, J4, J5)] == [(d1, d0), (d1, d1), (d2, d1), (d2, d2), (1, d2)]
    np.testing.assert_array_equal(J1, A)
    np.testing.assert_array_equal(J3, B)
    np.testing.assert_array_equal(J5, np.ones((1, d2)))

    s2 = sigma_np(A @ x)
    s4 = sigma_np(B @ s2)
    for J, s in ((J2, s2), (J4, s4)):
        np.testing.assert_array_equal(J - np.diag(np.diag(J)), 0.0)   # exactly diagonal
        np.testing.assert_allclose(np.diag(J), s * (1.0 - s), rtol=1e-13, atol=0)

    _, ref_grad = torch_reference(x, A, B)
    forward_order = J5 @ (J4 @ (J3 @ (J2 @ J1)))
    reverse_order = (((J5 @ J4) @ J3) @ J2) @ J1
    for product in (forward_order, reverse_order):
        assert product.shape == (1, d0)
        assert rel_err(product[0], ref_grad) <= 1e-12


# --------------------------------------------------------------------------
# chunk_size and block_rows (their checks: test_checks.py)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(7, 5, 6), (50, 40, 30)])
def test_forward_chunk_sizes_agree(shape):
    A, B, x = make_problem(*shape, seed=3)
    d0 = shape[0]
    _, ref_grad = torch_reference(x, A, B)
    # Chunked runs first, and every result kept alive: a freed gradient
    # buffer holding the right numbers must not be recycled by empty_like
    # and hide a chunk that was never written.
    results = {cs: f_and_grad_forward(x, A, B, chunk_size=cs) for cs in (1, 3, d0, d0 + 5)}
    value0, grad0 = f_and_grad_forward(x, A, B)
    assert rel_err(grad0, ref_grad) <= 1e-12
    for chunk_size, (value, grad) in results.items():
        assert value == value0                      # the value does not depend on chunking
        assert rel_err(grad, grad0) <= 1e-13, chunk_size
        assert rel_err(grad, ref_grad) <= 1e-12, chunk_size


@pytest.mark.parametrize("shape", [(7, 5, 20), (33, 64, 17)])
def test_fused_block_rows_agree(shape):
    A, B, x = make_problem(*shape, seed=4)
    d2 = shape[2]
    value0, grad0 = f_and_grad_reverse(x, A, B)
    for block_rows in (1, 7, d2, d2 + 1, 64):
        value, grad = f_and_grad_reverse_fused(x, A, B, block_rows=block_rows)
        assert abs(value - value0) <= 1e-13 * abs(value0), block_rows
        assert rel_err(grad, grad0) <= 1e-13, block_rows


# Each path through the fused loop, against the oracles: torch autograd on
# float64 copies, the complex step of the closed form (float64 only) and
# plain reverse mode.  (9, 70, 150) with the default 64 rows makes three
# blocks, the last one of 22 rows; (6, 5, 1) is a B of one row.
FUSED_PATHS = {
    "blocks not dividing d2": ((9, 70, 150), np.float64, {}),
    "a block of one row each": ((7, 5, 9), np.float64, {"block_rows": 1}),
    "B of one row": ((6, 5, 1), np.float64, {}),
    "B of one row, blocks of one": ((6, 5, 1), np.float64, {"block_rows": 1}),
    "float32, blocks not dividing d2": ((9, 70, 150), np.float32, {}),
}


@pytest.mark.parametrize("case", FUSED_PATHS)
@pytest.mark.parametrize("as_tensors", [False, True], ids=["numpy", "torch"])
def test_fused_paths_against_the_oracles(case, as_tensors):
    shape, dtype, kw = FUSED_PATHS[case]
    A, B, x = make_problem(*shape, seed=11, dtype=dtype)
    args = as_torch(x, A, B) if as_tensors else (x, A, B)
    value, grad = f_and_grad_reverse_fused(*args, **kw)
    value, grad = (v.numpy() if as_tensors else v for v in (value, grad))
    assert grad.dtype == dtype and grad.shape == x.shape and np.asarray(value).dtype == dtype
    ref_value, ref_grad = torch_reference(x, A, B)          # float64, on the same (rounded) numbers
    tol = 1e-12 if dtype == np.float64 else 1e-4
    assert rel_err(grad, ref_grad) <= tol
    assert abs(float(value) - ref_value) <= tol * abs(ref_value)
    if dtype == np.float64:
        assert gradient_error(lambda z: f_closed(z, A, B), x, grad, n_dirs=3, seed=2) <= 1e-13
        plain_value, plain_grad = f_and_grad_reverse(x, A, B)
        assert rel_err(grad, plain_grad) <= 1e-14
        assert abs(float(value) - plain_value) <= 1e-14 * abs(plain_value)
    else:
        assert rel_err(grad, ref_grad) > 1e-10             # it really ran in single precision


def test_fused_with_one_blas_thread_agrees():
    """NumPy's BLAS limited to one thread (the split of each product between
    threads changes, the result only by rounding)."""
    A, B, x = make_problem(9, 70, 150, seed=12)
    with blas_threads(1) as n:
        if n is None:
            pytest.skip("NumPy's OpenBLAS thread count cannot be set here")
        value, grad = f_and_grad_reverse_fused(x, A, B)
    ref_value, ref_grad = torch_reference(x, A, B)
    assert rel_err(grad, ref_grad) <= 1e-12 and abs(value - ref_value) <= 1e-12 * abs(ref_value)
    assert rel_err(grad, f_and_grad_reverse(x, A, B)[1]) <= 1e-14


# --------------------------------------------------------------------------
# float32, torch tensors, inputs left alone
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3, 8), (50, 40, 30), (33, 64, 17)])
@pytest.mark.parametrize("fun", ALL_FUNS, ids=name)
def test_float32_in_float32_out(shape, fun):
    A, B, x = make_problem(*shape, seed=5, dtype=np.float32)
    value, grad = fun(x, A, B)
    assert np.asarray(value).dtype == np.float32 and np.ndim(value) == 0
    assert grad.dtype == np.float32 and grad.shape == x.shape
    # Reference: the same float32 numbers, differentiated in float64.
    ref_value, ref_grad = torch_reference(x.astype(np.float64), A.astype(np.float64), B.astype(np.float64))
    err = rel_err(grad, ref_grad)
    assert err <= 1e-4
    assert err > 1e-10            # it really ran in single precision
    assert abs(float(value) - ref_value) <= 1e-5 * abs(ref_value)


def test_float32_f_jacobians_sigmoid_keep_dtype():
    A, B, x = make_problem(5, 3, 8, dtype=np.float32)
    assert np.asarray(f(x, A, B)).dtype == np.float32
    assert all(J.dtype == np.float32 for J in jacobians(x, A, B))
    z = np.linspace(-3, 3, 7, dtype=np.float32)
    assert sigmoid(z).dtype == np.float32
    assert all(out.dtype == np.float32 for out in sigmoid_and_slope(z))
    assert sigmoid(torch.from_numpy(z)).dtype == torch.float32


@pytest.mark.parametrize("np_dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("fun", ALL_FUNS, ids=name)
def test_torch_in_torch_out(fun, np_dtype):
    A, B, x = make_problem(6, 5, 4, seed=7, dtype=np_dtype)
    xt, At, Bt = as_torch(x, A, B)
    value_t, grad_t = fun(xt, At, Bt)
    torch_dtype = getattr(torch, np.dtype(np_dtype).name)
    assert isinstance(value_t, torch.Tensor) and isinstance(grad_t, torch.Tensor)
    assert value_t.dtype == torch_dtype and grad_t.dtype == torch_dtype
    assert value_t.ndim == 0 and tuple(grad_t.shape) == x.shape
    value_n, grad_n = fun(x, A, B)
    tol = 1e-13 if np_dtype == np.float64 else 1e-5
    assert rel_err(grad_t.numpy(), grad_n) <= tol
    assert abs(value_t.item() - float(value_n)) <= tol * abs(float(value_n))


@pytest.mark.parametrize("fun", VALIDATING, ids=name)
def test_inputs_not_modified(fun):
    A, B, x = make_problem(6, 5, 4, seed=8)
    copies = [a.copy() for a in (x, A, B)]
    fun(x, A, B)
    for a, c in zip((x, A, B), copies):
        np.testing.assert_array_equal(a, c)


# --------------------------------------------------------------------------
# sigmoid and its slope
# --------------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_exact_at_extremes_without_warnings(dtype):
    z = np.array([-1000.0, 0.0, 1000.0], dtype=dtype)
    s = sigmoid(z)
    assert s.dtype == dtype
    assert s.tolist() == [0.0, 0.5, 1.0]
    s2, slope = sigmoid_and_slope(z)
    assert s2.tolist() == [0.0, 0.5, 1.0]
    assert slope.tolist() == [0.0, 0.25, 0.0]
    assert sigmoid(torch.tensor([-1000.0, 0.0, 1000.0])).tolist() == [0.0, 0.5, 1.0]


def test_sigmoid_accepts_lists_and_ints():
    np.testing.assert_array_equal(sigmoid([-1000, 0, 1000]), [0.0, 0.5, 1.0])
    assert sigmoid(np.array([0, 1])).dtype == np.float64


def test_sigmoid_matches_textbook_formula():
    z = np.linspace(-30.0, 30.0, 601)
    np.testing.assert_allclose(sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-15, atol=0)


def test_slope_matches_s_times_one_minus_s():
    z = np.linspace(-5.0, 5.0, 101)
    s = 1.0 / (1.0 + np.exp(-z))
    value, slope = sigmoid_and_slope(z)
    np.testing.assert_allclose(value, s, rtol=1e-15, atol=0)
    np.testing.assert_allclose(slope, s * (1.0 - s), rtol=1e-13, atol=0)


def test_slope_accurate_in_both_tails():
    z = np.array([-700.0, -200.0, -50.0, -20.0, 20.0, 50.0, 200.0, 700.0])
    _, slope = sigmoid_and_slope(z)
    with mp.workdps(40):
        exact = [float(mp.exp(mp.mpf(v)) / (1 + mp.exp(mp.mpf(v))) ** 2) for v in z]
    np.testing.assert_allclose(slope, exact, rtol=1e-14, atol=0)
    # The sigma' = exp(-|z|) tail, without a 1 - sigma cancellation at z = +50.
    assert abs(slope[2] - math.exp(-50)) <= 1e-14 * math.exp(-50)
    assert abs(slope[5] - math.exp(-50)) <= 1e-14 * math.exp(-50)


# --------------------------------------------------------------------------
# Saturated sigmoids
# --------------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("scale", [1e4, 100.0])
@pytest.mark.parametrize("fun", ALL_FUNS, ids=name)
def test_saturated_inputs(fun, scale):
    A, B, x = make_problem(6, 5, 4, seed=11)
    A, B = A * scale, B * scale
    assert np.median(np.abs(A @ x)) > 0.5 * scale   # pre-activations really are huge
    value, grad = fun(x, A, B)
    assert np.isfinite(value) and np.all(np.isfinite(grad))

    ref_value, ref_grad = torch_reference(x, A, B, use_torch_sigmoid=True)
    assert abs(float(value) - ref_value) <= 1e-13 * abs(ref_value)
    # torch's sigma' = s (1 - s) loses relative accuracy in the z > 0 tail
    # (about 5e-9 here), so agreement with torch, and torch's own accuracy,
    # are only checked to 1e-6; helpers' exp(-|z|) form is held to 1e-11.
    mp_value, mp_grad = mp_reference(x, A, B)
    assert abs(float(value) - mp_value) <= 1e-13 * abs(mp_value)
    if scale == 1e4:            # every sigma' underflows: the exact gradient is 0 in float64
        assert np.max(np.abs(mp_grad)) < 1e-300
        np.testing.assert_array_equal(grad, 0.0)
        np.testing.assert_array_equal(ref_grad, 0.0)
    else:
        assert rel_err(grad, ref_grad) <= 1e-6
        assert rel_err(grad, mp_grad) <= (1e-6 if fun is f_and_grad_torch else 1e-11)


@pytest.mark.parametrize("fun", ALL_FUNS, ids=name)
def test_partly_saturated_matches_mpmath(fun):
    A, B, x = make_problem(6, 5, 4, seed=11)
    A, B = 30.0 * A, 30.0 * B
    _, grad = fun(x, A, B)
    _, mp_grad = mp_reference(x, A, B)
    assert rel_err(grad, mp_grad) <= 1e-12


# --------------------------------------------------------------------------
# make_problem
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.complex128, "int32"])
def test_make_problem_bad_dtype(dtype):
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        make_problem(3, 4, 5, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32"])
def test_make_problem_shapes_and_dtype(dtype):
    A, B, x = make_problem(3, 4, 5, dtype=dtype)
    assert (A.shape, B.shape, x.shape) == ((4, 3), (5, 4), (3,))
    assert A.dtype == B.dtype == x.dtype == np.dtype(dtype)


def test_make_problem_seeds():
    first, again, other = make_problem(6, 5, 4, seed=1), make_problem(6, 5, 4, seed=1), make_problem(6, 5, 4, seed=2)
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.any(a == c)


@pytest.mark.parametrize("d0", [10, 1000])
def test_make_problem_preactivations_are_order_one(d0):
    A, B, x = make_problem(d0, 200, 150, seed=0)
    y1 = A @ x
    y3 = B @ sigma_np(y1)
    assert 0.3 <= np.std(y1) <= 3.0
    assert 0.3 <= np.std(y3) <= 3.0


# --------------------------------------------------------------------------
# The checker catches wrong gradients
# --------------------------------------------------------------------------


def _reverse_parts(x, A, B):
    y1 = A @ x
    y2 = sigma_np(y1)
    y3 = B @ y2
    y4 = sigma_np(y3)
    return y1, y2, y3, y4


def _slope(z):
    s = sigma_np(z)
    return s * (1.0 - s)


def _wrong_gradients(x, A, B):
    """Gradients with the bugs one typically writes, by name."""
    y1, y2, y3, y4 = _reverse_parts(x, A, B)
    s2, s4 = _slope(y1), _slope(y3)
    true = ((s4 @ B) * s2) @ A
    wrong = {
        "sigma' at the activation y2, not at y1": ((s4 @ B) * _slope(y2)) @ A,
        "sigma'(y1) left out": (s4 @ B) @ A,
        "sign flipped": -true,
    }
    if len(y1) == len(y3):
        wrong["sigma' of the other layer (s2 <-> s4)"] = ((s2 @ B) * s4) @ A
    if A.shape[0] == A.shape[1]:
        wrong["A.T in place of A"] = A @ ((s4 @ B) * s2)
    if B.shape[0] == B.shape[1]:
        wrong["B.T in place of B"] = (B @ s4 * s2) @ A
    bumped = true.copy()
    j = int(np.argmax(np.abs(bumped)))
    bumped[j] *= 1 + 1e-6
    wrong["one entry off by 1e-6 relative"] = bumped
    return true, wrong


@pytest.mark.parametrize("shape", [(6, 6, 6), (5, 5, 4), (6, 4, 4), (7, 3, 5)])
def test_checker_passes_true_and_catches_wrong_gradients(shape):
    A, B, x = make_problem(*shape, seed=12)
    fun = lambda z: f_closed(z, A, B)  # noqa: E731
    true, wrong = _wrong_gradients(x, A, B)
    np.testing.assert_allclose(true, f_and_grad_reverse(x, A, B)[1], rtol=1e-12)

    assert gradient_error(fun, x, true) <= 1e-13
    assert_gradient(fun, x, true, rtol=1e-13)
    for label, g in wrong.items():
        assert gradient_error(fun, x, g) > 1e-13, label
        with pytest.raises(AssertionError, match="gradient check failed"):
            assert_gradient(fun, x, g, rtol=1e-13)


def test_central_differences_catch_coarse_errors_only():
    """Central differences resolve ~1e-9: they catch wrong formulas and a 1e-4
    perturbation, but a 1e-6 one needs the complex step (previous test)."""
    A, B, x = make_problem(6, 6, 6, seed=12)
    fun = lambda z: f_closed(z, A, B)  # noqa: E731
    true, wrong = _wrong_gradients(x, A, B)
    assert gradient_error(fun, x, true, method="central") <= 1e-7
    del wrong["one entry off by 1e-6 relative"]
    bumped = true.copy()
    bumped[int(np.argmax(np.abs(bumped)))] *= 1 + 1e-4
    wrong["one entry off by 1e-4 relative"] = bumped
    for label, g in wrong.items():
        assert gradient_error(fun, x, g, method="central") > 1e-7, label


def test_checker_rejects_wrong_shape_and_method():
    A, B, x = make_problem(4, 3, 2)
    fun = lambda z: f_closed(z, A, B)  # noqa: E731
    with pytest.raises(ValueError, match="shape"):
        gradient_error(fun, x, np.zeros(3))
    with pytest.raises(ValueError, match="method"):
        gradient_error(fun, x, np.zeros(4), method="forward")


def test_precision_rows_of_parts_1c_and_1d():
    """The four comparisons of parts 1c and 1d: float64 to a few units of
    2^-53, float32 to a few units of 2^-24, and a wrong gradient caught."""
    from helpers.torch_reference import precision_rows

    rows = precision_rows("forward", f_and_grad_forward, 7, 5, 3, seed=2)
    assert [(r["comparison"], r["precision"]) for r in rows] == [
        ("forward vs PyTorch", "float64"), ("forward vs PyTorch", "float32"),
        ("forward vs float64 ref.", "float32"), ("PyTorch vs float64 ref.", "float32")]
    assert rows[0]["max rel. error"] < 100 * 2.0**-53
    assert all(r["max rel. error"] < 100 * 2.0**-24 for r in rows[1:])
    assert rows[1]["max rel. error"] > 0          # float32 really is rounded
    wrong = lambda x, A, B: (None, f_and_grad_reverse(x, A, B)[1][::-1])   # noqa: E731
    assert all(r["digits"] < 3 for r in precision_rows("wrong", wrong, 7, 5, 3, seed=2)[:3])

"""Problem 1's function f(x) = sum(sigmoid(B @ sigmoid(A @ x))), its inputs,
and its evaluation stage by stage (``stages``), which every derivative shares.

Shapes used throughout the package::

    x: (d0,)   A: (d1, d0)   B: (d2, d1)
    y1 = A @ x        (d1,)      y2 = sigmoid(y1)   (d1,)
    y3 = B @ y2       (d2,)      y4 = sigmoid(y3)   (d2,)
    f  = sum(y4)      scalar
"""

from typing import Any, NamedTuple

import numpy as np

from ._arrays import FLOAT_DTYPES, array_module, dtype_name, is_torch
from ._checks import check_count


def sigmoid_and_slope(z):
    """sigma(z) and sigma'(z), elementwise, from e = exp(-|z|) <= 1 (never overflows):
    sigma = 1/(1+e) for z >= 0, e/(1+e) for z < 0; sigma' = e/(1+e)^2, accurate in both
    tails (no 1 - sigma cancellation).  z: any shape, NumPy or torch.  Cost: O(z.size)."""
    xp = array_module(z)
    e = xp.exp(-xp.abs(z))
    r = 1.0 / (1.0 + e)
    return xp.where(z >= 0, r, e * r), e * r * r


def sigmoid(z):
    """Logistic function 1/(1+exp(-z)), elementwise; keeps z's float dtype.

    Exact at the extremes: sigmoid(-1000) == 0, sigmoid(0) == 0.5,
    sigmoid(1000) == 1, with no overflow warning.
    """
    if not is_torch(z):
        z = np.asarray(z)
        if not np.issubdtype(z.dtype, np.floating):
            z = z.astype(np.float64)
    s = sigmoid_and_slope(z)[0]
    return s if is_torch(s) or s.ndim else s[()]    # 0-d in, NumPy scalar out


def check_inputs(x, A, B):
    """Validate (x, A, B) for Problem 1; raise a ValueError/TypeError naming
    what is wrong.  Checks types, dtypes, shapes and that x is finite; A and
    B are not scanned (that would cost O(d^2) in the hot path)."""
    torch_flags = {name: is_torch(a) for name, a in (("x", x), ("A", A), ("B", B))}
    for name, a in (("x", x), ("A", A), ("B", B)):
        if not (torch_flags[name] or isinstance(a, np.ndarray)):
            raise TypeError(f"{name} must be a NumPy array or torch tensor, got {type(a).__name__}")
    if len(set(torch_flags.values())) > 1:
        raise TypeError("x, A, B must all be NumPy arrays or all torch tensors; "
                        f"got {torch_flags} (True = torch)")
    dtypes = {name: dtype_name(a) for name, a in (("x", x), ("A", A), ("B", B))}
    if any(d not in FLOAT_DTYPES for d in dtypes.values()) or len(set(dtypes.values())) > 1:
        raise TypeError(f"x, A, B must share one dtype, float32 or float64; got {dtypes}")
    if torch_flags["x"] and len({str(a.device) for a in (x, A, B)}) > 1:
        raise ValueError(f"x, A, B must be on one device; got {x.device}, {A.device}, {B.device}")
    if x.ndim != 1 or A.ndim != 2 or B.ndim != 2:
        raise ValueError(
            f"expected x: (d0,), A: (d1, d0), B: (d2, d1); got x: {tuple(x.shape)}, "
            f"A: {tuple(A.shape)}, B: {tuple(B.shape)}"
        )
    if A.shape[1] != x.shape[0] or B.shape[1] != A.shape[0] or min(B.shape + A.shape) == 0:
        raise ValueError(
            f"shape mismatch: need A: (d1, d0) with d0 = len(x) and B: (d2, d1), all sizes >= 1; "
            f"got x: {tuple(x.shape)}, A: {tuple(A.shape)}, B: {tuple(B.shape)}"
        )
    xp = array_module(x)
    if not bool(xp.isfinite(x).all()):
        bad = int((~xp.isfinite(x)).sum())
        raise ValueError(f"x must be finite; it has {bad} NaN/inf entries out of {x.shape[0]}")


def check_sizes(d0, d1, d2):
    """(d0, d1, d2) as Python ints; TypeError/ValueError unless each is an
    integer >= 1 (``check_count``)."""
    return tuple(check_count(name, d) for name, d in (("d0", d0), ("d1", d1), ("d2", d2)))


def make_problem(d0, d1, d2, *, seed=0, dtype=np.float64):
    """Random, reproducible inputs (A, B, x) for Problem 1.

    Entries are standard normal; A is scaled by 1/sqrt(d0) and B by
    1/sqrt(d1) so every pre-activation y1 = A x and y3 = B y2 has variance
    O(1) whatever the sizes: the sigmoids then work in their curved region
    instead of saturating, and the gradient is a meaningful test.

    Returns A: (d1, d0), B: (d2, d1), x: (d0,), all of ``dtype``; the numbers
    are drawn in float64, so the float32 problem is the float64 one rounded.
    Cost: O(d1 (d0 + d2)) random numbers.
    """
    d0, d1, d2 = check_sizes(d0, d1, d2)
    dtype = np.dtype(dtype)
    if dtype.name not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d1, d0))
    A *= 1.0 / np.sqrt(d0)
    B = rng.standard_normal((d2, d1))
    B *= 1.0 / np.sqrt(d1)
    x = rng.standard_normal(d0)
    return tuple(a.astype(dtype, copy=False) for a in (A, B, x))


def layer(W, v):
    """Two stages of f (h1, h2 or h3, h4): z = W v, then sigma(z) and its slope sigma'(z).
    W: (m, n), v: (n,); returns (z, sigma(z), sigma'(z)), each (m,).  Cost: m n multiply-adds."""
    z = W @ v
    return (z, *sigmoid_and_slope(z))


class Stages(NamedTuple):
    """The evaluation of f at x, with the slopes both modes need:
    s2 = sigma'(y1), the diagonal of J_h2, and s4 = sigma'(y3), that of J_h4."""
    y1: Any     # A x            (d1,)
    y2: Any     # sigma(y1)      (d1,)
    s2: Any     # sigma'(y1)     (d1,)
    y3: Any     # B y2           (d2,)
    y4: Any     # sigma(y3)      (d2,)
    s4: Any     # sigma'(y3)     (d2,)
    f: Any      # sum(y4)        scalar


def stages(x, A, B):
    """f at x stage by stage, Stages(y1, y2, s2, y3, y4, s4, f) (inputs unchecked), with
    the slopes s2 = sigma'(y1), s4 = sigma'(y3).  Cost: d1 (d0 + d2) multiply-adds."""
    y1, y2, s2 = layer(A, x)                # h2(h1(x))
    y3, y4, s4 = layer(B, y2)               # h4(h3(y2))
    return Stages(y1, y2, s2, y3, y4, s4, y4.sum())     # h5(y4)


def f(x, A, B):
    """f(x) = sum(sigmoid(B @ sigmoid(A @ x))), a scalar of x's dtype.
    Cost: two matrix-vector products, 2 d1 (d0 + d2) flops."""
    check_inputs(x, A, B)
    return stages(x, A, B).f

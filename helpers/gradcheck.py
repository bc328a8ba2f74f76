"""Derivative oracles, for the notebooks and the tests alike: directional
derivatives by complex step or central difference, and a gradient check
built on them that needs no full Jacobian.

A claimed gradient g of a scalar function at x is compared, in a few random
unit directions v, with the directional derivative D_v fun(x).  The error in
one direction is |g.v - D_v fun(x)| / |g| (|v| = 1): scaling by |g| rather
than by |g.v| keeps an unlucky v with g.v close to 0 from blowing up the
error of a correct gradient.
"""

import numpy as np


def _point_and_direction(x, v):
    """x and v as Python floats (a scalar program keeps Python's arithmetic)
    or as NumPy arrays of one shape."""
    if np.ndim(x) == 0 and np.ndim(v) == 0:
        return float(x), float(v)
    x, v = np.asarray(x), np.asarray(v)
    if x.shape != v.shape:
        raise ValueError(f"x and v must have one shape, got {x.shape} and {v.shape}")
    return x, v


def _scale(x):
    """max |x_i|, or 1 where x is 0: the default steps are relative to it."""
    return float(np.max(np.abs(x))) or 1.0


def central_difference(fun, x, v=1.0, eps=None):
    """Directional derivative (fun(x + eps v) - fun(x - eps v)) / (2 eps).

    fun: (d,) -> scalar (or scalar -> scalar, v = 1); x, v: (d,) or numbers.
    Works for any fun.  Truncation error O(eps^2), rounding error
    O(u |fun(x)| / eps): about 1e-10 relative at best, with the default
    eps = 1e-5 max(1, |x|_max); eps is rounded to a float x's dtype.
    Returns a float.  Cost: two evaluations of fun.
    """
    x, v = _point_and_direction(x, v)
    eps = 1e-5 * max(1.0, _scale(x)) if eps is None else eps
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        eps = x.dtype.type(eps)
    return float((fun(x + eps * v) - fun(x - eps * v)) / (2 * eps))


def complex_step(fun, x, v=1.0, h=None):
    """Directional derivative Im fun(x + i h v) / h of a real function.

    fun: (d,) -> scalar (or scalar -> scalar, v = 1), written with operations
    that extend analytically to complex arguments.  No subtraction occurs,
    so with a tiny h (default 1e-20 |x|_max) the result is accurate to
    rounding, unlike a finite difference.  Returns a float.
    Cost: one evaluation of fun in complex arithmetic.
    """
    x, v = _point_and_direction(x, v)
    h = 1e-20 * _scale(x) if h is None else float(h)
    return float(np.imag(fun(x + 1j * h * v)) / h)


ORACLES = {"complex": complex_step, "central": central_difference}


def gradient_error(fun, x, grad, *, n_dirs=4, seed=0, method="complex", h=None):
    """Largest error |grad.v - D_v fun(x)| / |grad| over n_dirs random unit v.

    x, grad: (d,); method: 'complex' (fun must accept complex x; good to
    about 1e-16) or 'central' (any fun; about 1e-10 at best); h: the step
    (None: each oracle's default).  Returns a float.
    Cost: n_dirs evaluations of fun (2 n_dirs for 'central').
    """
    if method not in ORACLES:
        raise ValueError(f"method must be one of {sorted(ORACLES)}, got {method!r}")
    x = np.asarray(x, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != x.shape:
        raise ValueError(f"grad has shape {grad.shape}, x has shape {x.shape}")
    scale = max(float(np.linalg.norm(grad)), np.finfo(np.float64).tiny)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(n_dirs):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v)
        dv = ORACLES[method](fun, x, v, h)
        worst = max(worst, abs(float(grad @ v) - dv) / scale)
    return worst


def assert_gradient(fun, x, grad, *, rtol, **kwargs):
    """Raise AssertionError, naming the measured error, unless
    gradient_error(fun, x, grad, **kwargs) <= rtol."""
    err = gradient_error(fun, x, grad, **kwargs)
    if not err <= rtol:
        raise AssertionError(f"gradient check failed: directional error {err:.3e} > rtol {rtol:.1e}")

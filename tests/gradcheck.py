"""Gradient checker for the tests: directional derivatives, no full Jacobian.

A claimed gradient g of a scalar function f at x is compared, in a few
random unit directions v, with the directional derivative D_v f(x):

* ``method="complex"``: D_v f = imag(f(x + i h v)) / h with h = 1e-30.
  No subtraction, so it is good to about 1e-16 relative; f must accept
  complex input (write it with plain NumPy operations).
* ``method="central"``: (f(x + h v) - f(x - h v)) / (2 h).  Works for any
  f, but truncation and cancellation leave about 1e-10 relative at best.

The error in one direction is |g.v - D_v f| / |g| (|v| = 1): scaling by |g|
rather than |g.v| keeps an unlucky v with g.v close to 0 from blowing up
the error of a correct gradient.
"""

import numpy as np


def directional_derivative(fun, x, v, *, method="complex", h=None):
    """D_v fun(x) by complex step or central differences."""
    if method == "complex":
        h = 1e-30 if h is None else h
        return np.imag(fun(x + 1j * h * v)) / h
    if method == "central":
        h = 1e-5 * max(1.0, float(np.max(np.abs(x)))) if h is None else h
        return (fun(x + h * v) - fun(x - h * v)) / (2 * h)
    raise ValueError(f"method must be 'complex' or 'central', got {method!r}")


def gradient_error(fun, x, grad, *, n_dirs=4, seed=0, method="complex", h=None):
    """Largest error |grad.v - D_v fun(x)| / |grad| over n_dirs random unit v."""
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
        dv = directional_derivative(fun, x, v, method=method, h=h)
        worst = max(worst, abs(float(grad @ v) - float(np.real(dv))) / scale)
    return worst


def gradient_ok(fun, x, grad, *, rtol, **kwargs):
    """True when gradient_error(...) <= rtol (kwargs go to gradient_error)."""
    return gradient_error(fun, x, grad, **kwargs) <= rtol


def assert_gradient(fun, x, grad, *, rtol, **kwargs):
    """Raise AssertionError, with the measured error, unless gradient_ok."""
    err = gradient_error(fun, x, grad, **kwargs)
    if not err <= rtol:
        raise AssertionError(f"gradient check failed: directional error {err:.3e} > rtol {rtol:.1e}")

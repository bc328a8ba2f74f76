"""Problem 2: Heron's square root and the derivative of the program itself.

The program is  y_0 = 1,  y_k = (y_{k-1} + x / y_{k-1}) / 2  for k = 1..N.
Each step is a function y_k = g(y_{k-1}, x) with local partials

    a_k = dg/dy = (1 - x / y_{k-1}^2) / 2,      b_k = dg/dx = 1 / (2 y_{k-1}).

Forward mode carries the tangent  t_k = dy_k/dx = a_k t_{k-1} + b_k  (t_0 = 0);
reverse mode carries the adjoint  ybar = dy_N/dy_k  backwards, adding
ybar * b_k to xbar at every step.  Both return dy_N/dx of the N-step program,
which differs from 1/(2 sqrt(x)) until the iteration has converged.

Every function takes x as a Python number (returns floats) or a NumPy array
(elementwise, same shape out, float64).  ``tol`` stops each element once
|y_k - y_{k-1}| <= tol * |y_k|, with n_iter as the cap; the derivative is then
that of the steps that element actually ran.
"""

from array import array
import math
import numbers

import numpy as np

from ._checks import check_count


def _check(x, n_iter, tol):
    """Validate the arguments; return x as a float or a float64 array."""
    check_count("n_iter", n_iter, minimum=0)
    if tol is not None:
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
            raise TypeError(f"tol must be None or a number, got {tol!r}")
        if not (math.isfinite(tol) and tol >= 0):
            raise ValueError(f"tol must be None or a finite number >= 0, got {tol!r}")
    if isinstance(x, bool):
        raise TypeError("x must be a positive number or array of them, got a bool")
    xa = np.asarray(x, dtype=np.float64)
    if not (np.all(np.isfinite(xa)) and np.all(xa > 0)) or xa.size == 0:
        raise ValueError(f"x must be positive and finite (a non-empty number or array); got {x!r}")
    return float(xa) if xa.ndim == 0 else xa


def _step(x, y):
    """One Heron step y -> (y + x/y)/2 and its partials (dg/dy, dg/dx)."""
    return 0.5 * (y + x / y), 0.5 * (1.0 - (x / y) / y), 0.5 / y


def _select(active, new, old):
    """Take ``new`` where the element is still iterating, else keep ``old``."""
    if isinstance(active, np.ndarray):
        return np.where(active, new, old)
    return new if active else old


def _start_active(x, tol):
    """Which elements iterate: a plain ``True`` unless x is an array with tol."""
    return np.ones(x.shape, dtype=bool) if tol is not None and isinstance(x, np.ndarray) else True


def _still_active(active, y_prev, y, tol):
    """Per-element stopping test; unchanged when tol is None."""
    if tol is None:
        return active
    converged = abs(y - y_prev) <= tol * abs(y)
    if isinstance(active, np.ndarray):
        return active & ~converged
    return active and not converged


def _any(active):
    """Is any element still iterating?  (Plain bools skip NumPy: N may be 10**6.)"""
    return active if isinstance(active, bool) else bool(np.any(active))


def heron_sqrt(x, n_iter=100, *, tol=None):
    """sqrt(x) by n_iter Heron steps from y_0 = 1 (fewer with ``tol``).

    Cost: n_iter steps of O(size of x); memory O(size of x).
    """
    x = _check(x, n_iter, tol)
    y = 1.0 + 0.0 * x                       # y_0 = 1 (an array when x is one)
    active = _start_active(x, tol)
    for _ in range(n_iter):
        y_prev = y
        y = _select(active, 0.5 * (y + x / y), y)
        active = _still_active(active, y_prev, y, tol)
        if not _any(active):
            break
    return y


def heron_sqrt_forward(x, n_iter=100, *, tol=None):
    """(y_N, dy_N/dx) by forward mode: the tangent travels with the iterate.
    Cost: about twice heron_sqrt; memory O(size of x), independent of N."""
    x = _check(x, n_iter, tol)
    y, t = 1.0 + 0.0 * x, 0.0 * x          # y_0 = 1 does not depend on x: t_0 = 0
    active = _start_active(x, tol)
    for _ in range(n_iter):
        y_next, a, b = _step(x, y)
        t_next = a * t + b                  # total derivative: dg/dy dy/dx + dg/dx
        y_prev = y
        y, t = _select(active, y_next, y), _select(active, t_next, t)
        active = _still_active(active, y_prev, y, tol)
        if not _any(active):
            break
    return y, t


def heron_sqrt_reverse(x, n_iter=100, *, tol=None):
    """(y_N, dy_N/dx) by reverse mode: tape every y_{k-1}, then pull the adjoint
    back from y_N to x.  Cost: about twice heron_sqrt; memory: the tape, 8 N
    bytes for a scalar x.  With tol, element i ran steps[i] steps."""
    x = _check(x, n_iter, tol)
    y = 1.0 + 0.0 * x
    active = _start_active(x, tol)
    steps = 0 * active                      # how many steps each element ran
    tape = array("d") if isinstance(x, float) else []
    for _ in range(n_iter):
        tape.append(y)                      # y_{k-1}, the input of step k
        y_prev = y
        y = _select(active, _step(x, y)[0], y)
        steps = steps + active
        active = _still_active(active, y_prev, y, tol)
        if not _any(active):
            break

    ybar, xbar = 1.0 + 0.0 * x, 0.0 * x     # ybar = dy_N/dy_N = 1
    for k in reversed(range(len(tape))):
        _, a, b = _step(x, tape[k])
        acted = k < steps                   # did step k+1 act on the element?
        xbar = xbar + _select(acted, ybar * b, 0.0)
        ybar = _select(acted, ybar * a, ybar)
    return y, xbar

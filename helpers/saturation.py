"""Gradient accuracy where the sigmoids saturate, against 50 digits (part 1d).

With large inputs most pre-activations t sit far in a sigmoid's tail,
sigma'(t) ~ e^{-|t|} is tiny, and the question is how many of its digits a
float64 code keeps.  The reference is the same closed form evaluated by
mpmath from the very same float64 inputs at ``dps`` decimal digits, so it is
exact for all float64 purposes.
"""

import mpmath as mp
import numpy as np

from ._checks import check_count
from .accuracy import correct_digits, max_rel_error
from .model import make_problem, stages


def mp_gradient(x, A, B, dps=50):
    """(f, grad f) of f(x) = sum(sigma(B sigma(A x))) at ``dps`` digits.

    x: (d0,), A: (d1, d0), B: (d2, d1), float64 NumPy arrays, taken as exact.
    Evaluates grad = A^T (sigma'(y1) * B^T sigma'(y3)) with
    sigma'(t) = e^{-|t|} / (1 + e^{-|t|})^2 in mpmath, independently of the
    package's float64 code.  Returns (float, (d0,) float64 array), rounded
    once at the end.  Cost: O(d1 (d0 + d2)) mpmath operations (slow: keep
    the sizes in the tens).
    """
    def sig(t):
        return 1 / (1 + mp.exp(-t))

    def slope(t):
        e = mp.exp(-abs(t))
        return e / (1 + e) ** 2

    dps = check_count("dps", dps)
    x, A, B = (np.asarray(a, dtype=np.float64) for a in (x, A, B))
    (d1, d0), d2 = A.shape, B.shape[0]
    with mp.workdps(dps):
        y1 = [mp.fsum(mp.mpf(A[i, j]) * mp.mpf(x[j]) for j in range(d0)) for i in range(d1)]
        y2 = [sig(t) for t in y1]
        y3 = [mp.fsum(mp.mpf(B[k, i]) * y2[i] for i in range(d1)) for k in range(d2)]
        value = mp.fsum(sig(t) for t in y3)
        ybar3 = [slope(t) for t in y3]
        ybar1 = [slope(y1[i]) * mp.fsum(mp.mpf(B[k, i]) * ybar3[k] for k in range(d2))
                 for i in range(d1)]
        grad = [mp.fsum(mp.mpf(A[i, j]) * ybar1[i] for i in range(d1)) for j in range(d0)]
        return float(value), np.array([float(g) for g in grad])


def saturation_table(methods, scales, d0=30, d1=20, d2=10, *, seed=0, dps=50):
    """One row per scale s: the gradient at s * x of each method against mp_gradient.

    methods: {name: fn(x, A, B) -> (f, grad)}; scales: numbers to multiply
    x by (1 leaves the sigmoids in their curved part; 2000 saturates
    almost all of them; s * x must stay finite).  Row: scale, the largest
    pre-activation, the size of the exact gradient (rounded to float64: 0
    once it underflows, from scales near 10**5 at the default sizes), then
    per method its normwise relative error and the digits that it keeps
    (0 to 16; against an exact gradient of 0, 16 for a gradient of 0 and 0
    for any other).  Cost: one mp_gradient per scale.
    """
    A, B, x = make_problem(d0, d1, d2, seed=seed)
    rows = []
    for s in scales:
        xs = s * x
        ev = stages(xs, A, B)               # the pre-activations t: y1 and y3
        _, exact = mp_gradient(xs, A, B, dps)
        row = {"scale of x": s, "largest |t|": float(max(np.abs(ev.y1).max(), np.abs(ev.y3).max())),
               "max |grad|": float(np.abs(exact).max())}
        for name, fn in methods.items():
            err = _rel_error(fn(xs, A, B)[1], exact)
            row[f"{name}: rel. error"] = err
            row[f"{name}: digits"] = min(max(0.0, correct_digits(err)), 16.0)   # 16: exact
        rows.append(row)
    return rows


def _rel_error(grad, exact):
    """max_rel_error of ``grad`` against the float64 ``exact``; where every
    entry of ``exact`` underflowed to 0 (a huge scale), 0 for a gradient
    that is 0 too (the correctly rounded answer) and inf for any other."""
    if not np.any(exact):
        return 0.0 if not np.any(np.asarray(grad, dtype=np.float64)) else np.inf
    return max_rel_error(grad, exact)

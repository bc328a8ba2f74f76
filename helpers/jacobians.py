"""Part 1a: the five stage Jacobians of f = h5 . h4 . h3 . h2 . h1, as dense
matrices (small sizes only: this is for checking the algebra, not for speed)."""

from ._arrays import array_module
from .model import check_inputs, stages


def jacobians(x, A, B):
    """Dense (J_h1, ..., J_h5) = (A, diag(sigma'(y1)), B, diag(sigma'(y3)), 1^T) at x, of
    shapes (d1, d0), (d1, d1), (d2, d1), (d2, d2), (1, d2); their product is the (1, d0)
    row grad f(x)^T.  Memory: O(d1^2 + d2^2) for the diagonal matrices."""
    check_inputs(x, A, B)
    xp = array_module(x)
    ev = stages(x, A, B)                    # y1..y4 and the slopes s2, s4
    return A, xp.diag(ev.s2), B, xp.diag(ev.s4), xp.ones_like(ev.y4)[None, :]

"""Part 1a: the five stage Jacobians of f = h5 . h4 . h3 . h2 . h1, as dense
matrices (small sizes only: this is for checking the algebra, not for speed)."""

from ._arrays import array_module
from .model import check_inputs, stages


def jacobians(x, A, B):
    """Dense Jacobians (J_h1, J_h2, J_h3, J_h4, J_h5) at x.

    J_h1 = A                    (d1, d0)   h1(x)  = A x
    J_h2 = diag(sigma'(y1))     (d1, d1)   h2(y1) = sigma(y1)
    J_h3 = B                    (d2, d1)   h3(y2) = B y2
    J_h4 = diag(sigma'(y3))     (d2, d2)   h4(y3) = sigma(y3)
    J_h5 = [1 ... 1]            (1, d2)    h5(y4) = sum(y4)

    Their product J_h5 J_h4 J_h3 J_h2 J_h1 is the (1, d0) row grad f(x)^T.
    Memory: O(d1^2 + d2^2) for the diagonal matrices.
    """
    check_inputs(x, A, B)
    xp = array_module(x)
    ev = stages(x, A, B)                    # y1..y4 and the slopes s2, s4
    return A, xp.diag(ev.s2), B, xp.diag(ev.s4), xp.ones_like(ev.y4)[None, :]

"""Part 1c: the gradient of f by forward mode.

Forward mode pushes the Jacobian of each intermediate with respect to x
forward through the stages, right to left in the chain rule:

    T1 = J_h1                  = A                       (d1, d0)
    T2 = J_h2 T1               = diag(sigma'(y1)) A       (d1, d0)
    T3 = J_h3 T2               = B T2                    (d2, d0)   <- one matrix product
    T5 = J_h5 (J_h4 T3)        = 1^T diag(sigma'(y3)) T3 (1, d0)  = grad^T

Every column of T_k is the tangent dy_k/dx_j of one input direction e_j,
so this is d0 Jacobian-vector products done at once.  Diagonal Jacobians are
applied as row scalings, never formed.
"""

from ._arrays import array_module
from ._checks import check_count
from .model import check_inputs, stages


def f_and_grad_forward(x, A, B, *, chunk_size=None):
    """f(x) and grad f(x) by forward-mode accumulation.  x: (d0,), A: (d1, d0), B: (d2, d1),
    NumPy or torch, one float dtype; returns (f, grad: (d0,)) of the same kind.
    chunk_size: input directions pushed at a time (an integer >= 1; None: all d0).
    Cost: d0 d1 d2 multiply-adds (the matrix product B T2) + O(d1 d0 + d2 d0).
    Extra memory: T2 and T3, (d1 + d2) * min(chunk_size, d0) numbers."""
    check_inputs(x, A, B)
    d0 = x.shape[0]
    chunk_size = d0 if chunk_size is None else check_count("chunk_size", chunk_size)
    xp = array_module(x)

    ev = stages(x, A, B)                    # f, keeping the diagonals s2, s4 of J_h2, J_h4
    grad = xp.empty_like(x)
    for j in range(0, d0, chunk_size):
        cols = slice(j, j + chunk_size)
        T1 = A[:, cols]                     # J_h1 restricted to these directions
        T2 = ev.s2[:, None] * T1            # J_h2 T1
        T3 = B @ T2                         # J_h3 T2
        grad[cols] = ev.s4 @ T3             # J_h5 (J_h4 T3): ones^T diag(s4) = s4^T
        del T2, T3                          # freed before the next: peak (d1 + d2) chunk numbers
    return ev.f, grad

"""Part 1d: the gradient of f by reverse mode.

Reverse mode pulls the row vector J_h5 back through the stages, left to
right in the chain rule, using intermediates saved by the forward pass:

    ybar4 = J_h5               = 1^T                     (d2,)
    ybar3 = ybar4 J_h4         = ybar4 * sigma'(y3)       (d2,)
    ybar2 = ybar3 J_h3         = ybar3 B                 (d1,)
    ybar1 = ybar2 J_h2         = ybar2 * sigma'(y1)       (d1,)
    xbar  = ybar1 J_h1         = ybar1 A                 (d0,)  = grad^T

ybar_k is the adjoint df/dy_k.  Only vector-matrix products occur.
"""

from ._arrays import array_module
from ._checks import check_count
from .model import check_inputs, layer, stages


def f_and_grad_reverse(x, A, B):
    """f(x) and grad f(x) by reverse mode (one backward sweep of rows).  x: (d0,), A: (d1, d0),
    B: (d2, d1), NumPy or torch, one float dtype; returns (f, grad: (d0,)) of the same kind.
    Cost: 2 d1 (d0 + d2) multiply-adds in four matrix-vector products, each reading A or B
    from memory once (limited by how fast memory delivers the matrices).  Extra memory: the
    saved vectors, O(d1 + d2)."""
    check_inputs(x, A, B)
    xp = array_module(x)

    ev = stages(x, A, B)                    # f, keeping the diagonals s2, s4 of J_h2, J_h4
    ybar4 = xp.ones_like(ev.y4)             # J_h5
    ybar3 = ybar4 * ev.s4                   # ybar4 J_h4
    ybar2 = ybar3 @ B                       # ybar3 J_h3
    ybar1 = ybar2 * ev.s2                   # ybar2 J_h2
    xbar = ybar1 @ A                        # ybar1 J_h1
    return ev.f, xbar


def f_and_grad_reverse_fused(x, A, B, *, block_rows=64):
    """Reverse mode with the B stage fused, reading B from memory once: ybar3 for a block of
    rows of B depends only on y3 for that block, so each block B_i of ``block_rows`` rows serves
    y3_i = B_i y2 and, still in cache, ybar2 += ybar3_i B_i: three passes over the matrices
    (A, B, A) instead of four.  Arguments, result and flops as ``f_and_grad_reverse`` (the sums
    are ordered differently).  block_rows * d1 numbers should fit in the cache (64 x 8000: 4 MB)."""
    check_inputs(x, A, B)
    block_rows = check_count("block_rows", block_rows)
    xp = array_module(x)

    y1, y2, s2 = layer(A, x)                # the first layer of ``stages``
    value = 0.0
    ybar2 = xp.zeros_like(y2)
    for i in range(0, B.shape[0], block_rows):
        B_i = B[i:i + block_rows]
        y3_i, y4_i, s4_i = layer(B_i, y2)   # its second layer, one block of rows
        value = value + y4_i.sum()
        ybar3_i = s4_i                      # ybar4 J_h4 with ybar4 = 1^T
        ybar2 += ybar3_i @ B_i              # ybar3 J_h3, one block at a time
    ybar1 = ybar2 * s2
    xbar = ybar1 @ A
    return value, xbar

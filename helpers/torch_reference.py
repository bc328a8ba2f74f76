"""Part 1b: the reference gradient from PyTorch's reverse-mode autograd."""

import numpy as np

from ._arrays import is_torch
from .model import check_inputs


def f_and_grad_torch(x, A, B):
    """f(x) and grad f(x) by ``torch.autograd``.  NumPy in, NumPy out (tensors in,
    tensors out), dtype kept.  Cost: four matrix-vector products plus bookkeeping."""
    check_inputs(x, A, B)
    import torch

    as_numpy = not is_torch(x)
    if as_numpy:   # zero-copy views of the NumPy buffers
        x, A, B = (torch.from_numpy(np.ascontiguousarray(a)) for a in (x, A, B))
    x = x.detach().clone().requires_grad_(True)
    value = torch.sigmoid(B @ torch.sigmoid(A @ x)).sum()
    (grad,) = torch.autograd.grad(value, x)
    value = value.detach()
    if as_numpy:
        return value.numpy()[()], grad.numpy()
    return value, grad


def precision_rows(name, fn, d0, d1, d2, *, seed=0):
    """How ``fn``'s gradient (fn(x, A, B) -> (f, grad)) agrees with PyTorch's
    in float64 and in float32, on ``make_problem(d0, d1, d2, seed=seed)``.

    The float32 problem is the float64 one rounded; its reference is the
    float64 gradient of those same float32 numbers, so the float32 rows
    measure the rounding of the arithmetic alone.  Returns four
    ``agreement_row`` dicts (with a 'precision' column): name vs PyTorch in
    float64; in float32, name vs PyTorch, name vs the float64 reference and
    PyTorch vs the float64 reference.  Cost: four gradients of each kind.
    """
    from .accuracy import agreement_row
    from .model import make_problem

    A, B, x = make_problem(d0, d1, d2, seed=seed)
    A32, B32, x32 = make_problem(d0, d1, d2, seed=seed, dtype=np.float32)
    ref32 = f_and_grad_torch(*(a.astype(np.float64) for a in (x32, A32, B32)))[1]
    ours32, torch32 = fn(x32, A32, B32)[1], f_and_grad_torch(x32, A32, B32)[1]
    return [agreement_row(f"{name} vs PyTorch", fn(x, A, B)[1], f_and_grad_torch(x, A, B)[1],
                          precision="float64"),
            agreement_row(f"{name} vs PyTorch", ours32, torch32, precision="float32"),
            agreement_row(f"{name} vs float64 ref.", ours32, ref32, precision="float32"),
            agreement_row("PyTorch vs float64 ref.", torch32, ref32, precision="float32")]

"""Part 1b: the reference gradient from PyTorch's reverse-mode autograd."""

import numpy as np

from ._arrays import is_torch
from .model import check_inputs


def f_and_grad_torch(x, A, B):
    """f(x) and grad f(x) computed by ``torch.autograd``.

    NumPy in, NumPy out (tensors in, tensors out); the dtype is kept, so
    float64 inputs give a float64 reference.  Shapes as in ``helpers.model``.
    Cost: what autograd does, four matrix-vector products plus bookkeeping.
    """
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

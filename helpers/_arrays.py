"""Array-library dispatch: the same derivative code runs on NumPy arrays and
on PyTorch tensors (CPU or GPU).

PyTorch is imported only when a tensor is actually passed in, so
``import helpers`` stays light.
"""

import numpy as np

FLOAT_DTYPES = ("float32", "float64")


def is_torch(a):
    """True when ``a`` is a ``torch.Tensor`` (checked without importing torch)."""
    return type(a).__module__.startswith("torch")


def array_module(a):
    """Return ``numpy`` or ``torch``, whichever module ``a`` belongs to."""
    if is_torch(a):
        import torch

        return torch
    return np


def dtype_name(a):
    """``'float32'``, ``'float64'``, ... for NumPy arrays and tensors alike."""
    return str(a.dtype).replace("torch.", "")

"""The methods that parts 1e and 1f time, one record each.

The timing study (``timing_study``), its bar chart (``timing_plots``),
``python -m helpers.bench`` and part 1e's sweeps and memory check
(``scaling``) all read METHODS: a new gradient method is one record here
plus its function.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .complexity import forward_steps, reverse_steps, totals
from .forward_mode import f_and_grad_forward
from .model import f
from .reverse_mode import f_and_grad_reverse, f_and_grad_reverse_fused
from .torch_reference import f_and_grad_torch

ROLES = ("ours", "framework", "baseline", "matrix-vector product", "matrix-matrix product (GEMM)")


@dataclass(frozen=True)
class Inputs:
    """One problem as the methods take it.  x: (d0,), A: (d1, d0), B: (d2, d1)
    for our code (NumPy on the CPU, tensors on a GPU); xt, At, Bt the same
    as torch tensors, for the framework methods (None where none runs);
    chunk_size for ``forward_chunked`` (0: not timed)."""
    x: Any
    A: Any
    B: Any
    chunk_size: int = 0
    xt: Any = None
    At: Any = None
    Bt: Any = None


@dataclass(frozen=True)
class Method:
    """One timed method at d0 = d1 = d2 = d.

    key:      its identifier: code looks methods up by it (METHOD[key]), and
              results are keyed by it ('key' of a study row, sweep columns
              '<key>_s').
    label:    its name on the report's tables and figures, for display only.
    words:    its name in plain words, for progress bars ('' : the label).
    role:     one of ROLES.
    call:     call(p) with p an Inputs; (f, grad) when ``gradient``.
    reads:    d x d matrices it reads from memory, if memory-bound (GB/s
              shown), else 0.
    flops:    its flops in units of d^3, if compute-bound (GFLOP/s shown), else 0.
    slow:     Theta(d^3) work (seconds at d = 8000): warmed up at a small size
              and timed ``slow_repeats`` times.
    context:  an extra that only adds context (jacfwd, the chunked variant):
              timed once, at the study's probe size, and labelled so.
    gradient: returns (f, grad); compared with reverse mode's gradient.
    steps:    its exact counts in ``complexity`` (forward_steps, reverse_steps).
    memory:   its key in ``complexity.extra_memory``.
    chunked:  needs Inputs.chunk_size (skipped when it is 0).
    cpu_only: compares torch with NumPy, so runs only where our methods run
              in NumPy (skipped on a GPU, where both would be torch).
    """
    key: str
    label: str
    role: str
    call: Callable[[Inputs], Any]
    reads: int = 0
    flops: int = 0
    slow: bool = False
    context: bool = False
    gradient: bool = True
    steps: Callable | None = None
    memory: str | None = None
    chunked: bool = False
    cpu_only: bool = False
    words: str = ""

    @property
    def name(self):
        """Its name in plain words: ``words``, else the label."""
        return self.words or self.label

    def madds(self, d0, d1, d2):
        """Its exact multiply-adds at (d0, d1, d2), from ``steps``."""
        return totals(self.steps(d0, d1, d2))["madds"]


def _gemm(p):
    p.B @ p.A               # the d x d product is dropped at once, not kept as a result


def _jacfwd(p):
    import torch

    f_torch = lambda x, A, B: torch.sigmoid(B @ torch.sigmoid(A @ x)).sum()
    return None, torch.func.jacfwd(f_torch)(p.xt, p.At, p.Bt)


METHODS = [
    Method("f", "f alone", "baseline", lambda p: f(p.x, p.A, p.B), reads=2, gradient=False),
    Method("matvec", r"matrix-vector product $A\mathbf{x}$", "matrix-vector product",
           lambda p: p.A @ p.x, reads=1, gradient=False, words="NumPy matrix-vector product"),
    Method("vecmat", r"vector-matrix product $\mathbf{x}^T A$", "matrix-vector product",
           lambda p: p.x @ p.A, reads=1, gradient=False, words="NumPy vector-matrix product"),
    Method("torch_matvec", r"torch matrix-vector product $A\mathbf{x}$", "matrix-vector product",
           lambda p: p.At @ p.xt, reads=1, gradient=False, cpu_only=True, words="torch matrix-vector product"),
    Method("gemm", "matrix-matrix product $BA$ (GEMM)", "matrix-matrix product (GEMM)", _gemm,
           flops=2, slow=True, gradient=False, words="GEMM"),
    Method("forward", "forward", "ours", lambda p: f_and_grad_forward(p.x, p.A, p.B), flops=2,
           slow=True, steps=forward_steps, memory="forward", words="forward mode"),
    Method("forward_chunked", "forward chunked", "ours",
           lambda p: f_and_grad_forward(p.x, p.A, p.B, chunk_size=p.chunk_size),
           flops=2, slow=True, context=True, steps=forward_steps, memory="forward", chunked=True,
           words="forward mode, chunked"),
    Method("reverse", "reverse", "ours", lambda p: f_and_grad_reverse(p.x, p.A, p.B), reads=4,
           steps=reverse_steps, memory="reverse", words="reverse mode"),
    Method("reverse_fused", "reverse fused", "ours",
           lambda p: f_and_grad_reverse_fused(p.x, p.A, p.B), reads=3,
           steps=reverse_steps, memory="fused", words="reverse mode, fused"),
    Method("torch_autograd", "PyTorch autograd", "framework",
           lambda p: f_and_grad_torch(p.xt, p.At, p.Bt), reads=4),
    Method("jacfwd", "torch.func.jacfwd", "framework", _jacfwd, slow=True, context=True),
]
METHOD = {m.key: m for m in METHODS}


def runnable(p):
    """The methods that run on ``p``: all but the chunked ones when p.chunk_size
    is 0, and the cpu_only ones when our methods take torch tensors (a GPU)."""
    numpy = p.At is not None and p.A is not p.At
    return [m for m in METHODS if (p.chunk_size or not m.chunked) and (numpy or not m.cpu_only)]

"""Helpers for the automatic-differentiation report.

Problem 1 (f(x) = sum(sigmoid(B sigmoid(A x)))):
    model          sigmoid, make_problem, f, input checks
    jacobians      part (a): the dense stage Jacobians
    torch_reference part (b): PyTorch autograd
    forward_mode   part (c): forward-mode gradient
    reverse_mode   part (d): reverse-mode gradient (plain and B-fused)
Problem 2 (Heron's square root):
    heron          value, forward- and reverse-mode derivatives
"""

from .forward_mode import f_and_grad_forward
from .heron import heron_sqrt, heron_sqrt_forward, heron_sqrt_reverse
from .jacobians import jacobians
from .model import f, make_problem, sigmoid, sigmoid_and_slope
from .reverse_mode import f_and_grad_reverse, f_and_grad_reverse_fused
from .torch_reference import f_and_grad_torch

__all__ = [
    "sigmoid", "sigmoid_and_slope", "make_problem", "f", "jacobians",
    "f_and_grad_torch", "f_and_grad_forward", "f_and_grad_reverse",
    "f_and_grad_reverse_fused",
    "heron_sqrt", "heron_sqrt_forward", "heron_sqrt_reverse",
]

# Accuracy checks and Problem 2 figures (used by the notebooks).
from .accuracy import (  # noqa: E402
    UNIT_ROUNDOFF, agreement_row, central_difference, complex_step, correct_digits,
    heron_complex, markdown_table, max_rel_error, rel_error,
)
from .heron_plots import (  # noqa: E402
    heron_history, plot_error_history, plot_error_vs_x,
    plot_value_and_derivative_errors,
)

__all__ += [
    "UNIT_ROUNDOFF", "agreement_row", "central_difference", "complex_step",
    "correct_digits", "heron_complex", "markdown_table", "max_rel_error", "rel_error",
    "heron_history", "plot_error_history", "plot_error_vs_x",
    "plot_value_and_derivative_errors",
]

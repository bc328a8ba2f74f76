"""Helpers for the automatic-differentiation report; the notebooks call these.

Problem 1, f(x) = sum(sigmoid(B sigmoid(A x))):
    model            sigmoid, make_problem, f, stages (the evaluation), input checks
    jacobians        part 1a: the dense stage Jacobians
    torch_reference  part 1b: PyTorch autograd
    forward_mode     part 1c: forward-mode gradient
    reverse_mode     part 1d: reverse-mode gradient (plain and B-fused)
    complexity       part 1e: exact operation counts and memory
    methods          parts 1e/1f: the timed methods, one record each
    scaling          part 1e: the counts against the clock
    timing_study     part 1f: the timing study at d = 8000 and its targets
    timing, machine  stopwatch, progress bars, memory meter, machine description
    quick            parts 1e/1f: quick.json's small sizes, for a notebook's quick = True
    timing_plots     parts 1e/1f figures
    bench            python -m helpers.bench: the targets from one run
Problem 2, Heron's square root:
    heron            value, forward- and reverse-mode derivatives
    heron_plots      part 2 figures
Both:
    accuracy         relative errors, digits, tables; the Heron complex-step oracle
    gradcheck        complex step, central difference, gradient check (tests too)
    saturation       part 1d: accuracy in the sigmoids' tails against mpmath
    listing          show_source: the live source of a function, highlighted
    claims           record, claim: values for the report's Markdown, with their checks
    bounds           at_most, at_least, between, within, compare: phrases rounded the safe way
"""

from .accuracy import (
    UNIT_ROUNDOFF, agreement_row, correct_digits, heron_complex, markdown_table, max_rel_error,
    rel_error,
)
from .bounds import at_least, at_most, between, compare, for_all, never, number, within
from .claims import claim, record
from .forward_mode import f_and_grad_forward
from .gradcheck import assert_gradient, central_difference, complex_step, gradient_error
from .heron import heron_sqrt, heron_sqrt_forward, heron_sqrt_reverse
from .heron_plots import (
    heron_history, plot_error_history, plot_error_vs_x, plot_value_and_derivative_errors,
)
from .jacobians import jacobians
from .listing import show_source
from .model import f, make_problem, sigmoid, sigmoid_and_slope
from .reverse_mode import f_and_grad_reverse, f_and_grad_reverse_fused
from .torch_reference import f_and_grad_torch

__all__ = [
    "sigmoid", "sigmoid_and_slope", "make_problem", "f", "jacobians",
    "f_and_grad_torch", "f_and_grad_forward", "f_and_grad_reverse",
    "f_and_grad_reverse_fused",
    "heron_sqrt", "heron_sqrt_forward", "heron_sqrt_reverse",
    "UNIT_ROUNDOFF", "agreement_row", "central_difference", "complex_step",
    "correct_digits", "heron_complex", "markdown_table", "max_rel_error", "rel_error",
    "gradient_error", "assert_gradient",
    "heron_history", "plot_error_history", "plot_error_vs_x",
    "plot_value_and_derivative_errors", "show_source", "claim", "record",
    "at_most", "at_least", "between", "within", "for_all", "never", "number", "compare",
]

"""The notebooks' own yardsticks (helpers.accuracy, helpers.gradcheck) must
themselves be right: a table that reports agreement has to be able to report
disagreement."""

import math

import numpy as np
import pytest

from helpers import (
    agreement_row, central_difference, complex_step, correct_digits, f_and_grad_reverse,
    heron_complex, heron_sqrt_forward, make_problem, markdown_table, max_rel_error, f, rel_error,
)


def test_max_rel_error_is_normwise_and_widens_float32():
    ref = np.array([1.0, -2.0, 4.0])
    assert max_rel_error(ref, ref) == 0.0
    assert max_rel_error(ref + np.array([0, 0, 4e-3]), ref) == pytest.approx(1e-3)
    assert max_rel_error(ref.astype(np.float32), ref) == 0.0


def test_max_rel_error_rejects_shape_mismatch_and_zero_reference():
    with pytest.raises(ValueError, match="shapes differ"):
        max_rel_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="all zeros"):
        max_rel_error(np.ones(3), np.zeros(3))


def test_rel_error_divides_by_the_reference_entry_by_entry():
    ref = np.array([2.0, -4.0, 0.5])
    # Results far from the reference, so |a - ref| / |a| would give other numbers.
    history = np.array([[3.0, -1.0, 0.5], [2.0, -4.0, 1.5]])
    np.testing.assert_array_equal(rel_error(history, ref), [[0.5, 0.75, 0.0], [0.0, 0.0, 2.0]])
    assert rel_error(np.float32(3.0), 2.0) == 0.5 and rel_error(1.0, 4.0) == 0.75
    with pytest.raises(ValueError, match="zero entries"):
        rel_error(np.ones(2), np.array([1.0, 0.0]))


def test_agreement_row_flags_a_wrong_gradient():
    A, B, x = make_problem(9, 7, 5, seed=3)
    _, g = f_and_grad_reverse(x, A, B)
    wrong = g.copy()
    wrong[2] *= 1 + 1e-6
    assert agreement_row("ok", g, g)["digits"] == math.inf
    row = agreement_row("wrong", wrong, g)
    assert 1e-8 < row["max rel. error"] < 1e-5 and row["digits"] < 8


def test_correct_digits():
    assert correct_digits(1e-12) == pytest.approx(12)
    with pytest.raises(ValueError):
        correct_digits(-1.0)


def test_markdown_table_escapes_pipes_and_checks_columns():
    text = markdown_table([{"a": "x|y", "digits": math.inf}, {"a": "z", "digits": 3.14159}])
    lines = text.splitlines()
    assert len(lines) == 4 and "x\\|y" in lines[2] and "all" in lines[2] and "3.1" in lines[3]
    with pytest.raises(ValueError, match="columns"):
        markdown_table([{"a": 1}, {"b": 2}])


def test_markdown_table_rounds_digits_down_as_the_text_does():
    """A digits column rounds down, to the bound the text states ("at least 6.1"
    for 6.19): the table never shows more digits than the sentence beside it."""
    from helpers.bounds import at_least

    values = [6.19, 15.2, 13.16, 0.95, 6.25, 16.0]
    text = markdown_table([{"digits": v} for v in values])
    cells = [line.strip("| ").strip() for line in text.splitlines()[2:]]
    assert cells == ["6.1", "15.2", "13.1", "0.9", "6.2", "16.0"]
    for v, cell in zip(values, cells):
        assert at_least(v, digits=3 if v >= 10 else 2 if v >= 1 else 1) == f"at least {cell}"
    # other float columns keep nearest rounding; a non-fixed digits format is used as given
    assert "| 6.2e+00 |" in markdown_table([{"x": 6.19}], floatfmt=".1e")
    assert "6.19" in markdown_table([{"digits": 6.19}], digitsfmt=".3g")


def test_central_difference_matches_reverse_mode_and_fails_on_wrong_direction():
    A, B, x = make_problem(6, 4, 3, seed=1)
    _, g = f_and_grad_reverse(x, A, B)
    v = np.random.default_rng(0).standard_normal(6)
    fd = central_difference(lambda z: f(z, A, B), x, v, 1e-5)
    scale = np.linalg.norm(g) * np.linalg.norm(v)   # g @ v itself may nearly cancel
    assert abs(fd - g @ v) < 1e-8 * scale
    assert abs(fd - g @ (v + 0.1 * g / np.linalg.norm(g))) > 1e-3 * scale


def test_complex_step_exact_on_closed_form():
    assert complex_step(lambda z: z**3, 2.0) == pytest.approx(12.0, rel=1e-15)


def test_directional_derivatives_of_a_closed_form():
    x, v = np.array([1.0, -2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    fun = lambda z: np.sum(z**3)          # noqa: E731  gradient 3 x^2
    exact = 3 * x**2 @ v
    assert complex_step(fun, x, v) == pytest.approx(exact, rel=1e-15)
    assert central_difference(fun, x, v) == pytest.approx(exact, rel=1e-9)
    for oracle in (complex_step, central_difference):
        with pytest.raises(ValueError, match="one shape"):
            oracle(fun, x, v[:2])


@pytest.mark.parametrize("x, tol", [(2.0, None), (2.0, 1e-12), (1e6, 1e-10), (3e-5, 1e-3)])
def test_heron_complex_matches_the_real_program(x, tol):
    y, steps = heron_complex(complex(x, 1e-30), 200, tol)
    y_fwd, t_fwd = heron_sqrt_forward(x, steps)
    assert y.real == pytest.approx(y_fwd, rel=1e-15)
    assert y.imag / 1e-30 == pytest.approx(t_fwd, rel=1e-13)
    if tol is not None:
        assert heron_sqrt_forward(x, 200, tol=tol) == (y_fwd, t_fwd)

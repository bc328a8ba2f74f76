"""The cost formulas the report types in LaTeX (parts 1c, 1e, 1f) against
the counts of helpers/complexity.py, evaluated at several sizes.

Each formula is read out of the committed notebook, turned into a function
of the sizes, and compared numerically with complexity.py, so a change of
either side without the other fails here.  Sizes are distinct (a swapped
d1 and d2 shows) and include 1 (a missing constant term shows).
"""

import json
import re
from pathlib import Path

import pytest

from helpers.complexity import (
    evaluation_steps,
    extra_memory,
    forward_steps,
    reverse_steps,
    totals,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SIZES = [(1, 1, 1), (2, 3, 5), (5, 3, 2), (7, 11, 13), (64, 1, 9), (300, 200, 100)]
STEPS = {"forward": forward_steps, "reverse": reverse_steps}
UNITS = {"madds": "madds", "sigmoid evaluations": "sigmoids", "adds": "elementwise",
         "multiplies": "elementwise"}            # the words of 1e's step tables -> columns
OPERAND = re.compile(r"d\d|[dc]|\d+")


def formula(tex):
    """A polynomial in LaTeX ('2 d_1 (d_0 + d_2)', 'd_0d_1d_2', 'd^2(d_0 - 1)',
    '(d_1+d_2)\\cdot c', 'd/4', '3 \\min(64, d_2)') as a function of the sizes
    d0, d1, d2, d, c."""
    t = re.sub(r"d_\{?(\d)\}?", r"d\1", tex)
    for latex, py in ((r"\textstyle", " "), (r"\cdot", "*"), (r"\,", " "), (r"\min", " min "),
                      ("{", "("), ("}", ")")):
        t = t.replace(latex, py)
    tokens = re.findall(r"min|d\d|[dc]|\d+|[-+*/^(),]|\S", t)
    out = []
    for tok in tokens:
        if not (OPERAND.fullmatch(tok) or tok in "-+*/^()," or tok == "min"):
            raise ValueError(f"cannot read {tok!r} in formula {tex!r}")
        if out and (OPERAND.fullmatch(out[-1]) or out[-1] == ")") and (OPERAND.fullmatch(tok) or tok in ("(", "min")):
            out.append("*")                     # juxtaposition is a product
        out.append(tok)
    code = compile("".join(out).replace("^", "**"), tex, "eval")
    return lambda **sizes: eval(code, {"__builtins__": {}, "min": min}, sizes)


def source(stem, cell_type="markdown"):
    """The sources of one notebook's cells of ``cell_type``, joined."""
    cells = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == cell_type)


def found(pattern, text, count):
    """The first group of each match of ``pattern``; exactly ``count`` of them."""
    groups = [m.group(1) for m in re.finditer(pattern, text, re.S)]
    assert len(groups) == count, (pattern, groups)
    return groups


def sizes(d0, d1, d2):
    return {"d0": d0, "d1": d1, "d2": d2}


def same_order(count, bound, shape):
    """count(s) / bound(s) stays within [1/8, 8] as the sizes s grow together."""
    ratios = [count(*(10**k * n for n in shape)) / bound(**sizes(*(10**k * n for n in shape)))
              for k in range(1, 5)]
    return all(1 / 8 <= r <= 8 for r in ratios)


def assert_chunked_memory(matrices, shape):
    """extra_memory with chunk_size = c is ``matrices`` plus what does not depend on c."""
    d0 = shape[0]
    full = extra_memory(*shape)["forward"] - matrices(**sizes(*shape), c=d0)
    for c in sorted({1, min(2, d0), max(1, d0 // 3), d0}):
        assert extra_memory(*shape, chunk_size=c)["forward"] - matrices(**sizes(*shape), c=c) == full, c


# -------------------------------------------------------------- part 1e


def step_tables():
    """1e's three aligned step tables as rows {column: formula}: the
    evaluation, forward mode's tangent sweep, reverse mode's adjoint sweep."""
    blocks = found(r"\\begin\{aligned\}(.*?)\\end\{aligned\}", source("1e_complexity"), 3)
    tables = []
    for block in blocks:
        rows = []
        for line in filter(str.strip, block.split("\\\\")):
            count = line.split("&&")[1].strip()
            number, unit = re.fullmatch(r"(.*?)\\text\{\s*([^}]*)\}.*", count, re.S).groups()
            if unit.startswith("no work"):
                assert not number.strip(), line
                rows.append({})
            else:
                rows.append({UNITS[unit.strip()]: formula(number)})
        tables.append(rows)
    return tables


@pytest.mark.parametrize("shape", SIZES, ids=str)
def test_step_tables_of_1e_are_the_steps_of_complexity(shape):
    evaluation, tangents, adjoints = step_tables()
    for typed, rows in ((evaluation, evaluation_steps(*shape)),
                        (evaluation + tangents, forward_steps(*shape)),
                        (evaluation + adjoints, reverse_steps(*shape))):
        assert len(typed) == len(rows)
        for columns, row in zip(typed, rows):
            for column in ("madds", "elementwise", "sigmoids"):
                expect = columns[column](**sizes(*shape)) if column in columns else 0
                assert row[column] == expect, (row["step"], column)


@pytest.mark.parametrize("shape", SIZES, ids=str)
def test_totals_of_1e_are_the_sums_of_complexity(shape):
    """'In total X madds, plus Y elementwise operations and Z sigmoid
    evaluations', forward then reverse; every side of an '=' in X counts."""
    text = source("1e_complexity")
    typed = re.findall(r"In total \$([^$]+?)\$ madds, plus \$([^$]+?)\$\s+elementwise operations and "
                       r"\$([^$]+?)\$ sigmoid evaluations", text, re.S)
    assert len(typed) == 2
    for mode, (madds, elementwise, sigmoids) in zip(STEPS, typed):
        t = totals(STEPS[mode](*shape))
        for side in madds.split("="):
            assert formula(side)(**sizes(*shape)) == t["madds"], (mode, side)
        assert formula(elementwise)(**sizes(*shape)) == t["elementwise"], mode
        assert formula(sigmoids)(**sizes(*shape)) == t["sigmoids"], mode


@pytest.mark.parametrize("shape", SIZES, ids=str)
def test_memory_of_1e_is_extra_memory(shape):
    text = source("1e_complexity")
    typed = dict(re.findall(r"M_\{\\text\{(\w+)\}\} = ([^$]+?)\$", text, re.S))
    assert set(typed) == {"forward", "reverse", "fused"}
    for mode, tex in typed.items():
        assert formula(tex)(**sizes(*shape)) == extra_memory(*shape)[mode], mode
    (matrices,) = found(r"the matrices shrink to \$([^$]+?)\$ numbers", text, 1)
    assert_chunked_memory(formula(matrices), shape)


@pytest.mark.parametrize("d0", [1, 2, 7, 64])
@pytest.mark.parametrize("d", [1, 3, 50])
def test_forward_minus_reverse_of_1e(d0, d):
    (gap,) = found(r"the counts above differ by\s+\$([^$]+?) \\ge 0\$", source("1e_complexity"), 1)
    madds = {m: totals(STEPS[m](d0, d, d))["madds"] for m in STEPS}
    assert madds["forward"] - madds["reverse"] == formula(gap)(d0=d0, d=d)


def answer(stem):
    """The source of the notebook's Markdown cell tagged ``answer``."""
    cells = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]
    (cell,) = [c for c in cells if "answer" in c["metadata"].get("tags", [])]
    assert cell["cell_type"] == "markdown"
    return "".join(cell["source"])


def test_answer_of_1e():
    """The boxed answer: exact multiply-adds and Theta orders (memory is derived, and checked
    exactly, in the appendix: test above), and no memory claim in the answer."""
    text = answer("1e_complexity")
    exact = found(r"exactly \$([^$]+?)\$\s+multiply-adds", text, 2)
    theta = found(r"\\Theta\(([^$]+?)\)\$", text, 2)
    assert "memory" not in text.lower()
    for mode, e, th in zip(STEPS, exact, theta):
        count = lambda *s: totals(STEPS[mode](*s))["madds"]   # noqa: E731
        for shape in SIZES:
            assert formula(e)(**sizes(*shape)) == count(*shape), mode
            assert same_order(count, formula(th), shape), (mode, th)


GRID = [(a, b, c) for a in range(1, 9) for b in range(1, 9) for c in range(1, 9)] + [(2, 100, 1), (1, 100, 99)]


def fewer_rule(rule):
    """'$d_0 = 1$ and $d_2 < d_1$, or $d_2 = 1$ and $d_0 < d_1$' as a function
    of the sizes: the typed (in)equalities, joined as typed."""
    alternatives = [re.findall(r"\$([^$]+)\$", alt) for alt in rule.split(", or ")]
    def holds(**s):
        def one(rel):
            lhs, op, rhs = re.fullmatch(r"(.+?)\s*(=|<)\s*(.+)", rel).groups()
            a, b = formula(lhs)(**s), formula(rhs)(**s)
            return a == b if op == "=" else a < b
        return any(all(one(r) for r in alt) for alt in alternatives)
    return holds


def test_which_mode_needs_fewer_of_1e():
    """The typed difference, the rule for fewer forward multiply-adds and its
    bound, in the body and in the answer, against the counts over a grid of
    sizes from 1 to 8 with the edge cases (d0 = 1, d2 = 1, d1 != d2)."""
    text = source("1e_complexity")                 # the body and the answer
    (gap,) = found(r"Forward minus reverse is \$([^$]+?)\$", text, 1)
    (most,) = set(found(r"by at most \$([^$]+?)\$", text, 2))
    rules = found(r"needs fewer(?: multiply-adds)? only where\s+(.*?),\s+(?:and then )?by at most", text, 2)
    assert "only where" in answer("1e_complexity")
    for typed in rules:
        rule = fewer_rule(" ".join(typed.split()))
        for s in GRID:
            diff = totals(forward_steps(*s))["madds"] - totals(reverse_steps(*s))["madds"]
            assert formula(gap)(**sizes(*s)) == diff, s
            assert rule(**sizes(*s)) == (diff < 0), s
            assert diff >= -formula(most)(**sizes(*s)), s
    assert totals(forward_steps(2, 100, 1))["madds"] == 502 and totals(reverse_steps(2, 100, 1))["madds"] == 600


def test_theta_of_1e_step_tables():
    text = source("1e_complexity")
    theta = found(r"sigmoid evaluations: \$\\Theta\(([^$]+?)\)\$", text, 2)
    for mode, th in zip(STEPS, theta):
        count = lambda *s: totals(STEPS[mode](*s))["madds"]   # noqa: E731
        assert all(same_order(count, formula(th), shape) for shape in SIZES), mode


# -------------------------------------------------------------- parts 1c, 1f


@pytest.mark.parametrize("shape", SIZES, ids=str)
def test_chunked_memory_of_1c_and_1f(shape):
    (chunk,) = found(r"bounds the tangents by (\$[^$]+?\$\s*(?:`chunk_size`\s+)?)numbers",
                     source("1c_forward_mode"), 1)          # '$(d_1+d_2)\,c$' or '$d_1+d_2$`chunk_size`'
    tex = chunk.strip().replace("`chunk_size`", "").strip().strip("$")
    assert_chunked_memory(formula(tex if "`" not in chunk and tex.rstrip().endswith("c") else tex + " c"), shape)
    (held,) = found(r"holding\s+\$([^$]+?)\$ numbers instead of two", source("1f_timing"), 1)
    assert_chunked_memory(formula(held), shape)


@pytest.mark.parametrize("d", [8000, 16000])
def test_ratio_of_1f(d):
    """'about d/4 times as many multiply-adds': to 0.1% at part 1f's size and above."""
    (ratio,) = found(r"Part 1e counts about \$([^$]+?)\$ times as many multiply-adds",
                     source("1f_timing"), 1)
    madds = {m: totals(STEPS[m](d, d, d))["madds"] for m in STEPS}
    assert madds["forward"] / madds["reverse"] == pytest.approx(formula(ratio)(d=d), rel=1e-3)


# -------------------------------------------------------------- the reader itself


def test_formula_reads_the_report_notation():
    s = {"d0": 2, "d1": 3, "d2": 5, "d": 7, "c": 11}
    cases = {"d_0d_1d_2": 30, "2 d_1 (d_0 + d_2)": 42, "2d_1(d_0 + d_2)": 42, "d^2(d_0 - 1)": 49,
             r"(d_1 + d_2)\,d_0": 16, r"(d_1+d_2)\cdot c": 88, "d/4": 1.75, "d_2 - 1": 4,
             r"\textstyle 3 d_1 + d_{0}": 11}
    for tex, value in cases.items():
        assert formula(tex)(**s) == value, tex
    with pytest.raises(ValueError, match="cannot read"):
        formula(r"\log d_0")


def test_a_changed_formula_fails():
    """The checks above fail on a formula one typo away (d_1 for d_2)."""
    typo = formula("d_0 d_1 d_2 + d_0 d_2 + d_0 d_1 + d_1 d_1")
    assert typo(**sizes(2, 3, 5)) != totals(forward_steps(2, 3, 5))["madds"]
    assert not same_order(lambda *s: totals(forward_steps(*s))["madds"], formula("d_1 (d_0 + d_2)"),
                          (2, 3, 5))

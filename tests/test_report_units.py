"""Fast checks of the report's parts that need no kernel and no LaTeX: the
page labels and the Gradescope page map, the answer cell's Markdown, the
live-source listings and their LaTeX, and the saturation table's mpmath
reference.  The
merge itself is tested on executed notebooks in test_render_stage.py."""

import importlib.util
import inspect
import json

import nbformat
import numpy as np
import pytest

import helpers
from helpers import f_and_grad_reverse, make_problem
from helpers.listing import Listing
from reportbuild.render import merge as merge_mod
from reportbuild.render.pages import PAGES_FILE, gradescope_line, page_map, read_pages, write_pages
from reportbuild.render.exporters import read_labels
from helpers.saturation import mp_gradient, saturation_table

# --- labels and the page map ----------------------------------------------

# As hyperref writes them: {number}{page}{title}{anchor}{}; plus lines that are not labels.
AUX = r"""\relax
\providecommand\hyper@newdestlabel[2]{}
\@writefile{toc}{\contentsline {section}{Answers at a glance}{2}{section*.1}\protected@file@percent }
\newlabel{report-1a}{{}{4}{}{section*.2}{}}
\newlabel{report-1b}{{}{6}{Part 1b}{section*.3}{}}
\newlabel{eq:one}{{3}{5}}
\newlabel{report-reproducibility}{{}{11}{}{section*.4}{}}
\gdef \@abspage@last{12}
"""


def test_read_labels_takes_the_page_field_of_each_newlabel():
    assert read_labels(AUX) == {"report-1a": 4, "report-1b": 6, "eq:one": 5, "report-reproducibility": 11}
    assert read_labels("\\relax\n") == {}


def test_page_map_runs_each_part_to_the_page_before_the_next():
    labels = {"report-1a": 4, "report-1b": 6, "report-2a": 7, "report-reproducibility": 10}
    pages = page_map(labels, ["1a", "1b", "2a"])
    assert pages == {"1a": [4, 5], "1b": [6], "2a": [7, 8, 9]}    # the last part: up to Reproducibility
    assert list(pages) == ["1a", "1b", "2a"]                      # report order, no Reproducibility
    # From a real .aux text: the labels parsed above feed the map.
    assert page_map(read_labels(AUX), ["1a", "1b"]) == {"1a": [4, 5], "1b": list(range(6, 11))}


@pytest.mark.parametrize("drop", ["report-1b", "report-reproducibility"])
def test_page_map_names_a_missing_label(drop):
    labels = {"report-1a": 4, "report-1b": 6, "report-reproducibility": 9}
    del labels[drop]
    with pytest.raises(ValueError, match=drop):
        page_map(labels, ["1a", "1b"])


def test_gradescope_line_gives_single_pages_and_ranges():
    pages = {"1a": [4, 5], "1b": [6], "2a": [7, 8, 9]}
    assert gradescope_line(pages) == "Gradescope pages: 1a 4-5, 1b 6, 2a 7-9"


def test_pages_file_round_trip(tmp_path):
    assert read_pages(tmp_path) is None                           # no PDF built yet
    pages = {"1a": [4, 5], "1b": [6]}
    write_pages(tmp_path, pages)
    assert json.loads((tmp_path / PAGES_FILE).read_text()) == pages
    assert read_pages(tmp_path) == pages
    (tmp_path / PAGES_FILE).write_text("{not json")
    assert read_pages(tmp_path) is None


# --- the answer cell ---------------------------------------------------------

def test_answer_markdown_joins_markdown_outputs_only():
    nb = nbformat.v4.new_notebook()
    outs = [nbformat.v4.new_output("stream", name="stdout", text="ignored\n"),
            nbformat.v4.new_output("display_data", data={"text/markdown": "One. "}),
            nbformat.v4.new_output("display_data", data={"text/plain": "plain only"}),
            nbformat.v4.new_output("display_data", data={"text/markdown": "Two."})]
    nb.cells = [nbformat.v4.new_code_cell("x", metadata={"tags": ["answer"]}, outputs=outs)]
    assert merge_mod.answer_markdown(nb) == "One.\n\nTwo."
    nb.cells[0].metadata = {}
    assert merge_mod.answer_markdown(nb) is None


# --- listings ------------------------------------------------------------------

def test_listing_is_the_live_source():
    listing = Listing(helpers.heron_sqrt)
    lines, first = inspect.getsourcelines(helpers.heron_sqrt)
    assert repr(listing) == listing.source == inspect.getsource(helpers.heron_sqrt)
    assert listing.source.startswith("def heron_sqrt(")
    assert listing.where == f"helpers/heron.py, lines {first}-{first + len(lines) - 1}"
    latex = listing._repr_latex_()
    assert "\\begin{Verbatim}" in latex and "\\end{tcolorbox}" in latex and "\\PY{k}{def}" in latex
    html = listing._repr_html_()
    assert 'class="highlight"' in html and "helpers/heron.py" in html


def long_function(folder):
    """A function of 101 lines, longer than a page, from a module written in ``folder``."""
    path = folder / "long_listing.py"
    path.write_text("def long_function():\n" + "".join(f"    x{k} = {k}\n" for k in range(100)))
    spec = importlib.util.spec_from_file_location("long_listing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.long_function


def test_a_listing_that_fits_on_a_page_is_kept_on_one(tmp_path):
    short = Listing(helpers.heron_sqrt)._repr_latex_()
    lines = len(inspect.getsource(helpers.heron_sqrt).splitlines())
    # The header line and the box's padding, then 0.8 \baselineskip a line of \footnotesize code.
    assert short.startswith(f"\\Needspace{{{2 + 0.8 * lines:.1f}\\baselineskip}}\n\\par\\noindent")
    latex = Listing(long_function(tmp_path))._repr_latex_()
    assert "\\Needspace" not in latex and latex.startswith("\\par\\noindent")
    assert "\\begin{tcolorbox}[breakable" in latex          # it breaks across pages, as before


# --- saturation --------------------------------------------------------------

def test_mp_gradient_agrees_with_reverse_mode():
    A, B, x = make_problem(6, 5, 4, seed=1)
    value, grad = mp_gradient(x, A, B)
    ref_value, ref_grad = f_and_grad_reverse(x, A, B)
    assert grad.shape == (6,)
    assert abs(value - float(ref_value)) <= 1e-13 * abs(value)
    assert np.max(np.abs(grad - ref_grad)) <= 1e-13 * np.max(np.abs(grad))
    # The check can fail: a gradient off by one part in 1e10 does not pass it.
    assert np.max(np.abs(grad - ref_grad * (1 + 1e-10))) > 1e-13 * np.max(np.abs(grad))


def test_saturation_table_keeps_reverse_mode_digits():
    rows = saturation_table({"reverse": f_and_grad_reverse}, [1, 2000])
    assert [r["scale of x"] for r in rows] == [1, 2000]
    assert rows[1]["largest |t|"] > 100 * rows[0]["largest |t|"]   # the second row saturates
    for r in rows:
        assert r["reverse: digits"] >= 12, r
    # A gradient that is off by 1e-6 relative shows about six digits, not twelve.
    rows = saturation_table({"off": lambda x, A, B: (0.0, f_and_grad_reverse(x, A, B)[1] * (1 + 1e-6))}, [1])
    assert 5 < rows[0]["off: digits"] < 7

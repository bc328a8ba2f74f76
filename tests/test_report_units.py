"""Fast checks of the report's parts that need no kernel and no LaTeX: the
page labels and the Gradescope page map, the merge of executed notebooks,
the live-source listings and the saturation table's mpmath reference."""

import inspect
import json

import nbformat
import numpy as np
import pytest

import helpers
from helpers import f_and_grad_reverse, make_problem
from helpers.listing import Listing
from helpers.report import merge as merge_mod
from helpers.report.pages import PAGES_FILE, gradescope_line, page_map, read_pages, write_pages
from helpers.report.render import read_labels
from helpers.report.title import DEFAULTS, title_info
from helpers.saturation import mp_gradient, saturation_table

# --- labels and the page map ----------------------------------------------

# As hyperref writes them: {number}{page}{title}{anchor}{}; plus lines that are not labels.
AUX = r"""\relax
\providecommand\hyper@newdestlabel[2]{}
\@writefile{toc}{\contentsline {section}{Answers at a glance}{2}{section*.1}\protected@file@percent }
\newlabel{report-1a}{{}{4}{}{section*.2}{}}
\newlabel{report-1b}{{}{6}{Part 1b}{section*.3}{}}
\newlabel{report-appendix}{{}{7}{}{section*.4}{}}
\newlabel{eq:one}{{3}{5}}
\newlabel{report-reproducibility}{{}{11}{}{section*.5}{}}
\newlabel{report-end}{{}{12}{}{page.12}{}}
\gdef \@abspage@last{12}
"""


def test_read_labels_takes_the_page_field_of_each_newlabel():
    assert read_labels(AUX) == {"report-1a": 4, "report-1b": 6, "report-appendix": 7, "eq:one": 5,
                                "report-reproducibility": 11, "report-end": 12}
    assert read_labels("\\relax\n") == {}


def test_page_map_runs_each_section_to_the_page_before_the_next():
    labels = {"report-1a": 4, "report-1b": 6, "report-2a": 7, "report-appendix": 8,
              "report-reproducibility": 10, "report-end": 10}
    pages = page_map(labels, ["1a", "1b", "2a"])
    assert pages == {"1a": [4, 5], "1b": [6], "2a": [7], "appendix": [8, 9]}
    assert list(pages) == ["1a", "1b", "2a", "appendix"]          # report order, no Reproducibility
    # From a real .aux text: the labels parsed above feed the map.
    assert page_map(read_labels(AUX), ["1a", "1b"]) == {"1a": [4, 5], "1b": [6], "appendix": list(range(7, 11))}


@pytest.mark.parametrize("drop", ["report-1b", "report-appendix", "report-reproducibility", "report-end"])
def test_page_map_names_a_missing_label(drop):
    labels = {"report-1a": 4, "report-1b": 6, "report-appendix": 7, "report-reproducibility": 9, "report-end": 9}
    del labels[drop]
    with pytest.raises(ValueError, match=drop):
        page_map(labels, ["1a", "1b"])


def test_gradescope_line_gives_single_pages_and_ranges():
    pages = {"1a": [4, 5], "1b": [6], "2a": [7, 8, 9], "appendix": [10]}
    assert gradescope_line(pages) == "Gradescope pages: 1a 4-5, 1b 6, 2a 7-9, appendix 10"


def test_pages_file_round_trip(tmp_path):
    assert read_pages(tmp_path) is None                           # no PDF built yet
    pages = {"1a": [4, 5], "appendix": [6]}
    write_pages(tmp_path, pages)
    assert json.loads((tmp_path / PAGES_FILE).read_text()) == pages
    assert read_pages(tmp_path) == pages
    (tmp_path / PAGES_FILE).write_text("{not json")
    assert read_pages(tmp_path) is None


# --- merge -----------------------------------------------------------------

ANSWER_OUTPUT = {"text/markdown": "The answer is **42**.", "text/plain": "<IPython.core.display.Markdown object>"}


def executed_notebook(path, heading, params, cells, *, ran_with=None, answer=None):
    """Write an executed-looking notebook: the heading with a second
    paragraph, the parameters cell, papermill's injected cell (when
    ``ran_with``), the answer cell (when ``answer``), then ``cells``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {heading}\n\nA second paragraph about {heading[5:7]}."),
                nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]})]
    if ran_with:
        injected = "\n".join(f"{k} = {v!r}" for k, v in ran_with.items())
        nb.cells.append(nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]}))
    if answer:
        out = nbformat.v4.new_output("display_data", data=answer)
        nb.cells.append(nbformat.v4.new_code_cell("display(Markdown(answer_text))", metadata={"tags": ["answer"]},
                                                  outputs=[out]))
    for source, text in cells:
        nb.cells.append(nbformat.v4.new_code_cell(
            source, outputs=[nbformat.v4.new_output("stream", name="stdout", text=text)]))
    nb.metadata["papermill"] = {"parameters": dict(ran_with or {}), "end_time": "2026-01-02T03:04:05+00:00"}
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def merged(tmp_path):
    first = executed_notebook(tmp_path / "1a_first.ipynb", "Part 1a: First",
                              "d0: int = 5  # input size\nseed: int = 0  # random seed",
                              [("print('d0 is', d0)", "d0 is 7\n")], ran_with={"d0": 7}, answer=ANSWER_OUTPUT)
    second = executed_notebook(tmp_path / "2a_second.ipynb", "Part 2a: Second", "n_iter: int = 3  # steps",
                               [("print(n_iter)", "3\n")])
    info = title_info(dict(DEFAULTS), "Ada")
    nb, problems = merge_mod.merge([first, second], info)
    return nb, problems, info


def _is_break(cell, name):
    return cell.cell_type == "raw" and cell.source == f"\\clearpage\\phantomsection\\label{{report-{name}}}"


def test_merge_puts_label_heading_answer_then_the_work(merged):
    nb, _, _ = merged
    c = nb.cells
    assert _is_break(c[0], "1a")
    assert (c[1].cell_type, c[1].source) == ("markdown", "# Part 1a: First")
    assert (c[2].cell_type, c[2].source, c[2].metadata.get("tags")) == ("markdown", "The answer is **42**.", ["answer"])
    assert (c[3].cell_type, c[3].source) == ("markdown", "A second paragraph about 1a.")
    assert (c[4].cell_type, c[4].source) == ("code", "print('d0 is', d0)")
    assert _is_break(c[5], "2a")
    assert (c[6].cell_type, c[6].source) == ("markdown", "# Part 2a: Second")
    assert "answer" not in c[7].metadata.get("tags", []) and c[7].source == "A second paragraph about 2a."
    assert c[8].source == "print(n_iter)"
    assert _is_break(c[9], "appendix")
    assert c[10].source.startswith("# Appendix:")
    breaks = [k for k, cell in enumerate(c) if cell.cell_type == "raw"]
    assert [c[k].source.rsplit("{", 1)[1].rstrip("}") for k in breaks] == \
        ["report-1a", "report-2a", "report-appendix", "report-reproducibility"]
    assert breaks[-1] == len(c) - 2 and c[-1].source.startswith("# Reproducibility\n")
    assert len({cell.id for cell in c}) == len(c)                  # ids unique


def test_merge_drops_parameter_and_answer_code_cells(merged):
    nb, _, _ = merged
    tags = [t for cell in nb.cells for t in cell.metadata.get("tags", [])]
    assert "parameters" not in tags and "injected-parameters" not in tags
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert not any("d0: int = 5" in s or "d0 = 7" in s or "answer_text" in s for s in code)
    answers = [cell for cell in nb.cells if "answer" in cell.metadata.get("tags", [])]
    assert [(a.cell_type, a.source) for a in answers] == [("markdown", "The answer is **42**.")]


def test_merge_records_parts_and_the_reproducibility_table(merged):
    nb, _, info = merged
    rows = nb.metadata.report["parts"]
    assert rows == info["parts"]
    assert [(r["part"], r["heading"], r["label"], r["answer"]) for r in rows] == [
        ("1a", "Part 1a: First", "report-1a", "The answer is **42**."),
        ("2a", "Part 2a: Second", "report-2a", None)]
    assert rows[0]["computed"] == "2026-01-02 03:04 UTC"
    repro = nb.cells[-1].source
    assert "| 1a | **`d0=7`** (default `5`), `seed=0` | 2026-01-02 03:04 UTC |" in repro
    assert "| 2a | `n_iter=3` | 2026-01-02 03:04 UTC |" in repro
    assert "`d0=5`" not in repro and "(default `0`)" not in repro     # unchanged values shown once, plain


def test_merge_reports_a_part_without_an_answer(merged):
    _, problems, _ = merged
    assert len(problems) == 1
    assert "2a_second.ipynb" in problems[0] and "no code cell tagged 'answer'" in problems[0]


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

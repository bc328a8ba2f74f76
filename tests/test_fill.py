"""Sentences in Markdown: ``{{name}}`` filled in from the values a run
recorded, checked again at render time; Markdown answer boxes, the appendix
of cells tagged ``beyond``, and code cells without output left out."""

import json

import nbformat
import pytest
from test_pipeline import make_notebook

from helpers.bounds import at_most
from helpers.claims import VALUE_MIME
from reportbuild import cli
from reportbuild.exit_status import FAILED, OK
from reportbuild.render import merge as merge_mod
from reportbuild.render.fill import UnfilledValue, fill
from reportbuild.render.title import load_config, title_info

CONFIG = {**load_config(), "date": "January 2, 2026"}


def recorded(name, text, check):
    """An output as ``helpers.claims.record`` publishes it: Markdown to see,
    the record in its metadata."""
    shown = f"`{{{{{name}}}}}` = {text}"
    return nbformat.v4.new_output("display_data", data={"text/markdown": shown, "text/plain": shown},
                                  metadata={VALUE_MIME: {"name": name, "text": text, "check": check}})


def executed(path, *cells):
    """An executed notebook: a '# Part 1a' heading and ``cells``
    (("md"|"code", source, tags, outputs))."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Part 1a: Filled\n\nThe task.")]
    for kind, source, tags, outputs in cells:
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(source, metadata={"tags": tags}))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags}, outputs=outputs))
    nbformat.write(nb, str(path))
    return path


BOUND = at_most(6.28)
CELLS = [
    ("code", "record('ulps', at_most(u))", [], [recorded("ulps", str(BOUND), BOUND.check),
                                                 recorded("word", "slower", {"kind": "text"})]),
    ("md", "**Pairs** differ by {{ulps}} units; forward mode is {{ word }}.\n\nMore: {{ulps}}.", ["answer"], []),
    ("code", "rng = make_rng()", [], []),
    ("code", "print('shown')", [], [nbformat.v4.new_output("stream", name="stdout", text="shown\n")]),
    ("md", "Prose with {{word}}.", [], []),
    ("md", "## 1a: A study beyond the assignment", ["beyond"], []),
    ("code", "print('extra')", ["beyond"], [nbformat.v4.new_output("stream", name="stdout", text="extra\n")]),
]


def test_references_are_filled_from_the_records():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=CELLS[0][3]),
                                         nbformat.v4.new_markdown_cell("at {{ulps}} and {{ word }}; {x} {{ }}")])
    fill(nb, "1a.ipynb")
    assert nb.cells[1].source == "at at most 6.3 and slower; {x} {{ }}"


@pytest.mark.parametrize("outputs, markdown, message", [
    ([], "uses {{missing}}", r"1a.ipynb: its Markdown refers to \{\{missing\}\}, which the run did not record"),
    ([recorded("a", "1", {"kind": "text"})] * 2, "{{a}}", r"recorded the value \{\{a\}\} twice"),
    ([recorded("a", "at most 6.3", dict(BOUND.check, value="6.4"))], "{{a}}", "fails its check"),
])
def test_an_unfillable_reference_is_refused_naming_it(outputs, markdown, message):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=outputs),
                                         nbformat.v4.new_markdown_cell(markdown)])
    with pytest.raises(UnfilledValue, match=message):
        fill(nb, "1a.ipynb")


def test_merge_boxes_the_markdown_answer_moves_beyond_cells_and_drops_silent_code(tmp_path):
    path = executed(tmp_path / "1a_filled.ipynb", *CELLS)
    info = title_info(CONFIG, "Ada")
    merged, problems = merge_mod.merge([path], info)
    assert problems == []
    row = info["parts"][0]
    assert row["answer"].startswith("**Pairs** differ by at most 6.3 units; forward mode is slower.")
    assert row["glance"] == "**Pairs** differ by at most 6.3 units; forward mode is slower."
    sources = [c.source for c in merged.cells]
    boxed = [c.source for c in merged.cells if "answer" in c.metadata.get("tags", [])]
    assert boxed == [row["answer"]]
    assert "rng = make_rng()" not in sources and "record('ulps', at_most(u))" not in sources
    assert "Prose with slower." in sources
    beyond = sources.index("\\clearpage\\phantomsection\\label{report-beyond}")
    repro = sources.index("\\clearpage\\phantomsection\\label{report-reproducibility}")
    assert beyond < sources.index("## 1a: A study beyond the assignment") < sources.index("print('extra')") < repro
    assert sources.index("print('shown')") < beyond
    assert merged.cells[beyond + 1].source.startswith("# Beyond the assignment")
    assert info["beyond"]["label"] == "report-beyond"
    assert row["claims"] == 1           # the bound; the words state nothing


def test_without_beyond_cells_there_is_no_appendix(tmp_path):
    path = executed(tmp_path / "1a_filled.ipynb", *CELLS[:5])
    info = title_info(CONFIG, "Ada")
    merged, _ = merge_mod.merge([path], info)
    assert info["beyond"] is None
    assert not any("report-beyond" in c.source for c in merged.cells)


RECORDING_CELL = ("from helpers.claims import record\nfrom helpers.bounds import at_most\n"
                  "record('biggest', at_most([d0 * 1.04, 1.0], digits=2))")


def reword(path, old, new):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            cell["source"] = text.replace(old, new)
    path.write_text(json.dumps(nb, indent=1))


def test_rewording_a_markdown_answer_renders_again_without_a_run_and_an_unknown_name_stops(
        tmp_path, capsys):
    """With real kernels: the recorded value fills the answer; rewording it
    runs no notebook; a reference to a value the run did not record stops
    the render, names it, and leaves the report as it was."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    path = make_notebook(nbs / "1a_words.ipynb", "Part 1a: Words", "d0: int = 5  # a size", RECORDING_CELL)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Every value is {{biggest}}.", metadata={"tags": ["answer"]}))
    nbformat.write(nb, str(path))
    out = tmp_path / "build"
    args = ["--notebooks", str(nbs), "--out", str(out), "--no-pdf"]
    assert cli.main(args) == OK
    assert "Every value is at most 5.2." in (out / "report.html").read_text()
    capsys.readouterr()

    reword(path, "Every value is", "No value exceeds the bound:")
    assert cli.main(args) == OK
    printed = capsys.readouterr().out
    assert "1a_words" in printed and "cached" in printed
    html = (out / "report.html").read_text()
    assert "No value exceeds the bound: at most 5.2." in html

    reword(path, "{{biggest}}", "{{largest}}")
    assert cli.main(args) == FAILED
    err = capsys.readouterr().err
    assert "1a_words.ipynb: its Markdown refers to {{largest}}, which the run did not record" in err
    assert "recorded: biggest" in err
    assert (out / "report.html").read_text() == html


PLANTED_CELL = ("from helpers.claims import record\nfrom helpers.bounds import compare\n"
                "reverse = [0.070, 0.072, 0.075]\n"
                "record('fwd_vs_rev', compare([forward_ms / 1e3 * k for k in (1.0, 1.02, 0.99)], reverse))")


def test_a_planted_timing_inversion_changes_the_words_and_the_build_stays_green(tmp_path, capsys):
    """With real kernels: forward mode planted slower, then faster than
    reverse mode (against the counts); both builds succeed, and the report's
    words follow the samples."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    path = make_notebook(nbs / "1f_planted.ipynb", "Part 1f: Planted", "forward_ms: float = 900.0  # planted time [0..]",
                         PLANTED_CELL)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Forward mode was {{fwd_vs_rev}} than reverse mode.",
                                                  metadata={"tags": ["answer"]}))
    nbformat.write(nb, str(path))
    out = tmp_path / "build"
    args = ["--notebooks", str(nbs), "--out", str(out), "--no-pdf"]
    assert cli.main(args) == OK
    assert "Forward mode was slower (13 times as long; from 11 to 13 over 3 rounds)" in (out / "report.html").read_text()
    assert cli.main([*args, "-p", "forward_ms", "50"]) == OK
    html = (out / "report.html").read_text()
    assert "Forward mode was faster (0.69 times as long; from 0.66 to 0.72 over 3 rounds)" in html
    assert "ClaimFailed" not in capsys.readouterr().err

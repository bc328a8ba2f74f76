"""helpers.claims.claim: a sentence of the report is returned only when its
data agree with it; a contradicted sentence stops the notebook and the build.
In a kernel each checked sentence shows once, as Markdown, its record in the
output's metadata."""

import subprocess
import sys

import nbformat
import numpy as np
import pytest
from test_fill import CONFIG
from test_pipeline import make_notebook

from helpers import claims
from helpers.bounds import at_most
from helpers.claims import CLAIM_MIME, VALUE_MIME, ClaimFailed, claim, record
from reportbuild import cli
from reportbuild.executed import count_claims, is_claim
from reportbuild.exit_status import FAILED
from reportbuild.render import merge as merge_mod
from reportbuild.render.fill import UnfilledValue, fill
from reportbuild.render.title import title_info
from reportbuild.run import worker


def test_a_true_claim_returns_its_sentence():
    three, four = 3, 4
    assert claim(three < four, "three is less than four") == "three is less than four"
    assert claim(np.float64(1e-16) < 1e-15, "tiny enough") == "tiny enough"
    assert claim(np.array([1.0, 2.0]).max() < 3, "0-d NumPy comparisons count") == "0-d NumPy comparisons count"


@pytest.mark.parametrize("condition", [False, np.bool_(False), 0, np.array(2.0) > 3])
def test_a_false_claim_raises_and_names_the_sentence(condition):
    with pytest.raises(ClaimFailed, match="contradict this sentence of the report: reverse mode is faster"):
        claim(condition, "reverse mode is faster")


def test_claim_failed_is_an_assertion_error():
    """Code that catches failed checks as AssertionError also catches claims."""
    assert issubclass(ClaimFailed, AssertionError)


def test_inverting_a_comparison_is_caught():
    """The claim of part 1f, with the ratio the right way up and inverted."""
    forward_s, reverse_s = 14.3, 0.074
    ratio = forward_s / reverse_s
    assert claim(ratio > 1, f"Reverse mode is {ratio:.0f}x faster") == "Reverse mode is 193x faster"
    with pytest.raises(ClaimFailed):
        claim(reverse_s / forward_s > 1, "Reverse mode is 0x faster")


@pytest.mark.parametrize("condition, text, message", [
    (np.array([True, True]), "all of them", r"single bool, got an array of shape \(2,\) for: all of them"),
    (True, "", "non-empty string"),
    (True, "   ", "non-empty string"),
    (True, None, "non-empty string"),
])
def test_bad_arguments_are_refused(condition, text, message):
    with pytest.raises(TypeError, match=message):
        claim(condition, text)


@pytest.fixture
def kernel_displays(monkeypatch):
    """[(data, metadata, display_id, update)]: what claims publish, as if in a kernel."""
    from IPython import display as ipy_display
    from IPython.core.interactiveshell import InteractiveShell

    shown = []
    monkeypatch.setattr(InteractiveShell, "initialized", classmethod(lambda cls: True))
    monkeypatch.setattr(ipy_display, "display", lambda obj, raw=False, metadata=None, display_id=None, update=False:
                        shown.append((obj, metadata, display_id, update)))
    return shown


def test_a_checked_claim_shows_its_sentence_once_as_markdown_in_a_kernel(kernel_displays):
    """Inside IPython each checked claim is published as one output of its
    cell: its sentence as Markdown, the claim (what the report counts) in
    its metadata, under an id that a record can replace; a failed claim
    publishes nothing."""
    phrase = claim(True, "it holds")
    with pytest.raises(ClaimFailed):
        claim(False, "it does not hold")
    ((data, metadata, display_id, update),) = kernel_displays
    assert data == {"text/markdown": "checked: it holds", "text/plain": "checked: it holds"}
    assert metadata == {CLAIM_MIME: {"text": "it holds"}}
    assert display_id and display_id == phrase.display_id and update is False
    assert claim(True, "another").display_id != display_id


def test_recording_a_claim_replaces_its_output_and_other_records_add_one(kernel_displays):
    """The first record of a claim updates the claim's own output (one output
    in all); a second record of it, and a record of a bound, show their own."""
    phrase = claim(True, "the diagonal is positive")
    record("diag", phrase)
    record("diag_again", phrase)
    record("bound", at_most(6.28))
    (_, _, shown_id, _), updated, again, bound = kernel_displays
    assert updated == ({"text/markdown": "`{{diag}}` = the diagonal is positive",
                        "text/plain": "`{{diag}}` = the diagonal is positive"},
                       {VALUE_MIME: {"name": "diag", "text": "the diagonal is positive",
                                     "check": {"kind": "claim", "holds": True}}}, shown_id, True)
    assert again[1][VALUE_MIME]["name"] == "diag_again" and again[2:] == (None, False)
    assert bound[0]["text/markdown"] == "`{{bound}}` = at most 6.3" and bound[2:] == (None, False)
    assert bound[1] == {VALUE_MIME: {"name": "bound", "text": "at most 6.3",
                                     "check": {"kind": "at_most", "value": "6.28", "bound": "6.3"}}}
    assert not any(CLAIM_MIME in data or VALUE_MIME in data for data, *_ in kernel_displays)


def test_outside_a_kernel_nothing_is_published(capsys):
    claims._publish({"text/plain": "plain Python"}, {})
    assert capsys.readouterr().out == ""


def test_plain_python_without_ipython_publishes_nothing():
    """helpers/claims.py loaded alone (as the report tool loads it), any import of IPython failing."""
    code = ("import importlib.util, sys\nsys.modules['IPython'] = None\n"
            f"spec = importlib.util.spec_from_file_location('claims', {claims.__file__!r})\n"
            "claims = importlib.util.module_from_spec(spec); spec.loader.exec_module(claims)\n"
            "claims.record('x', claims.claim(True, 'it holds')); claims.record('n', 3)\nprint('done')")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (ran.stdout, ran.stderr) == ("done\n", "")


KERNEL_CELLS = [
    "from helpers.bounds import at_most\nfrom helpers.claims import claim, record",
    "record('big', claim(d0 > 1, f'$d_0 = {d0}$ exceeds 1'))",
    "record('bound', at_most(d0 * 1.04, digits=2))",
    "alone = claim(d0 % 2 == 1, 'd0 is odd')",
    "later = claim(d0 < 9, 'd0 is below 9')",
    "record('small', later)",
]


@pytest.fixture(scope="module")
def kernel_run(tmp_path_factory):
    """The executed copy of a tiny notebook run by the build's runner (a real
    kernel, through papermill and nbclient), its cells KERNEL_CELLS and an
    answer that refers to the three records."""
    folder = tmp_path_factory.mktemp("kernel")
    src = make_notebook(folder / "1a_claims.ipynb", "Part 1a: Claims", "d0: int = 3  # a size", *KERNEL_CELLS)
    nb = nbformat.read(str(src), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("So {{big}}, {{small}}; each value is {{bound}}.",
                                                  metadata={"tags": ["answer"]}))
    nbformat.write(nb, str(src))
    dst = folder / "out" / src.name
    dst.parent.mkdir()
    assert worker._papermill(src, dst, {"d0": 5}, folder / "failed.ipynb") is None
    return dst


def test_in_a_kernel_each_checked_sentence_leaves_one_markdown_output_its_record_in_metadata(kernel_run):
    nb = nbformat.read(str(kernel_run), as_version=4)
    outputs = {c.source: c.outputs for c in nb.cells if c.cell_type == "code"}
    only = lambda source: [(dict(out.data), dict(out.metadata)) for out in outputs[source]]
    value = lambda name, text, check: {VALUE_MIME: {"name": name, "text": text, "check": check}}
    markdown = lambda text: {"text/markdown": text, "text/plain": text}
    assert only(KERNEL_CELLS[1]) == [(markdown("`{{big}}` = $d_0 = 5$ exceeds 1"),
                                      value("big", "$d_0 = 5$ exceeds 1", {"kind": "claim", "holds": True}))]
    assert only(KERNEL_CELLS[2]) == [(markdown("`{{bound}}` = at most 5.2"),
                                      value("bound", "at most 5.2", {"kind": "at_most", "value": "5.2",
                                                                     "bound": "5.2"}))]
    assert only(KERNEL_CELLS[3]) == [(markdown("checked: d0 is odd"), {CLAIM_MIME: {"text": "d0 is odd"}})]
    # a claim recorded in a later cell: its own cell's output now shows the record; the later cell shows nothing
    assert only(KERNEL_CELLS[4]) == [(markdown("`{{small}}` = d0 is below 9"),
                                      value("small", "d0 is below 9", {"kind": "claim", "holds": True}))]
    assert outputs[KERNEL_CELLS[5]] == []
    assert [is_claim(out) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs] == [True] * 4
    assert count_claims(nb) == 4


def test_the_render_fills_and_checks_again_what_a_kernel_recorded(kernel_run):
    info = title_info(CONFIG, "Ada")
    merged, problems = merge_mod.merge([kernel_run], info)
    assert problems == []
    (row,) = info["parts"]
    assert row["answer"] == "So $d_0 = 5$ exceeds 1, d0 is below 9; each value is at most 5.2."
    assert row["claims"] == 4
    assert not [out for cell in merged.cells if cell.cell_type == "code" for out in cell.outputs if is_claim(out)]
    text = nbformat.writes(merged)
    assert "checked: " not in text and "{{" not in text

    nb = nbformat.read(str(kernel_run), as_version=4)
    (out,) = next(c for c in nb.cells if c.source == KERNEL_CELLS[2]).outputs
    out.metadata[VALUE_MIME]["check"]["value"] = "5.3"          # above its stated bound
    with pytest.raises(UnfilledValue, match=r"\{\{bound\}\} = 'at most 5.2' fails its check"):
        fill(nb, kernel_run.name)


def test_a_contradicted_claim_stops_the_build(tmp_path, monkeypatch, capsys, fast_builds):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    make_notebook(nbs / "1a_claims.ipynb", "Part 1a: Claims", "n: int = 3  # a size",
                  "from helpers import claim\ntext = claim(n > 5, f'n = {n} is larger than 5')")
    out = tmp_path / "build"
    assert cli.main(["--notebooks", str(nbs), "--out", str(out)]) == FAILED
    err = capsys.readouterr().err
    assert "ClaimFailed" in err and "n = 3 is larger than 5" in err
    assert not (out / "report.pdf").exists() and not (out / "report.html").exists()

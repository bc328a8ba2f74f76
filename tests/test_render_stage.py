"""The render stage on two small executed notebooks (tests/fixtures, as
papermill leaves them in build/notebooks): the merge and its output
filter, the count of checked claims, table fitting, the render key and the
HTML report.  No kernel and no LaTeX run (the PDF's page map is checked
against the full report in test_report_layout.py)."""

import argparse
import contextlib
import io
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from helpers.claims import CLAIM_MIME
from reportbuild import outfolder
from reportbuild.exit_status import OK
from reportbuild.keys import render_key
from reportbuild.render import merge as merge_mod
from reportbuild.render import stage as render_stage
from reportbuild.render.exporters import fit_tables
from reportbuild.render.title import load_config, title_info

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NAMES = ["1a_small.ipynb", "2a_small.ipynb"]
ANSWER_1A = "The Jacobian $J$ has **7 columns** (answer box)."
FIG = "<Figure size 640x480 with 1 Axes>"
# A fixed date keeps the title data, and so the render key, the same from day to day.
CONFIG = {**load_config(), "date": "January 2, 2026"}


def fixtures(folder=None):
    """The fixture notebooks in report order; copied into ``folder`` when given
    (for every test that writes)."""
    if folder is None:
        return [FIXTURES / n for n in NAMES]
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(FIXTURES / n, folder / n)) for n in NAMES]


@pytest.fixture(scope="module")
def merged():
    """(merged notebook, problems, info) of both fixtures; tests only read it."""
    info = title_info(CONFIG, "Ada")
    nb, problems = merge_mod.merge(fixtures(), info)
    return nb, problems, info


def part_cells(nb):
    """The merged cells before the Reproducibility section's page break."""
    end = next(k for k, c in enumerate(nb.cells) if c.cell_type == "raw" and "report-reproducibility" in c.source)
    return nb.cells[:end]


# --- merge -----------------------------------------------------------------

def test_each_part_is_label_heading_answer_then_the_work(merged):
    nb, _, _ = merged
    got = [(c.cell_type, c.source.splitlines()[0], c.metadata.get("tags", [])) for c in part_cells(nb)]
    assert got == [
        ("raw", "\\clearpage\\phantomsection\\label{report-1a}", []),
        ("markdown", "# Part 1a: Small Jacobians", []),
        ("markdown", ANSWER_1A, ["answer"]),
        ("markdown", "The stage Jacobians of $f(x) = \\sigma(A x)$ at size `d0`.", []),
        ("code", "print('d0 is', d0)", []),     # 'import sys' printed nothing: dropped
        ("code", "fig = plot(d0)", []),
        ("code", "np.full(2, float(d0))", []),
        ("markdown", "## Check", []),
        ("raw", "\\clearpage\\phantomsection\\label{report-2a}", []),
        ("markdown", "# Part 2a: Small Heron", []),     # no answer box: 2a has no answer cell
        ("markdown", "Heron's iteration for $\\sqrt{x}$.", []),
        ("code", "print('n_iter is', n_iter)", []),
    ]
    assert nb.cells[0].metadata == {"raw_mimetype": "text/latex"}     # kept by the PDF export only


def test_parameter_injected_and_answer_code_cells_are_dropped(merged):
    nb, _, _ = merged
    code = [c for c in part_cells(nb) if c.cell_type == "code"]
    dropped = re.compile(r"d0: int|n_iter: int|# Parameters|Markdown\(answer\)")
    assert not [c.source for c in code if dropped.search(c.source)]
    # Editor state (the fixture's scrolled=True) goes: the templates read tags only.
    assert all(set(c.metadata) <= {"tags"} for c in code)


def summary(out):
    """An output as (type, stream name or mimetypes, its text)."""
    if out.output_type == "stream":
        return ("stream", out.name, out.text)
    return (out.output_type, sorted(out.data), out.data.get("text/plain"))


PNG = ["image/png", "text/plain"]


@pytest.mark.parametrize("source, kept", [
    ("print('d0 is', d0)", [("stream", "stdout", "d0 is 7\n")]),      # stderr goes, stdout stays
    ("fig = plot(d0)", [("display_data", PNG, FIG)]),                 # a figure stays
    ("np.full(2, float(d0))", [("execute_result", ["text/plain"], "array([7., 7.])")]),
], ids=["stderr", "figure", "value"])
def test_only_stderr_leaves_the_outputs(merged, source, kept):
    nb, _, _ = merged
    (cell,) = [c for c in part_cells(nb) if c.cell_type == "code" and c.source.startswith(source)]
    assert [summary(o) for o in cell.outputs] == kept


def test_parts_and_answers_go_to_the_report_metadata(merged):
    nb, _, info = merged
    rows = nb.metadata.report["parts"]
    assert rows == info["parts"]
    assert [(r["part"], r["heading"], r["anchor"], r["label"], r["answer"], r["computed"]) for r in rows] == [
        ("1a", "Part 1a: Small Jacobians", "Part-1a:-Small-Jacobians", "report-1a", ANSWER_1A,
         "2026-01-02 03:04 UTC"),
        ("2a", "Part 2a: Small Heron", "Part-2a:-Small-Heron", "report-2a", None,
         "2026-01-02 03:06 UTC")]                  # papermill's +02:00 end time, in UTC
    assert rows[0]["values"] == [{"name": "d0", "value": "7", "default": "5", "changed": True},
                                 {"name": "seed", "value": "0", "default": "0", "changed": False}]
    assert [r["claims"] for r in rows] == [0, 0]
    assert nb.metadata.report["reproducibility"]["label"] == "report-reproducibility"


def test_reproducibility_rows(merged):
    nb, _, _ = merged
    repro = nb.cells[-1].source
    assert repro.startswith("# Reproducibility\n")
    assert "No statement of this report was checked against its data in this run" in repro
    assert [ln for ln in repro.splitlines() if ln.startswith("|")] == [
        "| Part | Parameters | Checked | Computed |",
        "|:-|:------------|-:|:-----|",
        "| 1a | **`d0=7`** (default `5`), `seed=0` | 0 | 2026-01-02 03:04 UTC |",
        "| 2a | `n_iter=3` | 0 | 2026-01-02 03:06 UTC |"]


def test_a_part_without_an_answer_is_reported(merged):
    _, problems, _ = merged
    assert problems == ["2a_small.ipynb has no Markdown cell tagged 'answer'"]


# --- checked claims -----------------------------------------------------------

CLAIMS = {"print('d0 is', d0)": ["d0 is at least 5.", "d0 is odd."],
          "display(Markdown(answer))": ["The Jacobian has at most 7 columns."]}


def claim_output(text):
    """The output ``helpers.claims.claim(True, text)`` leaves in a kernel when
    it is not recorded: Markdown to see, the claim in its metadata."""
    shown = f"checked: {text}"
    return nbformat.v4.new_output("display_data", data={"text/markdown": shown, "text/plain": shown},
                                  metadata={CLAIM_MIME: {"text": text}})


@pytest.fixture(scope="module")
def claimed(tmp_path_factory):
    """(merged notebook, info) of the fixtures, 1a with CLAIMS checked in two
    of its cells: a cell of the work and the answer cell, ahead of its Markdown."""
    executed = fixtures(tmp_path_factory.mktemp("claims"))
    nb = nbformat.read(str(executed[0]), as_version=4)
    for cell in nb.cells:
        claims = [claim_output(text) for text in CLAIMS.get(cell.source.splitlines()[0], [])]
        if cell.cell_type == "code" and "answer" in cell.metadata.get("tags", []):
            cell.outputs[:0] = claims
        elif cell.cell_type == "code":
            cell.outputs += claims
    nbformat.write(nb, str(executed[0]))
    info = title_info(CONFIG, "Ada")
    merged, _ = merge_mod.merge(executed, info)
    return merged, info


def test_claims_are_counted_per_part_and_in_all(claimed):
    nb, info = claimed
    assert [r["claims"] for r in info["parts"]] == [3, 0]
    repro = nb.cells[-1].source
    assert "This run checked 3 statements against the numbers it computed" in repro
    assert "| 1a | **`d0=7`** (default `5`), `seed=0` | 3 | 2026-01-02 03:04 UTC |" in repro.splitlines()


def test_claims_leave_the_report_and_the_other_outputs_stay(claimed):
    nb, _ = claimed
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if CLAIM_MIME in out.get("metadata", {})]
    assert "checked: " not in nbformat.writes(nb) and CLAIM_MIME not in nbformat.writes(nb)
    (cell,) = [c for c in part_cells(nb) if c.cell_type == "code" and c.source.startswith("print('d0 is'")]
    assert [summary(o) for o in cell.outputs] == [("stream", "stdout", "d0 is 7\n")]


def test_a_claim_in_the_answer_cell_stays_out_of_the_answer_box(claimed):
    nb, info = claimed
    assert info["parts"][0]["answer"] == ANSWER_1A
    boxes = [c.source for c in part_cells(nb) if "answer" in c.metadata.get("tags", [])]
    assert boxes == [ANSWER_1A]


# --- LaTeX tables -------------------------------------------------------------

PANDOC_2 = ("\\begin{longtable}[]{@{}lr@{}}\n\\toprule\nPart & Pages \\\\\n\\midrule\n\\endhead\n"
            "1a & 3 \\\\\n\\bottomrule\n\\end{longtable}")
PANDOC_3 = ("\\begin{longtable}[]{@{}lr@{}}\n\\toprule\\noalign{}\nPart & Pages \\\\\n\\midrule\\noalign{}\n"
            "\\endhead\n\\bottomrule\\noalign{}\n\\endlastfoot\n1a & 3 \\\\\n\\end{longtable}")


@pytest.mark.parametrize("table, rows", [
    (PANDOC_2, "\\toprule\nPart & Pages \\\\\n\\midrule\n1a & 3 \\\\\n"),
    (PANDOC_3, "\\toprule\\noalign{}\nPart & Pages \\\\\n\\midrule\\noalign{}\n1a & 3 \\\\\n"),
], ids=["pandoc2", "pandoc3"])
def test_fit_tables_makes_longtables_scaled_tabulars(table, rows):
    latex = fit_tables(f"Before.\n\n{table}\n\nAfter.")
    assert latex == ("Before.\n\n\\begin{center}\\adjustbox{max width=\\linewidth}{%\n"
                     f"\\begin{{tabular}}{{@{{}}lr@{{}}}}\n{rows}\\bottomrule\n\\end{{tabular}}}}\\end{{center}}"
                     "\n\nAfter.")


def test_fit_tables_leaves_sized_columns_and_text_alone():
    sized = ("\\begin{longtable}[]{@{}\n"
             ">{\\raggedright\\arraybackslash}p{(\\columnwidth - 2\\tabcolsep) * \\real{0.5}}@{}}\n"
             "\\toprule\na \\\\\n\\endhead\n\\bottomrule\n\\end{longtable}")
    assert fit_tables(sized) == sized
    assert fit_tables("no table here") == "no table here"


# --- the render key ----------------------------------------------------------

def edit_notebook(path):
    """Give notebook ``path`` a later papermill end time: a rerun with the same outputs."""
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.papermill.end_time = "2026-02-03T00:00:00+00:00"
    nbformat.write(nb, str(path))


@pytest.mark.parametrize("change", ["notebook", "title", "no_pdf", "template"])
def test_render_key_follows_each_input(tmp_path, checkout, change):
    executed, info = fixtures(tmp_path / "notebooks"), title_info(CONFIG, "Ada")
    key = render_key(executed, info, True)
    no_pdf = True
    if change == "notebook":
        edit_notebook(executed[1])
    elif change == "title":
        info = title_info(CONFIG, "Grace")
    elif change == "no_pdf":
        no_pdf = False
    else:
        template = checkout / "reportbuild" / "render" / "templates" / "homework.tex.j2"
        template.write_text(template.read_text() + "% a comment\n")
    assert render_key(executed, info, no_pdf) != key


def test_render_key_ignores_where_and_when_the_files_are(tmp_path):
    key = render_key(fixtures(tmp_path / "a"), title_info(CONFIG, "Ada"), True)
    moved = fixtures(tmp_path / "b")
    os.utime(moved[0], (0, 0))
    info = dict(reversed(title_info(CONFIG, "Ada").items()))     # same data, other order
    assert render_key(moved, info, True) == key


# --- render_report ------------------------------------------------------------

def render(out, no_pdf):
    """What a build does after its run stage, with the fixtures as its
    executed notebooks: ``render_report`` into a staging folder, then
    ``publish``; (status, stdout, stderr)."""
    args = argparse.Namespace(out=str(out), notebooks=str(FIXTURES), name="Ada Lovelace", no_pdf=no_pdf)
    staging = outfolder.new_staging(out)
    shutil.copytree(FIXTURES, staging / "notebooks")
    executed = sorted((staging / "notebooks").glob("*.ipynb"))
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status, _ = render_stage.render_report(args, out, staging, executed, CONFIG)
    if status != render_stage.UP_TO_DATE:
        outfolder.publish(out, staging)
    outfolder.discard(staging)
    return status, stdout.getvalue(), stderr.getvalue()


REPORT_FILES = ("report.html", "report.ipynb", outfolder.MANIFEST)


@pytest.fixture(scope="module")
def html_build(tmp_path_factory):
    """The fixtures rendered to HTML only, then rendered again unchanged."""
    out = tmp_path_factory.mktemp("html") / "build"
    out.mkdir()
    first = render(out, no_pdf=True)
    stamps = {n: (out / n).stat() for n in REPORT_FILES}
    second = render(out, no_pdf=True)
    return {"out": out, "first": first, "second": second, "stamps": stamps}


def test_html_report_shows_the_parts_and_answers(html_build):
    out = html_build["out"]
    status, stdout, stderr = html_build["first"]
    assert status == OK and "Rendering the HTML" in stdout
    assert "2a_small.ipynb has no Markdown cell tagged 'answer'" in stderr
    html = (out / "report.html").read_text()
    assert 'id="Part-1a:-Small-Jacobians"' in html and 'id="Part-2a:-Small-Heron"' in html
    assert re.search(r'celltag_answer"[^>]*>\s*<p>The Jacobian \$J\$ has <strong>7 columns</strong>', html)
    assert "Ada Lovelace" in html and "d0 is 7" in html
    assert "NOISE" not in html              # the fixture's stderr text; its source spells it apart
    assert not (out / "report.pdf").exists()


def test_html_report_second_render_is_up_to_date(html_build):
    out = html_build["out"]
    status, stdout, _ = html_build["second"]
    assert status == render_stage.UP_TO_DATE and "Rendering" not in stdout
    after = {n: (out / n).stat() for n in REPORT_FILES}
    # write_atomic renames a new file over the old one: a rewrite changes the inode.
    assert {n: (s.st_ino, s.st_mtime_ns) for n, s in after.items()} == \
           {n: (s.st_ino, s.st_mtime_ns) for n, s in html_build["stamps"].items()}

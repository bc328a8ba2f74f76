"""The report pipeline (reportbuild, build_report.sh) on tiny notebooks
in temporary folders, plus checks on the committed notebooks."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from fresh_report import tracked_changes
from system import require

from reportbuild import cli, outfolder
from reportbuild.exit_status import FAILED, NO_PDF, OK, USAGE
from reportbuild.parameters import ParamError, load_quick, read_params
from reportbuild.render.pages import gradescope_line
from reportbuild.run import kernels
from reportbuild.values import resolve

ROOT = Path(__file__).resolve().parents[1]
PARAMS_1A = ("d0: int = 5  # input size\n"
             "tol: float = 1e-8  # tolerance [0..1]\n"
             "flag: bool = False  # print more\n"
             "seed: int = 0  # random seed")


def make_notebook(path, title, params, *cells):
    """Write a notebook: a '# Part' heading, a parameters cell, code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    param_cell = nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]})
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nMath: $\\sigma(A\\mathbf{{x}})$."),
                param_cell, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, str(path))
    return path


ANSWER_1A = "from IPython.display import Markdown, display\ndisplay(Markdown(f\"d0 is {d0}\"))"


@pytest.mark.parametrize("name, value, message", [
    ("nosuch", "1", "no notebook declares a parameter 'nosuch'"),
    ("d00", "1", "did you mean 'd0'"),
    ("d0", "abc", "expected an integer"),
    ("d0", "2.5", "expected an integer"),
    ("d0", "0", "out of range"),
    ("seed", "-1", "out of range"),
    ("tol", "x", "expected a number"),
    ("tol", "2", "out of range"),
    ("flag", "maybe", "expected a bool"),
])
def test_bad_parameter_fails_before_anything_runs(tiny, tmp_path, capsys, name, value, message):
    out = tmp_path / "build"
    assert cli.main(["--notebooks", str(tiny), "--out", str(out), "-p", name, value]) == USAGE
    err = capsys.readouterr().err
    assert message in err and name in err
    assert "nothing was run" in err
    assert not (tiny / "ran-1a.txt").exists() and not out.exists()


def test_parameter_rules(tmp_path):
    path = make_notebook(tmp_path / "1a_t.ipynb", "Part 1a: T",
                         "# heading comment\nd0: int = 5  # input size\nn_small: int = 0  # may be zero\n"
                         "tol: Optional[float] = None  # optional [0..1]\nsizes: list = [1, 2]  # sizes\n"
                         "x = 2.0\n")
    p = {q.name: q for q in read_params(path)}
    assert (p["d0"].lo, p["d0"].comment) == (1, "input size")       # size-like name: >= 1
    assert p["n_small"].lo is None                                   # default 0 overrules the name rule
    assert (p["tol"].kind, p["tol"].nullable, p["tol"].hi) == ("float", True, 1.0)
    assert (p["x"].kind, p["x"].comment) == ("float", "")
    nbs = {"a.ipynb": list(p.values())}
    values, _ = resolve(nbs, {"d0": 3}, [("tol", "none"), ("sizes", "[3]"), ("d0", "4")])
    assert values["a.ipynb"] == {"d0": 4, "n_small": 0, "tol": None, "sizes": [3], "x": 2.0}
    with pytest.raises(ParamError, match="wrong type"):
        resolve(nbs, {"d0": "big"})
    for cell, message in [("d1: int = d0 // 2  # derived", "plain literal"),
                          ("d1: int = (  # open", "not valid Python"),
                          ("tol: float | None = None  # optional", r"Optional\[float\]")]:
        make_notebook(path, "Part 1a: T", cell)
        with pytest.raises(ParamError, match=message):
            read_params(path)


def test_build_script_help_lists_every_parameter_and_exit_status_reaches_the_shell(tmp_path):
    script = str(ROOT / "build_report.sh")
    r = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    quick = load_quick(ROOT / "notebooks")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert path.name in r.stdout
        for p in read_params(path):
            assert f"{p.name}: {p.annotation} = {p.written}" in r.stdout and p.comment in r.stdout
            assert p.range_text() in r.stdout and (p.name not in quick or f"quick: {quick[p.name]!r}" in r.stdout)
    assert "--quick" in r.stdout and "--name" in r.stdout
    r = subprocess.run([script, "--out", tmp_path / "build", "-p", "timing_d", "0"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "timing_d = 0 is out of range" in r.stderr, r.stderr
    assert not (tmp_path / "build").exists()


def test_committed_notebooks_are_clean_and_follow_the_conventions():
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert paths, "no notebooks in notebooks/"
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        label = path.stem.split("_")[0]
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(f"# Part {label}:"), path.name
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and tagged[0].cell_type == "code", f"{path.name}: one parameters cell"
        read_params(path)           # literal defaults, valid Python
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (
                    f"{path.name} has outputs; remove them with .venv/bin/nbstripout --keep-id notebooks/{path.name}")
    # What the git filter strips besides (execution times, ...): nbstripout, started faster (reportbuild.git_filter).
    r = subprocess.run([sys.executable, "-m", "reportbuild.git_filter", "--verify", "--keep-id",
                        *(str(p.relative_to(ROOT)) for p in paths)], cwd=ROOT, capture_output=True, text=True,
                       check=False)
    dirty = re.findall(r"would have stripped (\S+)", r.stdout)
    assert r.returncode == 0 and r.stderr == "", r.stderr or "; ".join(
        f"{name} has outputs or execution metadata; remove them with .venv/bin/nbstripout --keep-id {name}"
        for name in dirty)


def test_timing_notebooks_run_alone_after_the_others(tmp_path):
    """A notebook marked report.run_alone (one that times code) runs in a
    batch of its own, after those that may share the machine."""
    paths = [make_notebook(tmp_path / f"{label}_x.ipynb", f"Part {label}: X", "") for label in ("1a", "1b", "1c", "2a")]
    for path in paths[:2]:
        nb = nbformat.read(str(path), as_version=4)
        nb.metadata["report"] = {"run_alone": True}
        nbformat.write(nb, str(path))
    jobs = [(p, {}) for p in paths]
    assert kernels.batches(jobs) == [[jobs[2], jobs[3]], [jobs[0]], [jobs[1]]]


def test_failing_notebook_names_the_cell_and_keeps_the_previous_report(tiny, tmp_path, monkeypatch, capsys):
    first = nbformat.read(str(tiny / "1a_first.ipynb"), as_version=4)     # 1a without its plot, which
    first.cells = [c for c in first.cells if "matplotlib" not in c.source]  # only slows its kernel here
    nbformat.write(first, str(tiny / "1a_first.ipynb"))
    make_notebook(tiny / "1b_fails.ipynb", "Part 1b: Fails", "k: int = 1  # a number",
                  "y = 2 * k", "z = y / 0")
    make_notebook(tiny / "1c_after.ipynb", "Part 1c: After", "", "open('ran-1c.txt', 'w').close()")
    after = nbformat.read(str(tiny / "1c_after.ipynb"), as_version=4)
    after.metadata["report"] = {"run_alone": True}      # so it would start after 1b's batch
    nbformat.write(after, str(tiny / "1c_after.ipynb"))
    out = tmp_path / "build"
    (out / "notebooks").mkdir(parents=True)
    (out / outfolder.MARK).write_text("")          # a previous report of the tool's
    (out / "notebooks" / "previous.ipynb").write_text("{}")
    old = {name: os.urandom(64) for name in ("report.pdf", "report.html")}
    for name, data in old.items():
        (out / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--notebooks", str(tiny), "--out", str(out)]) == FAILED     # real kernels
    err = capsys.readouterr().err
    assert "1b_fails.ipynb failed in cell 3, which starts" in err and "the cell is In [4]" in err
    assert "ZeroDivisionError" in err and "z = y / 0" in err
    assert "build/failed/1b_fails.ipynb" in err          # relative to the working directory
    assert (out / "failed" / "1b_fails.ipynb").exists()
    assert not (tiny / "ran-1c.txt").exists()           # nothing starts after a failure
    assert not list((out / "cache").glob("1b_fails-*"))  # a failed run is never stored
    assert len(list((out / "cache").glob("1a_first-*"))) == 1    # one that finished is
    for name, data in old.items():
        assert (out / name).read_bytes() == data
    assert [p.name for p in (out / "notebooks").iterdir()] == ["previous.ipynb"]


def test_build_end_to_end(tiny, tmp_path, monkeypatch, capsys):
    """A real build (kernels, XeLaTeX), then a rebuild after a prose edit.
    1a checks one claim (helpers.claims.claim), which the report counts,
    not shows."""
    require("xelatex", "pandoc", "pdfinfo")
    first = nbformat.read(str(tiny / "1a_first.ipynb"), as_version=4)
    first.cells.insert(-1, nbformat.v4.new_code_cell(
        "from helpers.claims import claim\ntext = claim(d0 > 1, f'd0 = {d0} is above one.')"))
    nbformat.write(first, str(tiny / "1a_first.ipynb"))
    sources = {p: p.read_bytes() for p in tiny.glob("*.ipynb")}
    before = tracked_changes()
    out = tmp_path / "build"
    monkeypatch.chdir(ROOT)                     # as ./build_report.sh runs it
    args = ["--notebooks", str(tiny), "--out", str(out), "--quick", "-p", "d0", "7", "--name", "Ada Lovelace"]
    status = cli.main(args)
    printed = capsys.readouterr()
    assert status == OK, printed.err
    assert "  2a_second " in printed.out and "cached" not in printed.out
    assert {p: p.read_bytes() for p in tiny.glob("*.ipynb")} == sources    # sources untouched
    assert tracked_changes() == before
    executed = nbformat.read(str(out / "notebooks" / "1a_first.ipynb"), as_version=4)
    assert executed.metadata.papermill.parameters == {"d0": 7, "tol": 1e-8, "flag": False, "seed": 0}
    merged = (out / "report.ipynb").read_text()
    assert "injected-parameters" not in merged and "NOISE" not in merged
    nb = nbformat.reads(merged, as_version=4)
    assert not [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]   # parameters cells dropped
    assert "d0: int = 5" not in merged and "n_iter: int = 3" not in merged
    repro = nb.cells[-1].source                 # the Reproducibility table: -p beats --quick beats the default
    assert repro.startswith("# Reproducibility")
    assert "**`d0=7`** (default `5`)" in repro and "**`n_iter=1`** (default `3`)" in repro and "`seed=0`" in repro
    assert "This run checked 1 statement against the numbers it computed" in repro and "helpers.claims" in repro
    assert "[checked]" not in merged and "claim+json" not in merged     # counted, not shown
    assert "2a_second.ipynb has no Markdown cell tagged 'answer'" in printed.err
    html = (out / "report.html").read_text()
    assert "Ada Lovelace" in html and "Part 2a: Second" in html and "NOISE" not in html
    assert "d0 is 7" in html
    # Offline: MathJax comes from build/mathjax/, and nothing is loaded from the web
    # (the only web address left is in code that runs for Mermaid diagrams alone).
    config = re.search(r'src="mathjax/MathJax.js\?config=([\w-]+),Safe"', html)
    assert config and (out / "mathjax" / "MathJax.js").exists()
    assert (out / "mathjax" / "config" / f"{config.group(1)}.js").exists()   # MathJax can load it
    assert not re.search(r'src="https?:', html) and "mathjax/2" not in html
    pages = [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(out / "report.pdf"), "-"],
                            capture_output=True, text=True, check=True).stdout
             for i in range(1, 1 + int(_pdf_pages(out / "report.pdf")))]
    text = "\n".join(pages)
    for s in ("Homework 4", "APPM 4720/5720", "Ada Lovelace", "d0=7", "Reproducibility"):
        assert s in text
    assert "Appendix" not in text and "d0 = 7 is above one" not in text
    assert "This run checked 1 statement against" in " ".join(pages[-1].split())       # wrapped lines joined
    assert "Contents" not in text                                           # no table of contents
    assert pages[0].strip().startswith("Homework 4") and "Answers at a glance" in pages[0]   # one first page
    assert "d0 is 7" in pages[0].split("Answers at a glance")[1]
    assert "Gradescope pages: 1a " in printed.out
    page_map = json.loads((out / "pages.json").read_text())
    assert list(page_map) == ["1a", "2a"]
    assert gradescope_line(page_map) in printed.out                         # the line printed is the file's
    starts = [(pg.strip().splitlines() or [""])[0] for pg in pages]
    first = {key: next(i for i, s in enumerate(starts, 1) if s.startswith(heading))   # each on a new page
             for key, heading in (("1a", "Part 1a: First"), ("2a", "Part 2a: Second"),
                                  ("end", "Reproducibility"))}
    assert page_map == {"1a": list(range(first["1a"], first["2a"])),          # every page, none twice
                        "2a": list(range(first["2a"], first["end"]))}
    body = "\n".join(pages[:first["end"] - 1])
    assert "$" not in body                                                  # math is typeset
    assert "NOISE" not in text and "# Parameters" not in text               # no stderr, no injected cell

    # A prose edit: no notebook runs, and the report shows the new text (the
    # HTML: the PDF is made from the same merged notebook, as above).
    (tiny / "ran-1a.txt").unlink()
    nb = nbformat.read(str(tiny / "2a_second.ipynb"), as_version=4)
    nb.cells[0].source += "\n\nA sentence written after the run."
    nbformat.write(nb, str(tiny / "2a_second.ipynb"))
    status = cli.main([*args, "--no-pdf"])
    printed = capsys.readouterr()
    assert status == 0, printed.err
    assert printed.out.count(" cached (computed ") == 2 and not (tiny / "ran-1a.txt").exists()
    html = (out / "report.html").read_text()
    assert "A sentence written after the run." in html and "d0 is 7" in html


def _pdf_pages(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))


def test_missing_tex_still_writes_the_html(tiny, tmp_path, monkeypatch, capsys, fast_builds):
    bin_dir = tmp_path / "bin"          # a PATH with git and python but no xelatex or pandoc
    bin_dir.mkdir()
    for tool in ("git", "python3"):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(bin_dir))
    out = tmp_path / "build"
    assert cli.main(["--notebooks", str(tiny), "--out", str(out), "--quick", "--parts", "2a"]) == NO_PDF
    err = capsys.readouterr().err
    assert "xelatex and pandoc not found" in err and "apt-get install texlive-xetex" in err
    assert (out / "report.html").exists() and not (out / "report.pdf").exists()

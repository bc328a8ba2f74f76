"""Every notebook in notebooks/ runs to the end: the report this test run
builds proves it, at the small sizes of --quick (notebooks/quick.json), or
at the default values when those are the runs stored (``fresh_report``)."""

import re

import nbformat
from conftest import ROOT
from fresh_report import tracked_changes

from reportbuild.executed import ran_with, recorded_run_key
from reportbuild.keys import run_inputs_digest, run_key
from reportbuild.parameters import load_quick, read_params
from reportbuild.parts import find_notebooks
from reportbuild.values import resolve

NOTEBOOKS = ROOT / "notebooks"
PARTS = ["1a", "1b", "1c", "1d", "1e", "1f", "2a", "2b", "2c"]


def values_of(fresh_report):
    """{notebook name: {parameter: value}}: the values the report was built with."""
    paths = find_notebooks(NOTEBOOKS)
    quick = load_quick(NOTEBOOKS) if fresh_report["values"] == "quick" else None
    values, _ = resolve({p.name: read_params(p) for p in paths}, quick)
    return values


def test_every_notebook_runs_to_the_end(fresh_report):
    """``fresh_report`` is ``build_report.sh --quick`` (or a build at the
    default values, when every notebook has a stored run at those and not
    at the --quick ones) from the current code: it succeeded only if every
    notebook ran to the end, now or in a stored run under the same run key
    (its code, its values, helpers/, requirements.txt).  Each executed
    notebook in the report records that key, and it must be the key of the
    notebook as it is now, with the values it ran with; the build must not
    have changed a tracked file (the notebooks in notebooks/ above all)."""
    out, run_inputs = fresh_report["out"], run_inputs_digest()
    expected = values_of(fresh_report)
    for src in find_notebooks(NOTEBOOKS):
        done = out / "notebooks" / src.name
        ran = nbformat.read(str(done), as_version=4)
        _, values = ran_with(done, ran)
        assert values == expected[src.name], src.name
        assert recorded_run_key(ran) == run_key(nbformat.read(str(src), as_version=4), values, run_inputs), src.name
    assert tracked_changes() == fresh_report["tracked_before"], "the build changed tracked files"


def test_all_nine_parts_are_present():
    labels = [p.stem.split("_")[0] for p in find_notebooks(NOTEBOOKS)]
    assert labels == PARTS, f"notebooks/ holds parts {labels}; the report needs {PARTS}"


def test_the_report_names_the_sizes_it_ran_at(fresh_report):
    """A --quick report says it is one (``render.stage``: the title and
    every page) and its prose (Markdown cells and Markdown outputs, the
    Reproducibility table of default values aside) names the sizes it ran
    at: no default size such as part 1f's 8000, no "full size".  A report
    at the default values carries no such stamp, and names part 1f's size."""
    merged = nbformat.read(str(fresh_report["out"] / "report.ipynb"), as_version=4)
    prose = [c.source for c in merged.cells if c.cell_type == "markdown" and "Reproducibility" not in c.source]
    prose += [o.data["text/markdown"] for c in merged.cells if c.cell_type == "code"
              for o in c.outputs if "text/markdown" in o.get("data", {})]
    text = "\n".join(prose)
    size = values_of(fresh_report)["1f_timing.ipynb"]["timing_d"]
    if fresh_report["values"] == "quick":
        assert merged.metadata.report["stamp"] == "quick build: small sizes, not for submission"
        assert size != 8000
        assert not re.search(r"(?<![\d,.])8000(?![\d,])", text), "the quick report names part 1f's default size"
        for words in ("full size", "full-size"):
            assert words not in text, f"the quick report says {words!r}"
    else:
        assert merged.metadata.report["stamp"] == "" and "small sizes" not in text
    assert re.search(rf"d_0 = d_1 = d_2 =\$? (?:{size}|{size:,})(?!\d)", text), "1f does not name its size"

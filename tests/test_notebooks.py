"""Every notebook in notebooks/ runs to the end with the small sizes of
--quick (notebooks/quick.json): the report this test run builds proves it."""

import re

import nbformat
from conftest import ROOT, tracked_changes

from reportbuild.executed import ran_with, recorded_run_key
from reportbuild.keys import run_inputs_digest, run_key
from reportbuild.parameters import load_quick, read_params
from reportbuild.parts import find_notebooks
from reportbuild.values import resolve

NOTEBOOKS = ROOT / "notebooks"
PARTS = ["1a", "1b", "1c", "1d", "1e", "1f", "2a", "2b", "2c"]


def test_every_notebook_runs_with_small_sizes(fresh_report):
    """``fresh_report`` is ``build_report.sh --quick`` from the current code:
    it succeeded only if every notebook ran to the end, now or in a stored
    run under the same run key (its code, its values, helpers/,
    requirements.txt).  Each executed notebook in the report records that
    key, and it must be the key of the notebook as it is now, with the
    --quick values it ran with; the build must not have changed a tracked
    file (the notebooks in notebooks/ above all)."""
    out, run_inputs = fresh_report["out"], run_inputs_digest()
    paths = find_notebooks(NOTEBOOKS)
    quick, _ = resolve({p.name: read_params(p) for p in paths}, load_quick(NOTEBOOKS))
    for src in paths:
        done = out / "notebooks" / src.name
        ran = nbformat.read(str(done), as_version=4)
        _, values = ran_with(done, ran)
        assert values == quick[src.name], src.name
        assert recorded_run_key(ran) == run_key(nbformat.read(str(src), as_version=4), values, run_inputs), src.name
    assert tracked_changes() == fresh_report["tracked_before"], "the build changed tracked files"


def test_all_nine_parts_are_present():
    labels = [p.stem.split("_")[0] for p in find_notebooks(NOTEBOOKS)]
    assert labels == PARTS, f"notebooks/ holds parts {labels}; the report needs {PARTS}"


def test_a_quick_report_names_the_sizes_it_ran_at(fresh_report):
    """The --quick report says it is one (``render.stage``: the title and
    every page) and its prose (Markdown cells and Markdown outputs, the
    Reproducibility table of default values aside) names the sizes it ran
    at: no default size such as part 1f's 8000, no "full size"."""
    merged = nbformat.read(str(fresh_report["out"] / "report.ipynb"), as_version=4)
    assert merged.metadata.report["stamp"] == "quick build: small sizes, not for submission"
    prose = [c.source for c in merged.cells if c.cell_type == "markdown" and "Reproducibility" not in c.source]
    prose += [o.data["text/markdown"] for c in merged.cells if c.cell_type == "code"
              for o in c.outputs if "text/markdown" in o.get("data", {})]
    text = "\n".join(prose)
    quick = load_quick(NOTEBOOKS)
    assert quick["timing_d"] != 8000
    assert not re.search(r"(?<![\d,.])8000(?![\d,])", text), "the quick report names part 1f's default size"
    for words in ("full size", "full-size"):
        assert words not in text, f"the quick report says {words!r}"
    assert re.search(rf"d_0 = d_1 = d_2 =\$? {quick['timing_d']}(?!\d)", text), "1f does not name its size"

"""Every notebook in notebooks/ runs, with the small sizes of --quick
(notebooks/quick.json), through the report's own runner (no PDF).
Executed copies go to a temporary folder; the notebooks run in
notebooks/, as in a real build."""

import subprocess
from pathlib import Path

from helpers.report import runner
from helpers.report.params import find_notebooks, load_quick, read_params
from helpers.report.values import resolve

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PARTS = ["1a", "1b", "1c", "1d", "1e", "1f", "2a", "2b", "2c"]


def test_every_notebook_runs_with_small_sizes(tmp_path):
    paths = find_notebooks(NOTEBOOKS)
    assert paths, "no notebooks in notebooks/"
    declared = {p.name: read_params(p) for p in paths}
    values, _ = resolve(declared, load_quick(NOTEBOOKS))        # the sizes of --quick
    status = ["git", "status", "--porcelain", "--untracked-files=no"]
    before = subprocess.run(status, cwd=ROOT, capture_output=True, text=True).stdout
    failures = []
    for path in paths:                  # one at a time, so that every failure is reported
        try:
            runner.execute([(path, values[path.name])], tmp_path, log=lambda *a, **k: None)
        except runner.NotebookFailed as e:
            failures.append(str(e))
    assert not failures, "\n\n".join(failures)
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in paths]
    after = subprocess.run(status, cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before, "running the notebooks changed tracked files"


def test_all_nine_parts_are_present():
    labels = [p.stem.split("_")[0] for p in find_notebooks(NOTEBOOKS)]
    assert labels == PARTS, f"notebooks/ holds parts {labels}; the report needs {PARTS}"

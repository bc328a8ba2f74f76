"""Every notebook in notebooks/ runs to the end, with the small sizes of
--quick (notebooks/quick.json) or its defaults."""

import subprocess
from pathlib import Path

import nbformat

from reportbuild.keys import run_inputs_digest, run_key
from reportbuild.parameters import load_quick, read_params
from reportbuild.parts import find_notebooks
from reportbuild.run import cache, kernels
from reportbuild.values import resolve

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
PARTS = ["1a", "1b", "1c", "1d", "1e", "1f", "2a", "2b", "2c"]


def proven(path, value_sets, run_inputs):
    """True when build/cache holds a run of notebook ``path`` with one of
    ``value_sets`` ([{name: value}]) under the current code and run inputs."""
    nb = nbformat.read(str(path), as_version=4)
    return any(cache.entry(BUILD, path, run_key(nb, values, run_inputs)).exists()
               for values in value_sets)


def test_every_notebook_runs_with_small_sizes(tmp_path):
    """A run stored in build/cache proves a notebook runs: the build stores
    one only after it ran to the end, under a key of its code, its parameter
    values, helpers/ and requirements.txt (``keys.run_key``).  So a
    notebook with an entry for its --quick values or its defaults passes as
    it is (CI runs ./build_report.sh --quick just before the tests).  The
    others run here, through the report's runner with the --quick values,
    two at a time in notebooks/ as in a real build (copies go to tmp_path);
    the first failure is reported, and they must not change tracked files."""
    paths = find_notebooks(NOTEBOOKS)
    assert paths, "no notebooks in notebooks/"
    declared = {p.name: read_params(p) for p in paths}
    quick, _ = resolve(declared, load_quick(NOTEBOOKS))
    defaults, _ = resolve(declared)
    run_inputs = run_inputs_digest()
    todo = [(p, quick[p.name]) for p in paths
            if not proven(p, [quick[p.name], defaults[p.name]], run_inputs)]
    if not todo:
        return
    status = ["git", "status", "--porcelain", "--untracked-files=no"]
    before = subprocess.run(status, cwd=ROOT, capture_output=True, text=True).stdout
    failure = None
    try:
        kernels.execute(todo, tmp_path, log=lambda *a, **k: None)
    except kernels.NotebookFailed as e:
        failure = str(e)
    assert failure is None, failure
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p, _ in todo]
    after = subprocess.run(status, cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before, "running the notebooks changed tracked files"


def test_all_nine_parts_are_present():
    labels = [p.stem.split("_")[0] for p in find_notebooks(NOTEBOOKS)]
    assert labels == PARTS, f"notebooks/ holds parts {labels}; the report needs {PARTS}"

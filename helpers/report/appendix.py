"""The appendix: the source of the modules that answer the homework, one
code cell per file, and where the rest of the package lives.

Code cells (not fenced Markdown) because nbconvert's LaTeX output
highlights them and wraps their long lines instead of cutting them off.
"""

from pathlib import Path

import nbformat

PACKAGE = Path(__file__).resolve().parents[1]     # helpers/
APPENDIX_TAG = "report-appendix"
APPENDIX_HEADING = "Appendix: the code that answers the homework"

# The modules the answers rest on, in the order of the parts.
ANSWER_MODULES = ["model.py", "jacobians.py", "torch_reference.py", "forward_mode.py",
                  "reverse_mode.py", "heron.py"]


def source_files(package=PACKAGE):
    """The files of ANSWER_MODULES, in that order (those that exist)."""
    return [package / name for name in ANSWER_MODULES if (package / name).exists()]


def other_modules(package=PACKAGE):
    """The package's other public .py files (report tooling and the private
    ``_*.py`` ones excluded), as 'helpers/x.py'."""
    shown = {f.name for f in source_files(package)}
    return sorted(f"{package.name}/{f.relative_to(package).as_posix()}" for f in package.glob("*.py")
                  if f.name not in shown and not f.name.startswith("_"))


def appendix_cells(package=PACKAGE):
    """A heading and a note, then a heading and a code cell for every file."""
    others = ", ".join(f"`{name}`" for name in other_modules(package))
    cells = [nbformat.v4.new_markdown_cell(
        f"# {APPENDIX_HEADING}\n\n"
        f"The modules of the `{package.name}` package that compute the answers, in full: the "
        "function and its inputs, the Jacobians of 1a, the PyTorch reference, forward and "
        "reverse mode, and Heron's method with both derivatives. Two small functions they call: "
        f"`array_module(x)` (in `{package.name}/_arrays.py`) returns `numpy` or `torch`, "
        "whichever `x` belongs to, and `check_count(name, n, minimum=1)` "
        f"(in `{package.name}/_checks.py`) returns `n` when it is an integer of at least "
        "`minimum` and otherwise raises an error that names it. "
        f"The rest of the package, in the same folder, measures, tabulates and plots: {others}; "
        f"`{package.name}/report/` builds this report.")]
    for f in source_files(package):
        rel = f"{package.name}/{f.relative_to(package).as_posix()}"
        code = f.read_text(encoding="utf-8").rstrip("\n") or "# (empty file)"
        cells.append(nbformat.v4.new_markdown_cell(f"## `{rel}`"))
        cells.append(nbformat.v4.new_code_cell(code, metadata={"tags": [APPENDIX_TAG]}))
    return cells

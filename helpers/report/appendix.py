"""The appendix: the source of the helpers package, one code cell per file.

Code cells (not fenced Markdown) because nbconvert's LaTeX output
highlights them and wraps their long lines instead of cutting them off.
The report-building code (helpers/report/) is left out: it is tooling,
not part of the solution.
"""

from pathlib import Path

import nbformat

PACKAGE = Path(__file__).resolve().parents[1]     # helpers/
APPENDIX_TAG = "report-appendix"
APPENDIX_HEADING = f"Appendix: source of the `{PACKAGE.name}` package"


# The modules the answers rest on come first, in the order of the parts;
# every other module follows alphabetically.
FIRST = ["model.py", "jacobians.py", "torch_reference.py", "forward_mode.py",
         "reverse_mode.py", "complexity.py", "scaling.py", "timing_study.py", "heron.py"]


def source_files(package=PACKAGE):
    """The package's .py files: those of FIRST in that order, then the rest."""
    files = [f for f in package.rglob("*.py")
             if "report" not in f.relative_to(package).parts[:-1] and "__pycache__" not in f.parts]
    rank = {name: k for k, name in enumerate(FIRST)}
    return sorted(files, key=lambda f: (f.relative_to(package).parent.parts,
                                        rank.get(f.name, len(FIRST)), f.name))


def appendix_cells(package=PACKAGE):
    """A heading, then a heading and a code cell for every source file."""
    cells = [nbformat.v4.new_markdown_cell(
        f"# {APPENDIX_HEADING}\n\n"
        "The notebooks import these modules; they are listed here in full.")]
    for f in source_files(package):
        rel = f"{package.name}/{f.relative_to(package).as_posix()}"
        code = f.read_text(encoding="utf-8").rstrip("\n")
        if not code:
            code = "# (empty file)"
        cells.append(nbformat.v4.new_markdown_cell(f"## `{rel}`"))
        cells.append(nbformat.v4.new_code_cell(code, metadata={"tags": [APPENDIX_TAG]}))
    return cells

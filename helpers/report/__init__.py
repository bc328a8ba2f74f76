"""Building the report: run the notebooks, merge them, render PDF and HTML.

Two stages, with the executed notebooks in ``build/notebooks`` between them:

run
    params        what each notebook's `parameters` cell declares
    values        -p / quick.json values: parsing, type and range checks
    cache         what a notebook's outputs depend on; stored runs
    runner        executing notebooks with papermill
    run_stage     which notebooks run, which outputs are reused
render
    merge         one clean notebook from the executed parts
    title         title-page data: report.toml, student name
    provenance    commit, machine and package versions, for Reproducibility
    render        HTML and PDF (nbconvert templates, XeLaTeX), atomic writes
    pages         the PDF's page map (pages.json, the Gradescope line)
    render_stage  the report, unless its inputs are unchanged

cli ties them together (``python -m helpers.report --help``).
"""

import sys

# nbformat validates with jsonschema, which on import compiles the grammar of
# its optional IRI format checker (rfc3987_syntax) when that is installed:
# over a second of every build process and notebook worker, for a format the
# notebook schema never uses.  A None entry makes that optional import fail
# as if the package were absent, which jsonschema allows for.
sys.modules.setdefault("rfc3987_syntax", None)
